package core_test

// Spec §11.8 (metadata, retry delay, decision plugin) and §11.10 (execution records).

import (
	"encoding/json"
	"regexp"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/cpex-go/cpex/core"
)

// §11.10: identity fields of a record come from the trusted config.
func TestRuleRecordIdentity(t *testing.T) {
	id, _ := newRecorder()
	m := newManager(t, id, []plugin{{name: "ident", script: "alpha: 1, beta: 2"}})
	res, table := invoke(t, m, "tool_pre_invoke", toolPayload("t", nil), gctx("req-1"), nil)
	require.Len(t, res.Executions, 1)
	r := res.Executions[0]
	assert.Equal(t, "ident", r.PluginName)
	assert.Equal(t, scriptKind, r.PluginKind)
	assert.Equal(t, "tool_pre_invoke", r.HookName)
	assert.Equal(t, "sequential", string(r.Mode))
	assert.Regexp(t, regexp.MustCompile(`^[0-9a-f]{32}$`), r.PluginID)
	assert.Equal(t, []string{"rec", "alpha", "beta"}, r.ConfigKeys, "config key names in config order, values never stored")
	assert.GreaterOrEqual(t, r.DurationNs, int64(0))
	// §13.1: the table key is request_id + plugin uuid, no separator.
	assert.Contains(t, table, "req-1"+r.PluginID)

	js, err := json.Marshal(r)
	require.NoError(t, err)
	var keys map[string]any
	require.NoError(t, json.Unmarshal(js, &keys))
	for _, k := range []string{"plugin_id", "plugin_name", "plugin_kind", "hook_name", "mode", "status", "requested_allow",
		"effective_allow", "matched", "applied", "payload_modified", "extensions_modified", "duration_ns", "reason",
		"error_code", "config_keys"} {
		assert.Contains(t, keys, k)
	}
	assert.Len(t, keys, 16)
}

// §11.10: the serial-phase outcome table.
func TestRuleSerialRecords(t *testing.T) {
	id, _ := newRecorder()
	m := newManager(t, id, []plugin{
		{name: "allow", priority: 1},
		{name: "modify", priority: 2, script: "set: {name: x}"},
		{name: "tr_block", mode: "transform", script: "block: true, violation: {reason: r, description: d, code: C}"},
		{name: "aud_mod", mode: "audit", script: "set: {name: y}"},
		{name: "block", priority: 3, script: "block: true, violation: {reason: Because, description: d, code: NOPE}"},
	})
	res, _ := invoke(t, m, "tool_pre_invoke", toolPayload("t", nil), gctx("r"), nil)
	require.Equal(t, []string{"allow", "modify", "block"}, recordNames(res))
	allow, modify, block := res.Executions[0], res.Executions[1], res.Executions[2]

	assert.Equal(t, core.StatusCompleted, allow.Status)
	assert.Equal(t, core.True, allow.RequestedAllow)
	assert.True(t, allow.EffectiveAllow)
	assert.Equal(t, core.False, allow.Matched)
	assert.False(t, allow.Applied)
	assert.False(t, allow.PayloadModified)
	assert.Nil(t, allow.Reason)
	assert.Nil(t, allow.ErrorCode)

	assert.Equal(t, core.True, modify.Matched)
	assert.True(t, modify.Applied)
	assert.True(t, modify.PayloadModified)

	assert.Equal(t, core.StatusCompleted, block.Status)
	assert.Equal(t, core.False, block.RequestedAllow)
	assert.False(t, block.EffectiveAllow)
	assert.Equal(t, core.True, block.Matched)
	assert.True(t, block.Applied)
	assert.False(t, block.PayloadModified)
	require.NotNil(t, block.Reason)
	assert.Equal(t, "Because", *block.Reason)
	require.NotNil(t, block.ErrorCode)
	assert.Equal(t, "NOPE", *block.ErrorCode)

	// The transform and audit plugins ran in a second call without the blocker.
	id2, _ := newRecorder()
	m2 := newManager(t, id2, []plugin{
		{name: "tr_block", mode: "transform", script: "block: true, set: {name: z}, violation: {reason: r, description: d, code: C}"},
		{name: "aud_mod", mode: "audit", script: "set: {name: y}"},
	})
	res2, _ := invoke(t, m2, "tool_pre_invoke", toolPayload("t", nil), gctx("r"), nil)
	require.Equal(t, []string{"tr_block", "aud_mod"}, recordNames(res2))
	tr, aud := res2.Executions[0], res2.Executions[1]
	assert.Equal(t, core.True, tr.RequestedAllow, "a suppressed block is recorded as the converted allow")
	assert.True(t, tr.EffectiveAllow)
	assert.True(t, tr.PayloadModified, "its modification was kept")
	assert.Nil(t, tr.Reason)
	assert.False(t, aud.PayloadModified, "audit plugins never modify")
}

