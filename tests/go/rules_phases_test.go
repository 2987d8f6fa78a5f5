package core_test

// Spec §11.1–§11.3, §11.6, §11.7, §11.9 and the matching §30 quirks.

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/cpex-go/cpex/core"
)

// §11.1.1 / §30.1: no hook refs → allow, nil table, no records.
func TestRuleNoPluginsForHook(t *testing.T) {
	id, rec := newRecorder()
	m := newManager(t, id, []plugin{{name: "p", hooks: "[tool_post_invoke]"}})
	res, table := invoke(t, m, "tool_pre_invoke", toolPayload("t", nil), gctx("r1"), nil)
	assert.True(t, res.ContinueProcessing)
	assert.Nil(t, res.ModifiedPayload)
	assert.Nil(t, res.Violation)
	assert.Empty(t, res.Executions)
	assert.Nil(t, table, "the table is None when no plugin is registered for the hook")
	assert.Empty(t, rec.all())
	assert.False(t, m.HasHooksFor("tool_pre_invoke"))
	assert.True(t, m.HasHooksFor("tool_post_invoke"))
}

// §30.1 / §30.15: only a disabled plugin → it is never loaded; same as no refs.
func TestRuleDisabledPluginIsNeverLoaded(t *testing.T) {
	id, rec := newRecorder()
	m := newManager(t, id, []plugin{{name: "off", mode: "disabled"}})
	assert.Equal(t, 0, m.PluginCount())
	assert.Empty(t, m.PluginNames())
	assert.False(t, m.HasHooksFor("tool_pre_invoke"))
	res, table := invoke(t, m, "tool_pre_invoke", toolPayload("t", nil), gctx("r1"), nil)
	assert.True(t, res.ContinueProcessing)
	assert.Nil(t, table)
	assert.Empty(t, rec.all())
}

// §30.1 / §13.2: refs exist but all are filtered out → the table is empty, not nil.
func TestRuleAllFilteredGivesEmptyTable(t *testing.T) {
	id, rec := newRecorder()
	m := newManager(t, id, []plugin{{name: "p", extra: "conditions: [{tools: [other]}]"}})
	res, table := invoke(t, m, "tool_pre_invoke", toolPayload("t", nil), gctx("r1"), nil)
	assert.True(t, res.ContinueProcessing)
	assert.NotNil(t, table)
	assert.Empty(t, table)
	assert.Empty(t, res.Executions)
	assert.Empty(t, rec.all())
}

// §11.1.2 / §30.13: the payload-size guard.
func TestRulePayloadSizeGuard(t *testing.T) {
	big := strings.Repeat("a", 600_000)
	cases := []struct {
		name    string
		payload map[string]any
		errMsg  string // "" = runs
	}{
		{"args at the limit", map[string]any{"name": "t", "args": map[string]any{"a": strings.Repeat("a", 1_000_000)}}, ""},
		{"args over the limit (sum of values)", map[string]any{"name": "t", "args": map[string]any{"a": big, "b": big}},
			"Payload size 1200000 exceeds limit of 1000000 bytes"},
		{"result over the limit", map[string]any{"name": "t", "result": big + big},
			"Result size 1200000 exceeds limit of 1000000 bytes"},
		{"empty args fall through to result", map[string]any{"name": "t", "args": map[string]any{}, "result": big + big},
			"Result size 1200000 exceeds limit of 1000000 bytes"},
		{"truthy args win over a big result", map[string]any{"name": "t", "args": map[string]any{"a": "x"}, "result": big + big}, ""},
		{"other fields are not checked", map[string]any{"name": big + big}, ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			id, rec := newRecorder()
			m := newManager(t, id, []plugin{{name: "p"}})
			_, _, err := m.InvokeHook(context.Background(), "tool_pre_invoke", core.NewPayloadValue(c.payload), gctx("r"), nil)
			if c.errMsg == "" {
				require.NoError(t, err)
				assert.Len(t, rec.all(), 1)
				return
			}
			var se *core.PayloadSizeError
			require.ErrorAs(t, err, &se)
			assert.Equal(t, c.errMsg, se.Error())
			assert.Empty(t, rec.all(), "no plugin runs")
		})
	}
}

