package builtins_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/cpex-go/cpex/core"
	_ "github.com/cpex-go/cpex/core/builtins" // registers kind builtin/<name>
	"github.com/cpex-go/cpex/core/config"
)

// The guards as a Go program uses them: selected by kind in YAML, run by the Manager
// with the executor's rules (priority order, modes, payload chaining).
const guardsYAML = `
plugins:
  - name: secrets
    kind: builtin/secrets_detection
    hooks: [tool_post_invoke]
    mode: sequential
    priority: 10
    config:
      redact: true
      redaction_text: "[SECRET]"
      block_on_detection: false
  - name: pii
    kind: builtin/pii_filter
    hooks: [tool_pre_invoke, tool_post_invoke]
    mode: sequential
    priority: 20
    config:
      detect_phone: false
      default_mask_strategy: partial
  - name: strict-pii
    kind: builtin/pii_filter
    hooks: [prompt_pre_fetch]
    mode: sequential
    config:
      block_on_detection: true
`

func loadGuards(t *testing.T, yaml string) *core.Manager {
	t.Helper()
	cfg, err := config.Parse([]byte(yaml), "guards.yaml")
	require.NoError(t, err)
	m, err := core.NewManager(cfg)
	require.NoError(t, err)
	t.Cleanup(func() { _ = m.Shutdown(context.Background()) })
	return m
}

func TestGuardsChainFromYAML(t *testing.T) {
	m := loadGuards(t, guardsYAML)
	payload := core.NewPayloadValue(map[string]any{
		"name":   "lookup",
		"result": map[string]any{"text": "jane@corp.io key AKIAFAKE12345EXAMPLE tel 555-123-4567"},
	})
	res, _, err := m.InvokeHook(context.Background(), "tool_post_invoke", payload, &core.GlobalContext{RequestID: "r1"}, nil)
	require.NoError(t, err)
	require.True(t, res.ContinueProcessing)
	require.NotNil(t, res.ModifiedPayload)
	v, err := res.ModifiedPayload.Value()
	require.NoError(t, err)
	// secrets ran first (priority 10) and redacted the key; pii then masked the email
	// partially and left the phone (detect_phone: false)
	assert.Equal(t, "j***e@corp.io key [SECRET] tel 555-123-4567", v.(map[string]any)["result"].(map[string]any)["text"])
	assert.Contains(t, res.Metadata, "secrets_detection")
	assert.Contains(t, res.Metadata, "pii_filter")
}

func TestGuardsBlockFromYAML(t *testing.T) {
	m := loadGuards(t, guardsYAML)
	payload := core.NewPayloadValue(map[string]any{"prompt_id": "p", "args": map[string]any{"q": "my SSN is 123-45-6789"}})
	res, _, err := m.InvokeHook(context.Background(), "prompt_pre_fetch", payload, &core.GlobalContext{RequestID: "r2"}, nil)
	require.NoError(t, err)
	assert.False(t, res.ContinueProcessing)
	require.NotNil(t, res.Violation)
	assert.Equal(t, "PII_DETECTED", res.Violation.Code)
	assert.Equal(t, "strict-pii", res.Violation.PluginName)
}

func TestGuardsBadConfigFromYAML(t *testing.T) {
	cfg, err := config.Parse([]byte(`
plugins:
  - name: pii
    kind: builtin/pii_filter
    hooks: [tool_pre_invoke]
    config:
      detect_emails: true
`), "bad.yaml")
	require.NoError(t, err)
	_, err = core.NewManager(cfg)
	require.Error(t, err)
	assert.Contains(t, err.Error(), `config key "detect_emails" (value true): unknown key`)
}
