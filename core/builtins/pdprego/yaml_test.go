package pdprego_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/cpex-go/cpex/core"
	_ "github.com/cpex-go/cpex/core/builtins/pdprego"
	"github.com/cpex-go/cpex/core/config"
)

// A Go service that imports the package configures builtin/pdp_rego from YAML like any
// other guard.
const regoYAML = `
plugins:
  - name: rbac-rego
    kind: builtin/pdp_rego
    hooks: [tool_pre_invoke]
    mode: sequential
    config:
      reason: tool not allowed for this role
      policy: |
        package cpex.tools

        default allow := false

        allow if "admin" in input.user.roles
`

func TestPDPRegoFromYAML(t *testing.T) {
	cfg, err := config.Parse([]byte(regoYAML), "rego.yaml")
	require.NoError(t, err)
	m, err := core.NewManager(cfg)
	require.NoError(t, err)
	t.Cleanup(func() { _ = m.Shutdown(context.Background()) })
	call := func(user any) *core.HookResult {
		res, _, err := m.InvokeHook(context.Background(), "tool_pre_invoke",
			core.NewPayloadValue(map[string]any{"name": "delete_db", "args": map[string]any{}}),
			&core.GlobalContext{RequestID: "r", User: user, TenantID: "acme"}, nil)
		require.NoError(t, err)
		return res
	}
	assert.True(t, call(map[string]any{"roles": []any{"admin"}}).ContinueProcessing)
	denied := call(map[string]any{"roles": []any{"viewer"}})
	assert.False(t, denied.ContinueProcessing)
	require.NotNil(t, denied.Violation)
	assert.Equal(t, "rbac-rego", denied.Violation.PluginName)
	assert.Equal(t, "tool not allowed for this role", denied.Violation.Reason)
}
