package core_test

// Spec §11.4 (on_error), §11.5 (violations as errors), §10.6 (one timeout per manager).

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/cpex-go/cpex/core"
)

const shortTimeout = 50 * time.Millisecond

// §11.4: on_error fail turns a plugin error into a PluginError that escapes the call.
func TestRuleOnErrorFailError(t *testing.T) {
	id, rec := newRecorder()
	m := newManager(t, id, []plugin{
		{name: "bad", priority: 1, script: `error: "kaput"`},
		{name: "after", priority: 2},
	})
	res, table, err := m.InvokeHook(context.Background(), "tool_pre_invoke", toolPayload("t", nil), gctx("r"), nil)
	var pe *core.PluginError
	require.ErrorAs(t, err, &pe)
	assert.Equal(t, "bad", pe.PluginName)
	assert.Contains(t, pe.Error(), "kaput")
	assert.Nil(t, res, "no result when an error propagates")
	assert.Nil(t, table)
	assert.Equal(t, []string{"bad"}, rec.names(), "the chain stops")
}

// §11.4: a timeout under on_error fail → PluginError "Plugin X exceeded Ns timeout".
func TestRuleOnErrorFailTimeout(t *testing.T) {
	id, _ := newRecorder()
	m := newManager(t, id, []plugin{{name: "slow", script: "sleep: true"}}, core.WithTimeout(shortTimeout))
	_, _, err := m.InvokeHook(context.Background(), "tool_pre_invoke", toolPayload("t", nil), gctx("r"), nil)
	var pe *core.PluginError
	require.ErrorAs(t, err, &pe)
	assert.Equal(t, "slow", pe.PluginName)
	assert.Equal(t, "Plugin slow exceeded 0.05s timeout", pe.Error())
	assert.True(t, pe.Timeout)
}

// §11.4 / §30.4: on_error ignore swallows an error as an empty allow; the record is a
// clean completed allow.
func TestRuleOnErrorIgnoreError(t *testing.T) {
	id, rec := newRecorder()
	m := newManager(t, id, []plugin{
		{name: "bad", priority: 1, onError: "ignore", script: `error: "kaput", set: {name: x}`},
		{name: "after", priority: 2},
	})
	res, _ := invoke(t, m, "tool_pre_invoke", toolPayload("t", nil), gctx("r"), nil)
	assert.True(t, res.ContinueProcessing)
	assert.Nil(t, res.ModifiedPayload)
	assert.Equal(t, []string{"bad", "after"}, rec.names())
	require.Len(t, res.Executions, 2)
	r := res.Executions[0]
	assert.Equal(t, core.StatusCompleted, r.Status)
	assert.Equal(t, core.False, r.Matched)
	assert.True(t, r.EffectiveAllow)
	assert.Empty(t, m.RuntimeDisabled())
}

// §11.4 / §11.10: on_error ignore + timeout → a TIMEOUT record, the chain goes on.
func TestRuleOnErrorIgnoreTimeout(t *testing.T) {
	id, rec := newRecorder()
	m := newManager(t, id, []plugin{
		{name: "slow", priority: 1, onError: "ignore", script: "sleep: true"},
		{name: "after", priority: 2},
	}, core.WithTimeout(shortTimeout))
	res, _ := invoke(t, m, "tool_pre_invoke", toolPayload("t", nil), gctx("r"), nil)
	assert.True(t, res.ContinueProcessing)
	assert.Contains(t, rec.names(), "after")
	require.Len(t, res.Executions, 2)
	r := res.Executions[0]
	assert.Equal(t, core.StatusTimeout, r.Status)
	assert.Equal(t, core.None, r.RequestedAllow)
	assert.Equal(t, core.None, r.Matched)
	assert.True(t, r.EffectiveAllow)
	assert.True(t, r.Applied, "applied=True for a sequential timeout (as implemented upstream)")
	assert.False(t, r.PayloadModified)
	require.NotNil(t, r.Reason)
	assert.Equal(t, "Plugin slow exceeded 0.05s timeout", *r.Reason)
	require.NotNil(t, r.ErrorCode)
	assert.Equal(t, "plugin_timeout", *r.ErrorCode)
}

// §11.10: a transform/audit timeout record has applied=False.
func TestRuleTimeoutRecordInTransform(t *testing.T) {
	id, _ := newRecorder()
	m := newManager(t, id, []plugin{{name: "slow", mode: "transform", onError: "ignore", script: "sleep: true"}},
		core.WithTimeout(shortTimeout))
	res, _ := invoke(t, m, "tool_pre_invoke", toolPayload("t", nil), gctx("r"), nil)
	require.Len(t, res.Executions, 1)
	assert.Equal(t, core.StatusTimeout, res.Executions[0].Status)
	assert.False(t, res.Executions[0].Applied)
}

