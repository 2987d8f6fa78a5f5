package builtins

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/cpex-go/cpex/core"
	"github.com/cpex-go/cpex/core/builtins/pdptest"
)

// rbacCEL: a tool is allowed for admins, or for role "analyst" in tenant acme on read tools.
const rbacCEL = `
type(user) == map && "roles" in user && (
  "admin" in user.roles ||
  ("analyst" in user.roles && tenant_id == "acme" && payload.name.startsWith("read_"))
)`

func TestPDPCELRBAC(t *testing.T) {
	p, err := pdptest.New(t, "builtin/pdp_cel", map[string]any{"policy": rbacCEL, "reason": pdptest.RBACReason})
	require.NoError(t, err)
	pdptest.CheckRBAC(t, p, "pdp_cel")
}

func TestPDPCELMapDecisionAndInput(t *testing.T) {
	p, err := pdptest.New(t, "builtin/pdp_cel", map[string]any{
		"policy": `payload.args.amount <= 100.0 ? {"allow": true} : {"allow": false, "reason": "amount " + string(payload.args.amount) + " over limit for " + input.server_id}`,
		"code":   "LIMIT",
	})
	require.NoError(t, err)
	r, err := pdptest.Call(t, p, map[string]any{"name": "pay", "args": map[string]any{"amount": 50.0}}, nil, "")
	require.NoError(t, err)
	assert.Nil(t, r)
	r, err = pdptest.Call(t, p, map[string]any{"name": "pay", "args": map[string]any{"amount": 500.0}}, nil, "")
	require.NoError(t, err)
	require.NotNil(t, r)
	assert.Equal(t, "amount 500 over limit for srv", r.Violation.Reason)
	assert.Equal(t, "LIMIT", r.Violation.Code)
}

func TestPDPCELPolicyFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "rbac.cel")
	require.NoError(t, os.WriteFile(path, []byte(rbacCEL), 0o600))
	p, err := pdptest.New(t, "builtin/pdp_cel", map[string]any{"policy_file": path})
	require.NoError(t, err)
	r, err := pdptest.Call(t, p, map[string]any{"name": "x"}, map[string]any{"roles": []any{"admin"}}, "")
	require.NoError(t, err)
	assert.Nil(t, r)
}

func TestPDPCELBadPolicies(t *testing.T) {
	tests := []struct {
		name string
		cfg  map[string]any
		want string
	}{
		{"syntax error names plugin and line", map[string]any{"policy": "true &&\n  (payload.name ==", "reason": "x"},
			`plugin "policy" (kind builtin/pdp_cel): pdp_cel: policy policy.policy does not compile: ERROR: policy.policy:2:`},
		{"undeclared variable", map[string]any{"policy": "tenant == 'acme'"},
			`ERROR: policy.policy:1:1: undeclared reference to 'tenant'`},
		{"wrong result type", map[string]any{"policy": "'allow'"},
			`the expression is a string; it must be a bool or a map`},
		{"no policy", map[string]any{}, `config key "policy" (value null): pdp_cel needs a policy`},
		{"both sources", map[string]any{"policy": "true", "policy_file": "/x"}, `give policy or policy_file, not both`},
		{"missing file", map[string]any{"policy_file": "/nonexistent/p.cel"}, `config key "policy_file" (value "/nonexistent/p.cel"): cannot read the policy`},
		{"unknown key", map[string]any{"policy": "true", "polcy": 1}, `config key "polcy" (value 1): unknown key`},
		{"query is rego only", map[string]any{"policy": "true", "query": "data.x"}, `pdp_cel has no query`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := pdptest.New(t, "builtin/pdp_cel", tc.cfg)
			require.Error(t, err)
			assert.Contains(t, err.Error(), tc.want)
		})
	}
}

func TestPDPCELEvalErrorIsNotAnAllow(t *testing.T) {
	// user.roles on a string user: a runtime error, which fails the plugin (on_error decides).
	p, err := pdptest.New(t, "builtin/pdp_cel", map[string]any{"policy": `"admin" in user.roles`})
	require.NoError(t, err)
	r, err := pdptest.Call(t, p, map[string]any{"name": "x"}, "carol", "")
	require.Error(t, err)
	assert.Nil(t, r)
	assert.Contains(t, err.Error(), `pdp_cel plugin "policy": evaluation failed`)
}

func TestPDPCELStopsAtDeadline(t *testing.T) {
	// A comprehension over a large list checks the context while it runs.
	p, err := pdptest.New(t, "builtin/pdp_cel", map[string]any{"policy": `payload.items.all(i, payload.items.all(j, i + j >= 0.0))`})
	require.NoError(t, err)
	items := make([]any, 2000)
	for i := range items {
		items[i] = float64(i)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel() // already past the deadline: the evaluation must not run to the end
	r, err := p.Invoke(ctx, "tool_pre_invoke", core.NewPayloadValue(map[string]any{"items": items}), &core.PluginContext{})
	require.Error(t, err)
	assert.Nil(t, r)
	assert.ErrorIs(t, err, context.Canceled)
}
