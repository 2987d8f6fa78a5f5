package core_test

// Spec §15 (hook payload policies) and §30.26–§30.27.

import (
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/cpex-go/cpex/core"
)

func TestRulePayloadPolicies(t *testing.T) {
	cases := []struct {
		name     string
		opts     []core.Option
		script   string
		want     map[string]any // nil = modified_payload None
		recorded bool           // payload_modified in the record
	}{
		{"no policy, default allow: accepted as is", nil, "set: {name: new, args: {a: 1}}",
			map[string]any{"name": "new", "args": map[string]any{"a": float64(1)}, "headers": nil}, true},
		{"no policy, default deny: rejected", []core.Option{core.WithDefaultPolicy(core.PolicyDeny)}, "set: {name: new}", nil, false},
		{"policy keeps writable fields only", []core.Option{core.WithHookPolicy("tool_pre_invoke", "args")},
			"set: {name: new, args: {a: 1}}", map[string]any{"name": "t", "args": map[string]any{"a": float64(1)}, "headers": nil}, true},
		{"policy with nothing writable changed: ignored", []core.Option{core.WithHookPolicy("tool_pre_invoke", "args")},
			"set: {name: new}", nil, false},
		{"unchanged writable field is no modification", []core.Option{core.WithHookPolicy("tool_pre_invoke", "args")},
			"set: {args: {}}", nil, false},
		{"a policy overrides default deny", []core.Option{core.WithDefaultPolicy(core.PolicyDeny), core.WithHookPolicies(map[string]core.HookPolicy{"tool_pre_invoke": {WritableFields: []string{"name"}}})},
			"set: {name: new}", map[string]any{"name": "new", "args": map[string]any{}, "headers": nil}, true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			id, _ := newRecorder()
			m := newManager(t, id, []plugin{{name: "p", script: c.script}}, c.opts...)
			res, _ := invoke(t, m, "tool_pre_invoke", toolPayload("t", nil), gctx("r"), nil)
			assert.True(t, res.ContinueProcessing, "a rejected modification is never an error")
			if c.want == nil {
				assert.Nil(t, res.ModifiedPayload)
			} else {
				assert.Equal(t, c.want, payloadMap(t, res.ModifiedPayload))
			}
			assert.Equal(t, c.recorded, res.Executions[0].PayloadModified)
		})
	}
}

// §15.1: the policy is applied per plugin, so a later plugin's rejected change does not
// undo an earlier accepted one.
func TestRulePolicyChain(t *testing.T) {
	id, rec := newRecorder()
	m := newManager(t, id, []plugin{
		{name: "p1", priority: 1, script: "set: {args: {a: 1}}"},
		{name: "p2", priority: 2, script: "set: {name: hacked}"},
	}, core.WithHookPolicy("tool_pre_invoke", "args"))
	res, _ := invoke(t, m, "tool_pre_invoke", toolPayload("t", nil), gctx("r"), nil)
	out := payloadMap(t, res.ModifiedPayload)
	assert.Equal(t, "t", out["name"])
	assert.Equal(t, map[string]any{"a": float64(1)}, out["args"])
	assert.Equal(t, map[string]any{"a": float64(1)}, rec.byName("p2")[0].Payload["args"])
}

// §15.1 / §30.27: with a policy, a cross-type modification (the header object of the
// http hooks, the grant decision of http_auth_check_permission) is accepted wholesale,
// without field filtering.
func TestRuleCrossTypeModificationsBypassThePolicy(t *testing.T) {
	cases := []struct {
		name, hook, writable, script string
		payload                      map[string]any
		want                         map[string]any
	}{
		{"http_pre_request returns headers", "http_pre_request", "headers", `replace: {X-Added: "1"}`,
			map[string]any{"path": "/", "method": "GET", "client_host": nil, "client_port": nil, "headers": map[string]any{"a": "b"}},
			map[string]any{"X-Added": "1"}},
		{"http_auth_check_permission returns a decision", "http_auth_check_permission", "reason", "replace: {granted: true, reason: null}",
			map[string]any{"user_email": "a@b", "permission": "p", "resource_type": nil, "team_id": nil, "is_admin": false,
				"auth_method": nil, "client_host": nil, "user_agent": nil},
			map[string]any{"granted": true, "reason": nil}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			id, _ := newRecorder()
			m := newManager(t, id, []plugin{{name: "p", hooks: "[" + c.hook + "]", script: c.script}},
				core.WithHookPolicy(c.hook, c.writable))
			res, _ := invoke(t, m, c.hook, core.NewPayloadValue(c.payload), gctx("r"), nil)
			assert.Equal(t, c.want, payloadMap(t, res.ModifiedPayload))
		})
	}
}