// §11.4 / §30.16: on_error disable adds the plugin to the runtime-disabled set (by
// name); it is skipped until reset.
func TestRuleOnErrorDisable(t *testing.T) {
	id, rec := newRecorder()
	m := newManager(t, id, []plugin{
		{name: "flaky", priority: 1, onError: "disable", script: `error: "kaput"`},
		{name: "steady", priority: 2},
	})
	res, _ := invoke(t, m, "tool_pre_invoke", toolPayload("t", nil), gctx("r1"), nil)
	assert.True(t, res.ContinueProcessing)
	assert.Equal(t, []string{"flaky"}, m.RuntimeDisabled())

	res, table := invoke(t, m, "tool_pre_invoke", toolPayload("t", nil), gctx("r2"), nil)
	assert.Equal(t, []string{"steady"}, recordNames(res), "skipped plugins get no record")
	assert.Len(t, table, 1)
	assert.Equal(t, []string{"flaky", "steady", "steady"}, rec.names())

	m.ResetRuntimeDisabled()
	assert.Empty(t, m.RuntimeDisabled())
	invoke(t, m, "tool_pre_invoke", toolPayload("t", nil), gctx("r3"), nil)
	assert.Equal(t, []string{"flaky", "steady", "steady", "flaky", "steady"}, rec.names())
}

// §30.16: the runtime-disabled set survives a reload.
func TestRuleRuntimeDisabledSurvivesReload(t *testing.T) {
	id, _ := newRecorder()
	m := newManager(t, id, []plugin{{name: "flaky", onError: "disable", script: `error: "kaput"`}})
	invoke(t, m, "tool_pre_invoke", toolPayload("t", nil), gctx("r1"), nil)
	require.NoError(t, m.Reload(m.Config()))
	assert.Equal(t, []string{"flaky"}, m.RuntimeDisabled())
	res, _ := invoke(t, m, "tool_pre_invoke", toolPayload("t", nil), gctx("r2"), nil)
	assert.Empty(t, res.Executions)
}

// A panicking Go plugin is contained and handled as an error under its on_error.
func TestRulePanicIsAPluginError(t *testing.T) {
	id, _ := newRecorder()
	m := newManager(t, id, []plugin{{name: "crash", script: `panic: "oops"`}})
	_, _, err := m.InvokeHook(context.Background(), "tool_pre_invoke", toolPayload("t", nil), gctx("r"), nil)
	var pe *core.PluginError
	require.ErrorAs(t, err, &pe)
	assert.Equal(t, "crash", pe.PluginName)

	id2, rec := newRecorder()
	m2 := newManager(t, id2, []plugin{{name: "crash", priority: 1, onError: "ignore", script: `panic: "oops"`}, {name: "next", priority: 2}})
	res, _ := invoke(t, m2, "tool_pre_invoke", toolPayload("t", nil), gctx("r"), nil)
	assert.True(t, res.ContinueProcessing)
	assert.Equal(t, []string{"crash", "next"}, rec.names())
}

// §11.5: with violations as errors a sequential block returns a ViolationError with the
// exact upstream message and the records so far (the denial included); fire-and-forget
// plugins are not scheduled.
func TestRuleViolationsAsErrors(t *testing.T) {
	id, rec := newRecorder()
	m := newManager(t, id, []plugin{
		{name: "ok", priority: 1},
		{name: "guard", priority: 2, script: "block: true, violation: {reason: Forbidden tool, description: tool is on the deny list, code: DENY_TOOL}"},
		{name: "faf", mode: "fire_and_forget"},
	})
	res, _, err := m.InvokeHook(context.Background(), "tool_pre_invoke", toolPayload("t", nil), gctx("r"), nil, core.ViolationsAsErrors())
	assert.Nil(t, res)
	var ve *core.ViolationError
	require.ErrorAs(t, err, &ve)
	assert.Equal(t, "tool_pre_invoke blocked by plugin guard: DENY_TOOL - Forbidden tool (tool is on the deny list)", ve.Error())
	require.NotNil(t, ve.Violation)
	assert.Equal(t, "guard", ve.Violation.PluginName)
	require.Len(t, ve.Executions, 2)
	d := ve.Executions[1]
	assert.Equal(t, "guard", d.PluginName)
	assert.Equal(t, core.False, d.RequestedAllow)
	assert.False(t, d.EffectiveAllow)
	assert.Equal(t, core.True, d.Matched)
	assert.True(t, d.Applied)
	require.NotNil(t, d.ErrorCode)
	assert.Equal(t, "DENY_TOOL", *d.ErrorCode)
	assert.NotContains(t, rec.names(), "faf")
}

