package core_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/cpex-go/cpex/core"
	"github.com/cpex-go/cpex/core/config"
)

// Go plugins inside a foreign run: go steps (docs/protocol.md).

type goFn func(ctx context.Context, hook string, p *core.Payload, pc *core.PluginContext) (*core.Result, error)

func (f goFn) Invoke(ctx context.Context, hook string, p *core.Payload, pc *core.PluginContext) (*core.Result, error) {
	return f(ctx, hook, p, pc)
}

func goRef(name string, mode config.Mode, prio int, f goFn) *core.Ref {
	return core.NewRef(core.RefSpec{Name: name, Kind: "builtin/x", Mode: mode, Priority: prio, OnError: config.OnErrorFail, Plugin: f})
}

func pyRef(name string, mode config.Mode, prio int) *core.Ref {
	return core.NewRef(core.RefSpec{Name: name, Kind: "mod.X", Mode: mode, Priority: prio, OnError: config.OnErrorFail})
}

func TestExecGoSerialBatch(t *testing.T) {
	var sawFacts *core.PluginContext
	rename := goFn(func(_ context.Context, _ string, p *core.Payload, pc *core.PluginContext) (*core.Result, error) {
		sawFacts = pc
		v, _ := p.Value()
		out := map[string]any{}
		for k, x := range v.(map[string]any) {
			out[k] = x
		}
		out["name"], out["args"] = "go", map[string]any{"q": "go"}
		return &core.Result{ModifiedPayload: out, Metadata: map[string]any{"go": 1, core.DecisionPluginKey: "x"}}, nil
	})
	blocker := goFn(func(_ context.Context, _ string, p *core.Payload, _ *core.PluginContext) (*core.Result, error) {
		if p.Field("args").(map[string]any)["q"] != "go" {
			return nil, errors.New("the second Go plugin sees the first one's payload")
		}
		return &core.Result{Block: true, Violation: &core.Violation{Reason: "r", Code: "C"}}, nil
	})
	rs := []*core.Ref{pyRef("py", config.ModeSequential, 1), goRef("g1", config.ModeSequential, 2, rename), goRef("g2", config.ModeSequential, 3, blocker), pyRef("never", config.ModeSequential, 4)}
	e := core.NewExecutor(30, core.PolicyAllow)
	p := e.Plan(core.HookToolPreInvoke, rs, []string{"args"}, true)
	assert.True(t, p.HasGo())
	srv := "srv"
	run, step := e.Start(p, &core.Facts{RequestID: "r", ServerID: &srv, UserKeys: []string{"email"}, UserIsKeys: true, UserSet: true})
	assert.Equal(t, core.OpCall, step.Op)
	_, err := core.ExecGo(context.Background(), run, core.NewPayloadJSON([]byte(`{}`)), &core.GoEffects{})
	assert.ErrorIs(t, err, core.ErrBadOutcome, "no go step is pending")
	step, err = run.Report(ok(0))
	require.NoError(t, err)
	require.Equal(t, core.OpGo, step.Op, "core answers the Go plugins that come next with a go step")
	assert.Equal(t, core.GoStep{Indices: []int{1, 2}}, *step.Go())
	_, err = run.Report(ok(1))
	assert.ErrorIs(t, err, core.ErrBadOutcome, "a go step is answered by ExecGo, not by an outcome")
	_, err = run.ReportBatch([]core.Outcome{*ok(1)})
	assert.ErrorIs(t, err, core.ErrBadOutcome)
	var eff core.GoEffects
	step, err = core.ExecGo(context.Background(), run, core.NewPayloadJSON([]byte(`{"name":"t","args":{"q":"x"}}`)), &eff)
	require.NoError(t, err)
	require.Equal(t, core.OpDone, step.Op)
	d := step.Done()
	assert.False(t, d.Continue)
	assert.Equal(t, 2, d.ViolationIndex)
	assert.True(t, d.Payload)
	assert.Equal(t, []int{1, 2}, eff.Ran)
	assert.Equal(t, map[string]any{"go": 1}, eff.Meta)
	require.NotNil(t, eff.Payload)
	assert.Equal(t, "t", eff.Payload.Field("name"), "the policy kept only args")
	assert.Equal(t, "g2", eff.Violations[2].PluginName)
	assert.Contains(t, eff.Logs[0].Message, "Policy rejected modifications to non-writable fields: ['name']")
	assert.Equal(t, "r", sawFacts.RequestID)
	assert.Equal(t, "srv", sawFacts.ServerID)
	assert.Equal(t, map[string]any{"email": nil}, sawFacts.User)
	_, err = core.ExecGo(context.Background(), run, core.NewPayloadJSON([]byte(`{}`)), &eff)
	assert.ErrorIs(t, err, core.ErrRunFinished)
}

