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