// §11.10: concurrent records have duration 0 and no modification flags.
func TestRuleConcurrentRecords(t *testing.T) {
	id, _ := newRecorder()
	m := newManager(t, id, []plugin{{name: "c", mode: "concurrent", script: "set: {name: x}, violation: {reason: note, description: d, code: INFO}"}})
	res, _ := invoke(t, m, "tool_pre_invoke", toolPayload("t", nil), gctx("r"), nil)
	require.Len(t, res.Executions, 1)
	r := res.Executions[0]
	assert.Equal(t, core.StatusCompleted, r.Status)
	assert.Equal(t, core.True, r.RequestedAllow)
	assert.True(t, r.EffectiveAllow)
	assert.Equal(t, core.False, r.Matched)
	assert.False(t, r.Applied)
	assert.False(t, r.PayloadModified)
	assert.Equal(t, int64(0), r.DurationNs)
	require.NotNil(t, r.Reason, "reason/code come from a violation even on allow")
	assert.Equal(t, "note", *r.Reason)
	assert.Nil(t, res.ModifiedPayload, "concurrent modifications are discarded")

	id2, _ := newRecorder()
	m2 := newManager(t, id2, []plugin{{name: "c", mode: "concurrent", script: "block: true, violation: {reason: r, description: d, code: X}"}})
	res2, _ := invoke(t, m2, "tool_pre_invoke", toolPayload("t", nil), gctx("r"), nil)
	b := res2.Executions[0]
	assert.Equal(t, core.False, b.RequestedAllow)
	assert.False(t, b.EffectiveAllow)
	assert.Equal(t, core.True, b.Matched)
	assert.True(t, b.Applied)
	assert.Equal(t, int64(0), b.DurationNs)
}

// §11.8 / §30.10: metadata is the union in run order (later wins), audit included,
// fire-and-forget never; _decision_plugin is stripped from plugin metadata.
func TestRuleMetadataMerge(t *testing.T) {
	id, _ := newRecorder()
	m := newManager(t, id, []plugin{
		{name: "s1", priority: 1, script: "metadata: {a: s1, b: s1, _decision_plugin: forged}"},
		{name: "s2", priority: 2, script: "metadata: {b: s2}"},
		{name: "tr", mode: "transform", script: "metadata: {c: tr}"},
		{name: "aud", mode: "audit", script: "metadata: {d: aud, a: aud}"},
		{name: "conc", mode: "concurrent", script: "metadata: {e: conc}"},
		{name: "faf", mode: "fire_and_forget", script: "metadata: {f: faf}"},
	})
	res, _ := invoke(t, m, "tool_pre_invoke", toolPayload("t", nil), gctx("r"), nil)
	waitBackground(t, res)
	assert.Equal(t, map[string]any{"a": "aud", "b": "s2", "c": "tr", "d": "aud", "e": "conc"}, res.Metadata)
}

// §11.8: retry_delay_ms is the maximum over unconverted results.
func TestRuleRetryDelayMax(t *testing.T) {
	id, _ := newRecorder()
	m := newManager(t, id, []plugin{
		{name: "s1", priority: 1, script: "retry: 100"},
		{name: "s2", priority: 2, script: "retry: 300"},
		{name: "tr", mode: "transform", script: "retry: 200"},
		{name: "tr_block", mode: "transform", script: "retry: 5000, block: true"},
		{name: "conc", mode: "concurrent", script: "retry: 250"},
	})
	res, _ := invoke(t, m, "tool_pre_invoke", toolPayload("t", nil), gctx("r"), nil)
	assert.Equal(t, 300, res.RetryDelayMs, "a converted (suppressed-block) result contributes 0")

	id2, _ := newRecorder()
	m2 := newManager(t, id2, []plugin{{name: "s", script: "retry: 10"}, {name: "c", mode: "concurrent", script: "retry: 400"}})
	res2, _ := invoke(t, m2, "tool_pre_invoke", toolPayload("t", nil), gctx("r"), nil)
	assert.Equal(t, 400, res2.RetryDelayMs, "concurrent results count")
}

// §11.1.13 / §11.8: _decision_plugin names the last plugin whose modification was
// accepted, for http_auth_check_permission only.
func TestRuleDecisionPlugin(t *testing.T) {
	perm := func() *core.Payload {
		return core.NewPayloadValue(map[string]any{"user_email": "a@b", "permission": "tools.read", "is_admin": false})
	}
	cases := []struct {
		name    string
		plugins []plugin
		hook    string
		want    any // nil = absent
	}{
		{"last accepted wins", []plugin{
			{name: "p1", priority: 1, hooks: "[http_auth_check_permission]", script: "replace: {granted: false}"},
			{name: "p2", priority: 2, hooks: "[http_auth_check_permission]", script: "replace: {granted: true, reason: ok}"},
			{name: "p3", priority: 3, hooks: "[http_auth_check_permission]"},
		}, "http_auth_check_permission", "p2"},
		{"no modification, no key", []plugin{
			{name: "p1", hooks: "[http_auth_check_permission]", script: "metadata: {_decision_plugin: forged}"},
		}, "http_auth_check_permission", nil},
		{"other hooks never get it", []plugin{
			{name: "p1", script: "set: {name: x}"},
		}, "tool_pre_invoke", nil},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			id, _ := newRecorder()
			m := newManager(t, id, c.plugins)
			p := perm()
			if c.hook == "tool_pre_invoke" {
				p = toolPayload("t", nil)
			}
			res, _ := invoke(t, m, c.hook, p, gctx("r"), nil)
			if c.want == nil {
				assert.NotContains(t, res.Metadata, core.DecisionPluginKey)
				return
			}
			assert.Equal(t, c.want, res.Metadata[core.DecisionPluginKey])
			assert.Equal(t, map[string]any{"granted": true, "reason": "ok"}, payloadMap(t, res.ModifiedPayload), "cross-type result accepted")
		})
	}
}
