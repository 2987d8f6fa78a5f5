package pybind

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestIsolatedPluginNewBadInput(t *testing.T) {
	for _, c := range []struct{ entry, opts, want string }{
		{`{`, `{}`, "entry: invalid JSON"},
		{`{"name":"i","kind":"external","mcp":{"proto":"STDIO","script":"x.py"}}`, `{}`, "kind isolated_venv"},
		{`{"name":"i","kind":"isolated_venv"}`, `{"timeout":-1}`, "opts.timeout"},
	} {
		_, err := IsolatedPluginNew(c.entry, c.opts)
		require.Error(t, err, c.entry)
		assert.Contains(t, err.Error(), c.want)
	}
}

func TestIsolatedPluginNewAnswersTheErrorModel(t *testing.T) {
	out, err := IsolatedPluginNew(`{"name":"iso","kind":"isolated_venv","config":{"class_name":"NoDots"}}`, `{"plugin_dirs":["/tmp"]}`)
	require.NoError(t, err)
	assert.Contains(t, out, `"plugin_name":"iso"`)
	assert.Contains(t, out, `"code":"ISOLATED_CONFIG_ERROR"`)
	assert.Contains(t, out, "class_name")
}

// FuzzIsolatedNewInput: the argument checks of IsolatedPluginNew (the venv and worker are
// left out) never panic, and an accepted entry is an isolated_venv plugin with a name and
// positive timeouts.
func FuzzIsolatedNewInput(f *testing.F) {
	f.Add(`{"name":"i","kind":"isolated_venv","config":{"class_name":"a.B"}}`, `{"plugin_dirs":["p"],"timeout":3,"call_timeout":1}`)
	f.Add(`{"name":"i","kind":"isolated_venv"}`, `{"python":null,"safe_config":"{}"}`)
	f.Add(`[]`, `{"call_timeout":-1}`)
	f.Fuzz(func(t *testing.T, entry, opts string) {
		pc, o, timeout, err := isolatedNewInput(entry, opts)
		if err != nil {
			return
		}
		if pc == nil || pc.Name == "" || pc.Kind != "isolated_venv" || timeout <= 0 || o.CallTimeout < 0 {
			t.Fatalf("accepted %q / %q as %+v", entry, opts, pc)
		}
	})
}
