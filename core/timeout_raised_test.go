package core_test

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/cpex-go/cpex/core"
	"github.com/cpex-go/cpex/core/config"
)

// A TimeoutError a plugin raises itself (its own asyncio.wait_for) is reported as
// OutcomeTimeoutRaised; the run treats it exactly as the executor's timeout, as upstream
// 0.1.x does (it catches asyncio.TimeoutError around the call, whoever raised it).

func raisedTimeout(i int) *core.Outcome {
	return &core.Outcome{Index: i, Status: core.OutcomeTimeoutRaised, Message: "TimeoutError('own')", DurationNs: 4}
}

func TestRaisedTimeoutIsTheExecutorTimeout(t *testing.T) {
	for _, mode := range []config.Mode{config.ModeSequential, config.ModeTransform, config.ModeConcurrent} {
		t.Run(string(mode)+"/fail", func(t *testing.T) {
			e := core.NewExecutor(30, core.PolicyAllow)
			p := core.NewPlan(core.HookToolPreInvoke, refs(refDef{name: "w", mode: mode}), nil, false, false)
			_, step, _ := drive(t, e, p, core.Facts{}, raisedTimeout(0))
			require.Equal(t, core.OpRaise, step.Op)
			assert.Equal(t, core.RaiseTimeout, step.Raise().Kind)
			assert.Equal(t, "Plugin w exceeded 30s timeout", step.Raise().Message)
		})
		for _, onErr := range []config.OnError{config.OnErrorIgnore, config.OnErrorDisable} {
			t.Run(string(mode)+"/"+string(onErr), func(t *testing.T) {
				e := core.NewExecutor(30, core.PolicyAllow)
				p := core.NewPlan(core.HookToolPreInvoke, refs(refDef{name: "w", mode: mode, onError: onErr}, refDef{name: "next", prio: 200}), nil, false, false)
				outcomes := []*core.Outcome{raisedTimeout(0), ok(1)}
				if mode != config.ModeSequential { // the sequential "next" runs first then
					outcomes[0], outcomes[1] = outcomes[1], outcomes[0]
				}
				_, step, _ := drive(t, e, p, core.Facts{}, outcomes...)
				require.Equal(t, core.OpDone, step.Op)
				assert.True(t, step.Done().Continue, "the run goes on")
				require.Len(t, recordsOf(step), 2)
				rec := recordsOf(step)[0]
				if rec.PluginName != "w" {
					rec = recordsOf(step)[1]
				}
				assert.Equal(t, core.StatusTimeout, rec.Status)
				assert.Equal(t, "plugin_timeout", *rec.ErrorCode)
				assert.Equal(t, "Plugin w exceeded 30s timeout", *rec.Reason)
				if onErr == config.OnErrorDisable {
					assert.Equal(t, []string{"w"}, e.RuntimeDisabled())
				} else {
					assert.Empty(t, e.RuntimeDisabled())
				}
			})
		}
	}
}

func TestRaisedTimeoutInSingleRuns(t *testing.T) {
	e := core.NewExecutor(0.5, core.PolicyAllow)
	run, _ := e.StartSingle(refs(refDef{name: "s", onError: config.OnErrorIgnore})[0], &core.Facts{}, true, true)
	step, err := run.Report(raisedTimeout(0))
	require.NoError(t, err)
	assert.Equal(t, core.RaisePluginTimeout, step.Raise().Kind, "ignore: upstream's PluginTimeoutError")
	assert.Equal(t, "Plugin s exceeded 0.5s timeout", step.Raise().Message)

	run, _ = e.StartSingle(refs(refDef{name: "f"})[0], &core.Facts{}, true, true)
	step, err = run.Report(raisedTimeout(0))
	require.NoError(t, err)
	assert.Equal(t, core.RaiseTimeout, step.Raise().Kind)
	assert.Equal(t, "Plugin f exceeded 0.5s timeout", step.Raise().Message)
}

func TestRaisedTimeoutEndsABatchAndStatusRange(t *testing.T) {
	e := core.NewExecutor(30, core.PolicyAllow)
	p := core.NewPlan(core.HookToolPreInvoke, refs(refDef{name: "a", prio: 1}, refDef{name: "b", prio: 2, onError: config.OnErrorIgnore}), nil, false, false)
	run, step := e.Start(p, &core.Facts{})
	require.Equal(t, core.OpCall, step.Op)
	step, err := run.ReportBatch([]core.Outcome{*ok(0), *raisedTimeout(1)})
	require.NoError(t, err)
	require.Equal(t, core.OpDone, step.Op)
	assert.Equal(t, core.StatusTimeout, recordsOf(step)[1].Status)

	run, _ = e.Start(p, &core.Facts{})
	_, err = run.Report(&core.Outcome{Index: 0, Status: core.OutcomeTimeoutRaised + 1})
	assert.ErrorIs(t, err, core.ErrBadOutcome)
}