// §0.3 / §11.1: phases run sequential → transform → audit → concurrent → fire_and_forget,
// whatever the priorities across modes.
func TestRulePhaseOrder(t *testing.T) {
	id, rec := newRecorder()
	m := newManager(t, id, []plugin{
		{name: "faf", mode: "fire_and_forget", priority: 1},
		{name: "conc", mode: "concurrent", priority: 2},
		{name: "aud", mode: "audit", priority: 3},
		{name: "tr", mode: "transform", priority: 4},
		{name: "seq", mode: "sequential", priority: 5},
	})
	res, _ := invoke(t, m, "tool_pre_invoke", toolPayload("t", nil), gctx("r"), nil)
	waitBackground(t, res)
	assert.Equal(t, []string{"seq", "tr", "aud", "conc", "faf"}, recordNames(res))
	assert.Equal(t, []string{"seq", "tr", "aud", "conc", "faf"}, rec.names())
}

// §0.3 / §30.31: priority ascending within a mode; ties keep config order.
func TestRulePriorityOrderStable(t *testing.T) {
	id, rec := newRecorder()
	m := newManager(t, id, []plugin{
		{name: "c", priority: 50},
		{name: "a"}, // default 100
		{name: "b", priority: 10},
		{name: "d", priority: 50},
		{name: "e", priority: 100},
		{name: "f", priority: -1},
	})
	invoke(t, m, "tool_pre_invoke", toolPayload("t", nil), gctx("r"), nil)
	assert.Equal(t, []string{"f", "b", "c", "d", "a", "e"}, rec.names())
}

// §11.2 / §11.3: sequential and transform modifications chain; audit sees the chain,
// its modification is discarded; concurrent sees the seq+transform result.
func TestRuleChainingAcrossPhases(t *testing.T) {
	id, rec := newRecorder()
	m := newManager(t, id, []plugin{
		{name: "s1", priority: 1, script: "set: {args: {step: s1}}"},
		{name: "s2", priority: 2, script: "set: {name: renamed}"},
		{name: "t1", mode: "transform", script: "set: {args: {step: t1}}"},
		{name: "a1", mode: "audit", script: "set: {args: {step: audit}}"},
		{name: "c1", mode: "concurrent", script: "set: {args: {step: conc}}"},
	})
	res, _ := invoke(t, m, "tool_pre_invoke", toolPayload("orig", map[string]any{"step": "none"}), gctx("r"), nil)
	assert.Equal(t, "none", rec.byName("s1")[0].Payload["args"].(map[string]any)["step"])
	assert.Equal(t, "s1", rec.byName("s2")[0].Payload["args"].(map[string]any)["step"], "s2 sees s1's change")
	assert.Equal(t, "renamed", rec.byName("t1")[0].Payload["name"])
	assert.Equal(t, "t1", rec.byName("a1")[0].Payload["args"].(map[string]any)["step"], "audit sees the transform output")
	assert.Equal(t, "t1", rec.byName("c1")[0].Payload["args"].(map[string]any)["step"], "concurrent sees seq+transform, not audit")
	out := payloadMap(t, res.ModifiedPayload)
	assert.Equal(t, "renamed", out["name"])
	assert.Equal(t, map[string]any{"step": "t1"}, out["args"], "audit and concurrent changes are discarded")
}

// §11.1.14: no accepted modification → modified_payload None.
func TestRuleNoModificationGivesNilPayload(t *testing.T) {
	id, _ := newRecorder()
	m := newManager(t, id, []plugin{{name: "a"}, {name: "b", mode: "transform"}})
	res, _ := invoke(t, m, "tool_pre_invoke", toolPayload("t", nil), gctx("r"), nil)
	assert.Nil(t, res.ModifiedPayload)
	assert.True(t, res.ContinueProcessing)
}

// §11.7 / §30.2: a sequential halt.
func TestRuleSequentialHalt(t *testing.T) {
	id, rec := newRecorder()
	m := newManager(t, id, []plugin{
		{name: "before", priority: 1, script: "set: {args: {x: 1}}, retry: 500, metadata: {m1: a}"},
		{name: "blocker", priority: 2, script: "block: true, set: {args: {x: 2}}, retry: 900, metadata: {m2: b}, violation: {reason: Nope, description: not allowed, code: DENY}"},
		{name: "after", priority: 3},
		{name: "tr", mode: "transform"},
		{name: "conc", mode: "concurrent"},
	})
	res, _ := invoke(t, m, "tool_pre_invoke", toolPayload("t", nil), gctx("r"), nil)
	assert.False(t, res.ContinueProcessing)
	require.NotNil(t, res.Violation)
	assert.Equal(t, "blocker", res.Violation.PluginName, "plugin_name stamped with the trusted name")
	assert.Equal(t, "DENY", res.Violation.Code)
	assert.Equal(t, map[string]any{"x": float64(1)}, payloadMap(t, res.ModifiedPayload)["args"], "payload before the blocker")
	assert.Equal(t, 0, res.RetryDelayMs, "retry_delay_ms is 0 on a halt")
	assert.Equal(t, "a", res.Metadata["m1"])
	assert.Equal(t, "b", res.Metadata["m2"], "the blocker's metadata was merged before the halt")
	assert.Equal(t, []string{"before", "blocker"}, rec.names(), "later plugins and phases never run")
	assert.Equal(t, []string{"before", "blocker"}, recordNames(res))
}

