package pybind

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The answers that carry a Go plugin's new payload hold its JSON text as a string.
func TestModifiedPayloadAnswers(t *testing.T) {
	goID, err := GoPluginNew(`{"name":"rr","kind":"builtin/regex_replace","config":{"words":[{"search":"crap","replace":"crud"}]}}`)
	require.NoError(t, err)
	t.Cleanup(func() { _, _ = GoPluginRelease(goID) })
	ans, err := GoPluginInvoke(goID, "tool_pre_invoke", `{"name":"t","args":{"q":"crap <b>\\u2028","n":1e-7}}`, `{"rid":"r"}`)
	require.NoError(t, err)
	text, ok := decode(t, ans)["payload"].(string)
	require.True(t, ok, ans)
	assert.JSONEq(t, `{"name":"t","args":{"q":"crud <b>\\u2028","n":1e-7}}`, text)
}