func TestExecGoConcurrentThenForeign(t *testing.T) {
	allow := goFn(func(context.Context, string, *core.Payload, *core.PluginContext) (*core.Result, error) {
		return &core.Result{Metadata: map[string]any{"c": true}, ModifiedPayload: map[string]any{"ignored": 1}}, nil
	})
	raise := goFn(func(context.Context, string, *core.Payload, *core.PluginContext) (*core.Result, error) {
		return nil, &core.ViolationError{Message: "raised", Violation: &core.Violation{Reason: "why", Code: "V"}}
	})
	e := core.NewExecutor(30, core.PolicyAllow)
	rs := []*core.Ref{goRef("gc", config.ModeConcurrent, 1, allow), pyRef("pc", config.ModeConcurrent, 2), goRef("g-seq", config.ModeSequential, 1, allow)}
	p := e.Plan(core.HookToolPreInvoke, rs, nil, false)
	run, step := e.Start(p, &core.Facts{Pool: 1})
	require.Equal(t, core.OpGo, step.Op)
	require.Equal(t, core.GoStep{Indices: []int{2}}, *step.Go())
	var eff core.GoEffects
	step, err := core.ExecGo(context.Background(), run, core.NewPayloadJSON([]byte(`{"name":"t"}`)), &eff)
	require.NoError(t, err)
	require.Equal(t, core.OpGo, step.Op, "the concurrent phase has a Go plugin")
	assert.Equal(t, core.GoStep{Indices: []int{0}, Concurrent: true}, *step.Go())
	eff = core.GoEffects{}
	step, err = core.ExecGo(context.Background(), run, core.NewPayloadJSON([]byte(`{"name":"t"}`)), &eff)
	require.NoError(t, err)
	require.Equal(t, core.OpConcurrent, step.Op)
	assert.Equal(t, []int{1}, step.Concurrent().Indices, "only the foreign plugin is left to start")
	step, err = run.Report(ok(1))
	require.NoError(t, err)
	require.Equal(t, core.OpDone, step.Op)
	assert.Len(t, step.Done().Records, 3)

	// A Go plugin that raises a violation error in the concurrent phase.
	rs = []*core.Ref{goRef("gr", config.ModeConcurrent, 1, raise), goRef("ga", config.ModeConcurrent, 2, allow)}
	run, step = e.Start(e.Plan(core.HookToolPreInvoke, rs, nil, false), &core.Facts{})
	eff = core.GoEffects{}
	for step.Op == core.OpGo {
		step, err = core.ExecGo(context.Background(), run, core.NewPayloadJSON([]byte(`{}`)), &eff)
		require.NoError(t, err)
	}
	require.Equal(t, core.OpRaise, step.Op)
	assert.Equal(t, core.RaiseViolation, step.Raise().Kind)
	assert.Equal(t, "gr", eff.Violations[0].PluginName)

	_, err = core.ExecGo(context.Background(), run, nil, &eff)
	assert.ErrorIs(t, err, core.ErrRunFinished)
	run, _ = e.Start(e.Plan(core.HookToolPreInvoke, []*core.Ref{pyRef("p", config.ModeSequential, 1)}, nil, false), &core.Facts{})
	_, err = core.ExecGo(context.Background(), run, nil, &eff)
	assert.ErrorIs(t, err, core.ErrBadOutcome, "not a go step")
}

func TestCallPlugin(t *testing.T) {
	f := goFn(func(ctx context.Context, hook string, p *core.Payload, pc *core.PluginContext) (*core.Result, error) {
		switch hook {
		case "slow":
			<-ctx.Done()
			return nil, ctx.Err()
		case "err":
			return nil, errors.New("bad")
		case "panic":
			panic("p")
		}
		return &core.Result{RetryDelayMs: 4}, nil
	})
	res, err := core.CallPlugin(context.Background(), f, "ok", core.NewPayloadJSON([]byte(`{}`)), &core.PluginContext{}, 0)
	require.NoError(t, err)
	assert.Equal(t, 4, res.RetryDelayMs)
	_, err = core.CallPlugin(context.Background(), f, "slow", nil, nil, time.Millisecond)
	assert.ErrorIs(t, err, context.DeadlineExceeded)
	_, err = core.CallPlugin(context.Background(), f, "err", nil, nil, 0)
	assert.EqualError(t, err, "bad")
	_, err = core.CallPlugin(context.Background(), f, "panic", nil, nil, 0)
	assert.EqualError(t, err, "panic: p")
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err = core.CallPlugin(ctx, f, "slow", nil, nil, time.Hour)
	assert.ErrorIs(t, err, context.Canceled, "the parent's cancellation reaches the plugin")
	ctx = context.WithValue(context.Background(), ctxKey{}, "v")
	_, err = core.CallPlugin(ctx, goFn(func(c context.Context, _ string, _ *core.Payload, _ *core.PluginContext) (*core.Result, error) {
		if c.Value(ctxKey{}) != "v" {
			return nil, errors.New("values pass through")
		}
		if c.Err() != nil {
			return nil, c.Err()
		}
		return nil, nil
	}), "h", nil, nil, time.Hour)
	assert.NoError(t, err)
}

type ctxKey struct{}

// A dict user's scalar values (facts from the foreign driver) reach the Go plugins of
// the run; keys without a value read nil, as with the keys-only facts of older drivers.
func TestForeignContextCarriesDictUserValues(t *testing.T) {
	cases := []struct {
		name   string
		values map[string]any
		want   map[string]any
	}{
		{"keys only", nil, map[string]any{"email": nil, "roles": nil}},
		{"with values", map[string]any{"email": "a@x"}, map[string]any{"email": "a@x", "roles": nil}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var saw any
			g := goFn(func(_ context.Context, _ string, _ *core.Payload, pc *core.PluginContext) (*core.Result, error) {
				saw = pc.User
				return nil, nil
			})
			e := core.NewExecutor(30, core.PolicyAllow)
			p := e.Plan(core.HookToolPreInvoke, []*core.Ref{goRef("g", config.ModeSequential, 1, g)}, nil, false)
			run, step := e.Start(p, &core.Facts{RequestID: "r", UserKeys: []string{"email", "roles"}, UserValues: tc.values, UserIsKeys: true, UserSet: true})
			require.Equal(t, core.OpGo, step.Op)
			var eff core.GoEffects
			step, err := core.ExecGo(context.Background(), run, core.NewPayloadJSON([]byte(`{"name":"t","args":{}}`)), &eff)
			require.NoError(t, err)
			assert.Equal(t, core.OpDone, step.Op)
			assert.Equal(t, tc.want, saw)
		})
	}
}