// §11.7: a halt with no earlier modification has no payload; a block without a
// violation halts with violation None.
func TestRuleHaltWithoutViolation(t *testing.T) {
	id, _ := newRecorder()
	m := newManager(t, id, []plugin{{name: "blocker", script: "block: true"}})
	res, _ := invoke(t, m, "tool_pre_invoke", toolPayload("t", nil), gctx("r"), nil)
	assert.False(t, res.ContinueProcessing)
	assert.Nil(t, res.Violation)
	assert.Nil(t, res.ModifiedPayload)
}

// §11.5.5 / §30.9: a transform block is suppressed: its modification stays, its
// violation and retry delay are dropped, the chain goes on.
func TestRuleTransformBlockSuppressed(t *testing.T) {
	id, rec := newRecorder()
	m := newManager(t, id, []plugin{
		{name: "tr", mode: "transform", priority: 1, script: "block: true, set: {args: {t: 1}}, retry: 700, violation: {reason: r, description: d, code: C}"},
		{name: "tr2", mode: "transform", priority: 2},
	})
	res, _ := invoke(t, m, "tool_pre_invoke", toolPayload("t", nil), gctx("r"), nil)
	assert.True(t, res.ContinueProcessing)
	assert.Nil(t, res.Violation)
	assert.Equal(t, 0, res.RetryDelayMs)
	assert.Equal(t, map[string]any{"t": float64(1)}, payloadMap(t, res.ModifiedPayload)["args"])
	assert.Equal(t, []string{"tr", "tr2"}, rec.names())
}

// §11.3: an audit block is suppressed too.
func TestRuleAuditBlockSuppressed(t *testing.T) {
	id, rec := newRecorder()
	m := newManager(t, id, []plugin{
		{name: "aud", mode: "audit", script: "block: true, violation: {reason: r, description: d, code: C}"},
		{name: "conc", mode: "concurrent"},
	})
	res, _ := invoke(t, m, "tool_pre_invoke", toolPayload("t", nil), gctx("r"), nil)
	assert.True(t, res.ContinueProcessing)
	assert.Nil(t, res.Violation)
	assert.Equal(t, []string{"aud", "conc"}, rec.names())
}

// §11.6: a concurrent block halts with the chain payload of the serial phases and
// cancels the unfinished siblings (which get no record).
func TestRuleConcurrentHalt(t *testing.T) {
	id, rec := newRecorder()
	m := newManager(t, id, []plugin{
		{name: "seq", script: "set: {args: {s: 1}}"},
		{name: "blocker", mode: "concurrent", priority: 1, script: "block: true, violation: {reason: r, description: d, code: CONC}"},
		{name: "sleeper", mode: "concurrent", priority: 2, script: "sleep: true"},
		{name: "faf", mode: "fire_and_forget"},
	}, core.WithTimeout(3*time.Second))
	res, _ := invoke(t, m, "tool_pre_invoke", toolPayload("t", nil), gctx("r"), nil)
	assert.False(t, res.ContinueProcessing)
	require.NotNil(t, res.Violation)
	assert.Equal(t, "blocker", res.Violation.PluginName)
	assert.Equal(t, map[string]any{"s": float64(1)}, payloadMap(t, res.ModifiedPayload)["args"])
	assert.Equal(t, 0, res.RetryDelayMs)
	assert.NotContains(t, recordNames(res), "sleeper", "a cancelled sibling gets no record")
	ended := rec.byName("sleeper#end")
	require.Len(t, ended, 1, "the call awaits its cancelled siblings")
	assert.Equal(t, context.Canceled.Error(), ended[0].Payload["err"], "the unfinished sibling is cancelled, not left to time out")
	waitBackground(t, res)
	assert.Contains(t, rec.names(), "faf", "fire-and-forget plugins are scheduled at the halt point")
}

