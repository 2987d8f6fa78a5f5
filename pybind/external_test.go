package pybind

import (
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestExternalPluginNewBadInput(t *testing.T) {
	good := `{"name":"e","kind":"external","mcp":{"proto":"STREAMABLEHTTP","url":"http://127.0.0.1:1/mcp"}}`
	cases := []struct{ name, entry, opts, want string }{
		{"opts not JSON", good, `{`, "opts"},
		{"bad timeout", good, `{"timeout":-1}`, "opts.timeout"},
		{"entry not JSON", `{`, `{}`, "entry: invalid JSON"},
		{"entry not an object", `[1]`, `{}`, "entry: want a JSON object"},
		{"not external", `{"name":"e","kind":"builtin/x"}`, `{}`, "kind external"},
		{"invalid entry", `{"name":"e","kind":"external","mcp":{"proto":"STDIO"}}`, `{}`, "exactly one of script or cmd"},
		{"bad settings", good, `{"env":{"PLUGINS_HTTPX_READ_TIMEOUT":"soon"}}`, "PLUGINS_HTTPX_READ_TIMEOUT"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := ExternalPluginNew(c.entry, c.opts)
			require.Error(t, err)
			assert.Contains(t, err.Error(), c.want)
		})
	}
}

func TestExternalPluginNewUnreachableAnswersTheErrorModel(t *testing.T) {
	out, err := ExternalPluginNew(`{"name":"e","kind":"external","mcp":{"proto":"STREAMABLEHTTP","url":"http://127.0.0.1:1/mcp"}}`, `{"timeout":5,"env":{}}`)
	require.NoError(t, err)
	var answer struct {
		Error map[string]any `json:"error"`
	}
	require.NoError(t, json.Unmarshal([]byte(out), &answer))
	require.NotNil(t, answer.Error, out)
	assert.Equal(t, "e", answer.Error["plugin_name"])
	assert.Equal(t, "MCP_TRANSPORT_ERROR", answer.Error["code"])
	assert.Contains(t, answer.Error["message"], "external plugin e")
}

// FuzzExternalNewInput: the argument checks of ExternalPluginNew (the connection itself
// is left out: a fuzzed entry could name any command) never panic, and an accepted
// entry is an external MCP plugin with a name.
func FuzzExternalNewInput(f *testing.F) {
	f.Add(`{"name":"e","kind":"external","mcp":{"proto":"STDIO","cmd":["x"]}}`, `{"timeout":1,"env":{"PLUGINS_HTTPX_READ_TIMEOUT":"2"}}`)
	f.Add(`{"name":"e","kind":"external","priority":3,"mcp":{"proto":"STREAMABLEHTTP","url":"http://127.0.0.1/mcp","uds":"/tmp/s.sock"}}`, `{}`)
	f.Add(`[]`, `{"python":null}`)
	f.Fuzz(func(t *testing.T, entry, opts string) {
		pc, mo, timeout, err := externalNewInput(entry, opts)
		if err != nil {
			return
		}
		if pc == nil || pc.Name == "" || pc.MCP == nil || pc.Kind != "external" || timeout <= 0 || mo.SetKeys == nil {
			t.Fatalf("accepted %q / %q as %+v", entry, opts, pc)
		}
	})
}
