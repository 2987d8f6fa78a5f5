package builtins_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/cpex-go/cpex/core"
)

// The extensions a Go service passes (core.WithExtensions) are in every engine's input,
// as the Python host passes each Go plugin's filtered view (tests/py/test_go_context.py).
const pdpExtYAML = `
plugins:
  - name: labels-cel
    kind: builtin/pdp_cel
    hooks: [tool_pre_invoke]
    config:
      reason: PII outside dev
      policy: '!("PII" in extensions.security.labels) || extensions.request.environment == "dev"'
  - name: labels-cedar
    kind: builtin/pdp_cedar
    hooks: [tool_pre_invoke]
    config:
      policy: |
        permit (principal, action, resource);
        @reason("secret data")
        forbid (principal, action, resource)
        when { context has extensions && context.extensions has security &&
               context.extensions.security.classification == "secret" };
`

func TestPDPEnginesReadTheExtensions(t *testing.T) {
	m := loadGuards(t, pdpExtYAML)
	call := func(ext map[string]any) *core.HookResult {
		var opts []core.InvokeOption
		if ext != nil {
			opts = append(opts, core.WithExtensions(ext))
		}
		res, _, err := m.InvokeHook(context.Background(), "tool_pre_invoke",
			core.NewPayloadValue(map[string]any{"name": "t", "args": map[string]any{}}),
			&core.GlobalContext{RequestID: "r"}, nil, opts...)
		require.NoError(t, err)
		return res
	}
	sec := func(labels []any, class, env string) map[string]any {
		return map[string]any{"security": map[string]any{"labels": labels, "classification": class},
			"request": map[string]any{"environment": env}}
	}
	denied := call(sec([]any{"PII"}, "", "prod"))
	require.NotNil(t, denied.Violation)
	assert.Equal(t, "labels-cel", denied.Violation.PluginName)
	assert.True(t, call(sec([]any{"PII"}, "", "dev")).ContinueProcessing)
	secret := call(sec([]any{}, "secret", "prod"))
	require.NotNil(t, secret.Violation)
	assert.Equal(t, "labels-cedar", secret.Violation.PluginName)
	assert.Equal(t, "secret data", secret.Violation.Reason)
	// no extensions: an empty map, which the CEL policy cannot index (an error, fail closed)
	_, _, err := m.InvokeHook(context.Background(), "tool_pre_invoke",
		core.NewPayloadValue(map[string]any{"name": "t"}), &core.GlobalContext{RequestID: "r"}, nil)
	assert.ErrorContains(t, err, "labels-cel")
}
