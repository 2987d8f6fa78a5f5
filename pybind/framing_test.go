package pybind

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// splitFrames splits an answer into its JSON header and the payload frame ("" when
// there is none), as the Python driver does (docs/protocol.md, "Framing").
func splitFrames(t testing.TB, ans string) (map[string]any, string) {
	head, payload, _ := strings.Cut(ans, "\n")
	return decode(t, head), payload
}

// The answers that carry a Go plugin's new payload flag it in the header and carry its
// JSON text, unescaped, after the first newline.
func TestModifiedPayloadAnswers(t *testing.T) {
	goID, err := GoPluginNew(`{"name":"rr","kind":"builtin/regex_replace","config":{"words":[{"search":"crap","replace":"crud"}]}}`)
	require.NoError(t, err)
	t.Cleanup(func() { _, _ = GoPluginRelease(goID) })
	ans, err := GoPluginInvoke(goID, "tool_pre_invoke", `{"name":"t","args":{"q":"crap <b>\u2028\n","n":1e-7}}`, `{"rid":"r"}`)
	require.NoError(t, err)
	head, text := splitFrames(t, ans)
	assert.Equal(t, true, head["payload"], ans)
	assert.JSONEq(t, `{"name":"t","args":{"q":"crud <b>\u2028\n","n":1e-7}}`, text)

	ans, err = GoPluginInvoke(goID, "tool_pre_invoke", `{"name":"t","args":{"q":"clean"}}`, `{"rid":"r"}`)
	require.NoError(t, err)
	head, text = splitFrames(t, ans)
	assert.Equal(t, false, head["payload"], ans)
	assert.Empty(t, text, "no frame when nothing changed")
	assert.NotContains(t, ans, "\n")

	plan := s4Plan(t)
	step, err := RunStart(plan, plainFacts)
	require.NoError(t, err)
	payload := s4PayloadJSON(t)
	ans, err = RunGo(runIDOf(step), payload)
	require.NoError(t, err)
	head, text = splitFrames(t, ans)
	eff, ok := head["effects"].(map[string]any)
	require.True(t, ok, ans)
	assert.Equal(t, true, eff["payload"])
	var out map[string]any
	require.NoError(t, json.Unmarshal([]byte(text), &out))
	assert.Equal(t, "ingest_documents", out["name"])
	assert.NotContains(t, text, "alice.smith@example.com", "pii_filter redacted the e-mail addresses")
	assert.NotContains(t, text, "AKIAIOSFODNN7EXAMPLE", "the AWS key was redacted")
	assert.Contains(t, text, "crud", "regex_replace ran")
	require.Contains(t, payload, "crap")
}
