package builtins_test

import (
	"context"
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/cpex-go/cpex/core"
	"github.com/cpex-go/cpex/core/cmf"
	"github.com/cpex-go/cpex/core/hooks"
)

// The guards on message hooks: only content leaves of the CMF message are scanned, the
// result is still a valid message, and identifiers stay untouched.
const cmfGuardsYAML = `
plugins:
  - name: secrets
    kind: builtin/secrets_detection
    hooks: [cmf.tool_post_invoke]
    mode: sequential
    priority: 10
    config:
      redact: true
      redaction_text: "[SECRET]"
      block_on_detection: false
  - name: pii
    kind: builtin/pii_filter
    hooks: [cmf.llm_input, cmf.tool_post_invoke, cmf.tool_pre_invoke]
    mode: sequential
    priority: 20
  - name: strict-pii
    kind: builtin/pii_filter
    hooks: [cmf.prompt_pre_fetch]
    mode: sequential
    config:
      block_on_detection: true
`

func messagePayload(t *testing.T, msg string) *core.Payload {
	t.Helper()
	var p hooks.MessagePayload
	require.NoError(t, json.Unmarshal([]byte(`{"message":`+msg+`,"hook":"llm_input"}`), &p))
	out, err := hooks.ToPayload(p)
	require.NoError(t, err)
	return out
}

func modifiedMessage(t *testing.T, res *core.HookResult) cmf.Message {
	t.Helper()
	require.NotNil(t, res.ModifiedPayload)
	v, err := res.ModifiedPayload.Value()
	require.NoError(t, err)
	m, err := cmf.FromTree(v.(map[string]any)["message"])
	require.NoError(t, err, "the masked payload is still a valid CMF message")
	return m
}

func TestGuardsMaskCMFMessage(t *testing.T) {
	m := loadGuards(t, cmfGuardsYAML)
	in := messagePayload(t, `{"role":"user","content":[
		{"content_type":"text","text":"mail alice@example.com please"},
		{"content_type":"tool_call","content":{"tool_call_id":"bob@example.com","name":"send","arguments":{"to":"carol@example.com","n":3}}},
		{"content_type":"image","content":{"type":"url","data":"https://x.io/dave@example.com.png"}},
		{"content_type":"prompt_result","content":{"prompt_request_id":"p","prompt_name":"n","content":"erin@example.com",
		  "messages":[{"role":"user","content":[{"content_type":"thinking","text":"frank@example.com"}]}]}}]}`)
	res, _, err := m.InvokeHook(context.Background(), cmf.HookLLMInput, in, &core.GlobalContext{RequestID: "r1"}, nil)
	require.NoError(t, err)
	require.True(t, res.ContinueProcessing)
	msg := modifiedMessage(t, res)
	assert.Equal(t, "mail [REDACTED] please", msg.Content[0].Text)
	assert.Equal(t, "[REDACTED]", msg.Content[1].ToolCall.Arguments["to"])
	assert.Equal(t, "bob@example.com", msg.Content[1].ToolCall.ToolCallID, "ids are not content")
	assert.Equal(t, "https://x.io/dave@example.com.png", msg.Content[2].Image.Data, "media data is not scanned")
	assert.Equal(t, "[REDACTED]", *msg.Content[3].PromptResult.Content)
	assert.Equal(t, "[REDACTED]", msg.Content[3].PromptResult.Messages[0].Content[0].Text)
	assert.Equal(t, cmf.RoleUser, msg.Role)
}

func TestGuardsChainOnCMFToolResult(t *testing.T) {
	m := loadGuards(t, cmfGuardsYAML)
	in := messagePayload(t, `{"role":"tool","content":[{"content_type":"tool_result","content":{"tool_call_id":"t","tool_name":"lookup",
		"content":{"text":"jane@corp.io key AKIAFAKE12345EXAMPLE"}}}]}`)
	res, _, err := m.InvokeHook(context.Background(), cmf.HookToolPostInvoke, in, &core.GlobalContext{RequestID: "r2"}, nil)
	require.NoError(t, err)
	msg := modifiedMessage(t, res)
	assert.Equal(t, map[string]any{"text": "[REDACTED] key [SECRET]"}, msg.Content[0].ToolResult.Content)
	assert.Contains(t, res.Metadata, "secrets_detection")
}

func TestGuardsBlockCMFMessage(t *testing.T) {
	m := loadGuards(t, cmfGuardsYAML)
	in := messagePayload(t, `{"role":"user","content":[{"content_type":"prompt_request","content":{"prompt_request_id":"p","name":"x","arguments":{"q":"my SSN is 123-45-6789"}}}]}`)
	res, _, err := m.InvokeHook(context.Background(), cmf.HookPromptPreFetch, in, &core.GlobalContext{RequestID: "r3"}, nil)
	require.NoError(t, err)
	assert.False(t, res.ContinueProcessing)
	require.NotNil(t, res.Violation)
	assert.Equal(t, "PII_DETECTED_IN_MESSAGE", res.Violation.Code)
	assert.Equal(t, "strict-pii", res.Violation.PluginName)
}

func TestMessageHooksKnownToCore(t *testing.T) {
	for _, h := range cmf.HookNames() {
		_, ok := core.LookupHookType(h)
		assert.True(t, ok, h)
	}
}