// §11.9 / §30.3: fire-and-forget plugins get the original payload; their results,
// modifications and metadata are ignored; a record is written at spawn time.
func TestRuleFireAndForget(t *testing.T) {
	id, rec := newRecorder()
	m := newManager(t, id, []plugin{
		{name: "seq", script: "set: {name: changed}"},
		{name: "faf", mode: "fire_and_forget", script: "set: {name: faf}, metadata: {faf: 1}, block: true, retry: 9"},
	})
	res, _ := invoke(t, m, "tool_pre_invoke", toolPayload("orig", nil), gctx("r"), nil)
	require.NotNil(t, res.Background)
	assert.Empty(t, waitBackground(t, res))
	assert.True(t, res.ContinueProcessing)
	assert.Equal(t, "changed", payloadMap(t, res.ModifiedPayload)["name"])
	assert.NotContains(t, res.Metadata, "faf")
	assert.Equal(t, 0, res.RetryDelayMs)
	require.Len(t, rec.byName("faf"), 1)
	assert.Equal(t, "orig", rec.byName("faf")[0].Payload["name"], "the original input payload, not the chained one")
	require.Len(t, res.Executions, 2)
	r := res.Executions[1]
	assert.Equal(t, "faf", r.PluginName)
	assert.Equal(t, "fire_and_forget", string(r.Mode))
	assert.Equal(t, core.StatusCompleted, r.Status)
	assert.True(t, r.EffectiveAllow)
	assert.Equal(t, core.None, r.RequestedAllow)
	assert.Equal(t, core.None, r.Matched)
	assert.False(t, r.Applied)
	assert.Equal(t, int64(0), r.DurationNs)
}

// §11.9: a failing fire-and-forget task is reported by Background.Wait, never by the call.
func TestRuleFireAndForgetFailureReported(t *testing.T) {
	id, _ := newRecorder()
	m := newManager(t, id, []plugin{{name: "faf", mode: "fire_and_forget", onError: "disable", script: `error: "boom"`}})
	res, _ := invoke(t, m, "tool_pre_invoke", toolPayload("t", nil), gctx("r"), nil)
	assert.True(t, res.ContinueProcessing)
	errs := waitBackground(t, res)
	require.Len(t, errs, 1)
	assert.Equal(t, "faf", errs[0].PluginName)
	assert.Equal(t, []string{"faf"}, m.RuntimeDisabled(), "on_error disable applies to fire-and-forget failures")
}

// §10.2: a manager with no plugins at all.
func TestRuleEmptyManager(t *testing.T) {
	m, err := core.NewManager(nil)
	require.NoError(t, err)
	res, table, err := m.InvokeHook(context.Background(), "tool_pre_invoke", toolPayload("t", nil), nil, nil)
	require.NoError(t, err)
	assert.True(t, res.ContinueProcessing)
	assert.Nil(t, table)
	require.NoError(t, m.Shutdown(context.Background()))
	_, _, err = m.InvokeHook(context.Background(), "tool_pre_invoke", toolPayload("t", nil), nil, nil)
	assert.ErrorIs(t, err, core.ErrManagerClosed)
}

// §11.1.7 / §11.11: concurrent plugins really run at the same time, bounded per call by
// the execution pool.
func TestRuleExecutionPool(t *testing.T) {
	cases := []struct {
		name string
		pool int
		met  int // plugins that saw the other one running
	}{
		{"unbounded", 0, 2},
		{"pool of two", 2, 2},
		{"pool of one serialises", 1, 1},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			id, rec := newRecorder()
			group := id + "-group"
			m := newManager(t, id, []plugin{
				{name: "c1", mode: "concurrent", onError: "ignore", script: "rendezvous: " + group},
				{name: "c2", mode: "concurrent", onError: "ignore", script: "rendezvous: " + group},
			}, core.WithTimeout(time.Second), core.WithExecutionPool(c.pool))
			res, _ := invoke(t, m, "tool_pre_invoke", toolPayload("t", nil), gctx("r"), nil)
			assert.True(t, res.ContinueProcessing)
			met := 0
			for _, n := range rec.names() {
				if strings.HasSuffix(n, "#met") {
					met++
				}
			}
			assert.Equal(t, c.met, met)
		})
	}
}

// §30.25: the pool bounds each call, not the process: two calls with a pool of one
// each still run their concurrent plugins at the same time.
func TestRuleExecutionPoolIsPerCall(t *testing.T) {
	id, rec := newRecorder()
	m := newManager(t, id, []plugin{{name: "c", mode: "concurrent", script: "rendezvous: " + id + "-percall"}},
		core.WithTimeout(5*time.Second), core.WithExecutionPool(1))
	done := make(chan error, 2)
	for i := 0; i < 2; i++ {
		go func() {
			_, _, err := m.InvokeHook(context.Background(), "tool_pre_invoke", toolPayload("t", nil), gctx("r"), nil)
			done <- err
		}()
	}
	require.NoError(t, <-done)
	require.NoError(t, <-done)
	assert.Equal(t, []string{"c", "c", "c#met", "c#met"}, rec.names())
}