// §11.5: without a violation the message is just "<hook> blocked by plugin".
func TestRuleViolationsAsErrorsWithoutViolation(t *testing.T) {
	id, _ := newRecorder()
	m := newManager(t, id, []plugin{{name: "guard", script: "block: true"}})
	_, _, err := m.InvokeHook(context.Background(), "tool_pre_invoke", toolPayload("t", nil), gctx("r"), nil, core.ViolationsAsErrors())
	var ve *core.ViolationError
	require.ErrorAs(t, err, &ve)
	assert.Equal(t, "tool_pre_invoke blocked by plugin", ve.Error())
}

// §11.5: a transform block never raises, even with violations as errors.
func TestRuleViolationsAsErrorsIgnoresTransformBlocks(t *testing.T) {
	id, _ := newRecorder()
	m := newManager(t, id, []plugin{{name: "tr", mode: "transform", script: "block: true, violation: {reason: r, description: d, code: C}"}})
	res, _, err := m.InvokeHook(context.Background(), "tool_pre_invoke", toolPayload("t", nil), gctx("r"), nil, core.ViolationsAsErrors())
	require.NoError(t, err)
	assert.True(t, res.ContinueProcessing)
}

// §11.6: a concurrent block with violations as errors raises too.
func TestRuleViolationsAsErrorsConcurrent(t *testing.T) {
	id, _ := newRecorder()
	m := newManager(t, id, []plugin{{name: "c", mode: "concurrent", script: "block: true, violation: {reason: r, description: d, code: C}"}})
	_, _, err := m.InvokeHook(context.Background(), "tool_pre_invoke", toolPayload("t", nil), gctx("r"), nil, core.ViolationsAsErrors())
	var ve *core.ViolationError
	require.ErrorAs(t, err, &ve)
	assert.Equal(t, "tool_pre_invoke blocked by plugin c: C - r (d)", ve.Error())
	assert.False(t, errors.Is(err, core.ErrManagerClosed))
}

// §11.4: in the concurrent phase an on_error fail error propagates.
func TestRuleConcurrentErrorPropagates(t *testing.T) {
	id, _ := newRecorder()
	m := newManager(t, id, []plugin{{name: "c", mode: "concurrent", script: `error: "kaput"`}, {name: "d", mode: "concurrent"}})
	_, _, err := m.InvokeHook(context.Background(), "tool_pre_invoke", toolPayload("t", nil), gctx("r"), nil)
	var pe *core.PluginError
	require.ErrorAs(t, err, &pe)
	assert.Equal(t, "c", pe.PluginName)
}

// §11.4: a violation error raised by a plugin escapes as is, whatever its on_error.
func TestRuleRaisedViolationIgnoresOnError(t *testing.T) {
	id, rec := newRecorder()
	m := newManager(t, id, []plugin{
		{name: "raiser", priority: 1, onError: "ignore", script: "raise_violation: {reason: r, description: d, code: RAISED}"},
		{name: "after", priority: 2},
	})
	_, _, err := m.InvokeHook(context.Background(), "tool_pre_invoke", toolPayload("t", nil), gctx("r"), nil)
	var ve *core.ViolationError
	require.ErrorAs(t, err, &ve)
	require.NotNil(t, ve.Violation)
	assert.Equal(t, "RAISED", ve.Violation.Code)
	assert.NotContains(t, rec.names(), "after")
	assert.Empty(t, m.RuntimeDisabled())
}

// §11.4: the PluginError of a failing plugin wraps the plugin's own error.
func TestRulePluginErrorWrapsTheCause(t *testing.T) {
	id, _ := newRecorder()
	m := newManager(t, id, []plugin{{name: "bad", script: `error: "kaput"`}})
	_, _, err := m.InvokeHook(context.Background(), "tool_pre_invoke", toolPayload("t", nil), gctx("r"), nil)
	var pe *core.PluginError
	require.ErrorAs(t, err, &pe)
	assert.False(t, pe.Timeout)
	require.Error(t, pe.Unwrap())
	assert.Equal(t, "kaput", pe.Unwrap().Error())
}
