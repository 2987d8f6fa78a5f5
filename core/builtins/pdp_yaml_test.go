package builtins_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/cpex-go/cpex/core"
)

// The policy engines as a Go service configures them: YAML, a Manager, the global context.
const pdpYAML = `
plugins:
  - name: rbac-cel
    kind: builtin/pdp_cel
    hooks: [tool_pre_invoke]
    mode: sequential
    config:
      reason: tool not allowed for this role
      policy: |
        type(user) == map && "roles" in user &&
        ("admin" in user.roles || (tenant_id == "acme" && payload.name.startsWith("read_")))
  - name: rbac-cedar
    kind: builtin/pdp_cedar
    hooks: [tool_pre_invoke]
    mode: sequential
    config:
      policy: |
        permit (principal, action, resource);
        @reason("viewers cannot delete")
        forbid (principal in Role::"viewer", action, resource)
        when { context.payload.name like "delete_*" };
`

func TestPDPEnginesFromYAML(t *testing.T) {
	m := loadGuards(t, pdpYAML)
	call := func(tool string, user any, tenant string) *core.HookResult {
		res, _, err := m.InvokeHook(context.Background(), "tool_pre_invoke",
			core.NewPayloadValue(map[string]any{"name": tool, "args": map[string]any{}}),
			&core.GlobalContext{RequestID: "r", User: user, TenantID: tenant}, nil)
		require.NoError(t, err)
		return res
	}
	assert.True(t, call("read_x", map[string]any{"roles": []any{"viewer"}}, "acme").ContinueProcessing)
	denied := call("write_x", map[string]any{"roles": []any{"viewer"}}, "acme")
	assert.False(t, denied.ContinueProcessing)
	require.NotNil(t, denied.Violation)
	assert.Equal(t, "rbac-cel", denied.Violation.PluginName)
	assert.Equal(t, "tool not allowed for this role", denied.Violation.Reason)
	// CEL allows an admin; Cedar, next in the chain, forbids a viewer-admin to delete.
	both := call("delete_x", map[string]any{"id": "dan", "roles": []any{"admin", "viewer"}}, "acme")
	assert.False(t, both.ContinueProcessing)
	require.NotNil(t, both.Violation)
	assert.Equal(t, "rbac-cedar", both.Violation.PluginName)
	assert.Equal(t, "viewers cannot delete", both.Violation.Reason)
	// A string user: the policy's type(user) guard makes it a deny, not an error.
	assert.False(t, call("read_x", "bob", "acme").ContinueProcessing)
}
