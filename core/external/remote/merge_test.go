package remote

import (
	"testing"

	"github.com/cpex-go/cpex/core/config"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestMergeRemoteLocalKeysWin(t *testing.T) {
	remote := map[string]any{"name": "p", "kind": "srv.Plugin", "hooks": []any{"tool_pre_invoke"}, "priority": 7, "mode": "transform", "config": map[string]any{"a": 1}}
	cases := []struct {
		name     string
		local    string
		setKeys  []string
		priority int
		mode     string
	}{
		{"known set keys: a default value set locally still wins", "    priority: 100\n", []string{"name", "kind", "mcp", "priority"}, 100, "transform"},
		{"unknown set keys: only non-default values win", "    priority: 100\n    mode: sequential\n", nil, 7, "transform"},
		{"unknown set keys: a non-default value wins", "    priority: 3\n    mode: audit\n", nil, 3, "audit"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			pc := parseEntry(t, "plugins:\n  - name: p\n    kind: external\n"+c.local+"    mcp: {proto: STREAMABLEHTTP, url: 'http://127.0.0.1:9/mcp'}\n")
			m, merged, err := Merge(pc, c.setKeys, remote)
			require.NoError(t, err)
			assert.Equal(t, "external", merged.Kind)
			assert.Equal(t, []string{"tool_pre_invoke"}, merged.Hooks)
			assert.Equal(t, c.priority, merged.Priority)
			assert.Equal(t, c.mode, string(merged.Mode))
			assert.Equal(t, "external", m["kind"])
			assert.NotNil(t, merged.MCP)
		})
	}
}

func TestMergeRemoteRejectsAnInvalidRemoteConfig(t *testing.T) {
	pc := parseEntry(t, "plugins:\n  - name: p\n    kind: external\n    mcp: {proto: STREAMABLEHTTP, url: 'http://127.0.0.1:9/mcp'}\n")
	_, _, err := Merge(pc, nil, map[string]any{"mode": "sometimes"})
	require.Error(t, err)
	assert.Contains(t, err.Error(), "external plugin p")
	assert.Contains(t, err.Error(), "mode")
}

func parseEntry(t *testing.T, doc string) *config.PluginConfig {
	t.Helper()
	cfg, err := config.Parse([]byte(doc), "test.yaml", config.WithSSRFProtection(false))
	require.NoError(t, err)
	require.Len(t, cfg.Plugins, 1)
	return &cfg.Plugins[0]
}

func TestLocalSetKeysNamesTheTransport(t *testing.T) {
	g := parseEntry(t, "plugins:\n  - name: g\n    kind: external\n    grpc: {target: 'localhost:1'}\n")
	assert.Contains(t, LocalSetKeys(g), "grpc")
	u := parseEntry(t, "plugins:\n  - name: u\n    kind: external\n    unix_socket: {path: /tmp/x.sock}\n")
	assert.Contains(t, LocalSetKeys(u), "unix_socket")
}
