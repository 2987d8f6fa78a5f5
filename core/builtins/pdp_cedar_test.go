package builtins

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/cpex-go/cpex/core"
	"github.com/cpex-go/cpex/core/builtins/pdptest"
)

// rbacCedar decides pdptest.RBACCases like rbacCEL.
const rbacCedar = `
permit (principal in Role::"admin", action, resource);

permit (principal in Role::"analyst", action == Action::"tool_pre_invoke", resource)
when { context.tenant_id == "acme" && context.payload.name like "read_*" };
`

func TestPDPCedarRBAC(t *testing.T) {
	p, err := pdptest.New(t, "builtin/pdp_cedar", map[string]any{"policy": rbacCedar, "reason": pdptest.RBACReason})
	require.NoError(t, err)
	pdptest.CheckRBAC(t, p, "pdp_cedar")
}

func TestPDPCedarForbidReasonAndAttributes(t *testing.T) {
	p, err := pdptest.New(t, "builtin/pdp_cedar", map[string]any{"policy": `
permit (principal, action, resource == Tool::"transfer");

@reason("amount over the user's limit")
forbid (principal, action, resource)
when { context.payload.args.amount > principal.limit };

@reason("suspended users cannot call tools")
forbid (principal, action, resource) when { principal has suspended && principal.suspended };
`})
	require.NoError(t, err)
	user := map[string]any{"id": "alice", "limit": 100.0, "suspended": false, "note": nil, "ratio": 0.5}
	r, err := pdptest.Call(t, p, map[string]any{"name": "transfer", "args": map[string]any{"amount": 50.0}}, user, "")
	require.NoError(t, err)
	assert.Nil(t, r)
	r, err = pdptest.Call(t, p, map[string]any{"name": "transfer", "args": map[string]any{"amount": 500.0}}, user, "")
	require.NoError(t, err)
	require.NotNil(t, r)
	assert.Equal(t, "amount over the user's limit", r.Violation.Reason)
	assert.Equal(t, []any{"policy1"}, r.Violation.Details["policies"])
	// No permit for another tool: Cedar's default deny, the configured reason.
	r, err = pdptest.Call(t, p, map[string]any{"name": "other"}, user, "")
	require.NoError(t, err)
	require.NotNil(t, r)
	assert.Equal(t, pdpDefaultReason, r.Violation.Reason)
}

func TestPDPCedarErroringPolicyDenies(t *testing.T) {
	// principal.limit is missing on a string user: that permit errors and does not apply.
	p, err := pdptest.New(t, "builtin/pdp_cedar", map[string]any{"policy": `permit (principal, action, resource) when { principal.limit > 0 };`})
	require.NoError(t, err)
	r, err := pdptest.Call(t, p, map[string]any{"name": "x"}, "bob", "")
	require.NoError(t, err)
	require.NotNil(t, r)
	assert.Contains(t, r.Violation.Details["errors"].([]any)[0], "policy0")
}

func TestPDPCedarBadPolicies(t *testing.T) {
	tests := []struct {
		name string
		cfg  map[string]any
		want string
	}{
		{"syntax error names plugin and line", map[string]any{"policy": "permit (principal, action, resource);\nforbid (principal action, resource);"},
			`plugin "policy" (kind builtin/pdp_cedar): pdp_cedar: policy policy.policy does not compile: parser error: parse error at <input>:2:25`},
		{"empty set", map[string]any{"policy": "// nothing\n"}, `no policy in the text`},
		{"no policy", map[string]any{}, `pdp_cedar needs a policy`},
		{"query is rego only", map[string]any{"policy": "permit (principal, action, resource);", "query": "x"}, `pdp_cedar has no query`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := pdptest.New(t, "builtin/pdp_cedar", tc.cfg)
			require.Error(t, err)
			assert.Contains(t, err.Error(), tc.want)
		})
	}
}

func TestPDPCedarResources(t *testing.T) {
	p, err := pdptest.New(t, "builtin/pdp_cedar", map[string]any{"policy": `
permit (principal, action == Action::"prompt_pre_fetch", resource == Prompt::"summary");
permit (principal, action == Action::"resource_pre_fetch", resource == Resource::"file:///ok");
permit (principal, action == Action::"cmf.llm_input", resource == Hook::"cmf.llm_input");
`}, "prompt_pre_fetch", "resource_pre_fetch", "cmf.llm_input")
	require.NoError(t, err)
	call := func(hook string, payload map[string]any) *core.Result {
		r, err := p.Invoke(context.Background(), hook, core.NewPayloadValue(payload), &core.PluginContext{})
		require.NoError(t, err)
		return r
	}
	assert.Nil(t, call("prompt_pre_fetch", map[string]any{"prompt_id": "summary"}))
	assert.NotNil(t, call("prompt_pre_fetch", map[string]any{"prompt_id": "other"}))
	assert.Nil(t, call("resource_pre_fetch", map[string]any{"uri": "file:///ok"}))
	assert.Nil(t, call("cmf.llm_input", map[string]any{"message": map[string]any{"role": "user"}}))
}
