package mcpserver

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/cpex-go/cpex/core"
	"github.com/cpex-go/cpex/core/config"
)

// guard is the test's Go plugin: what it does depends on the payload's "name".
type guard struct{ level any }

const guardKind = core.BuiltinPrefix + "mcpserver_test_guard"

func init() {
	core.RegisterFactory(guardKind, func(spec core.PluginSpec) (core.Plugin, error) {
		return guard{level: spec.Config["level"]}, nil
	})
}

func (g guard) Invoke(ctx context.Context, hook string, p *core.Payload, pctx *core.PluginContext) (*core.Result, error) {
	v, err := p.Value()
	if err != nil {
		return nil, err
	}
	m := v.(map[string]any)
	switch m["name"] {
	case "block":
		return &core.Result{Block: true, Violation: &core.Violation{Reason: "blocked", Description: "the guard blocks this tool",
			Code: "GUARD_BLOCK", Details: map[string]any{"tool": "block"}}}, nil
	case "modify":
		return &core.Result{ModifiedPayload: map[string]any{"name": "modify", "args": map[string]any{"x": "changed by server"}}}, nil
	case "error":
		return nil, errors.New("guard failed on purpose")
	case "hang":
		<-ctx.Done()
		return nil, ctx.Err()
	}
	if hook == core.HookToolPostInvoke {
		return &core.Result{Metadata: map[string]any{"state_at_post": pctx.State["seen"]}}, nil
	}
	pctx.State = map[string]any{"seen": m["name"]}
	gs := map[string]any{}
	for k, v := range pctx.GlobalState {
		gs[k] = v
	}
	from, _ := gs["from_client"].(string)
	gs["from_server"] = from + "+server"
	pctx.GlobalState = gs
	return &core.Result{Metadata: map[string]any{"level": g.level, "request_id": pctx.RequestID, "hook": hook}}, nil
}

// testTimeout is the served plugins' timeout (a hanging plugin ends with it).
const testTimeout = 300 * time.Millisecond

const serverYAML = `plugins:
  - name: GoGuard
    kind: ` + guardKind + `
    description: a Go guard served over MCP
    hooks: [tool_pre_invoke, tool_post_invoke]
    priority: 5
    config:
      level: strict
`

// newGoServer is a Server of GoGuard under a Manager.
func newGoServer(t testing.TB) *Server {
	t.Helper()
	dir := t.TempDir()
	path := filepath.Join(dir, "config.yaml")
	require.NoError(t, os.WriteFile(path, []byte(serverYAML), 0o600))
	m, err := core.LoadManager(path, core.WithTimeout(testTimeout))
	require.NoError(t, err)
	t.Cleanup(func() { _ = m.Shutdown(context.Background()) })
	b, err := NewManagerBackend(m)
	require.NoError(t, err)
	return New(b, Options{MaxRequestBytes: 64 << 10})
}

// TestMain doubles as a stdio plugin server: the tests start this binary with
// MCPSERVER_TEST_STDIO=1 as the `cmd` of an external plugin.
func TestMain(m *testing.M) {
	if os.Getenv("MCPSERVER_TEST_STDIO") == "1" {
		path := os.Getenv("MCPSERVER_TEST_CONFIG")
		mgr, err := core.LoadManager(path, core.WithTimeout(testTimeout))
		if err != nil {
			os.Exit(2)
		}
		b, err := NewManagerBackend(mgr)
		if err != nil {
			os.Exit(2)
		}
		if err := New(b, Options{MaxRequestBytes: 64 << 10}).RunStdio(context.Background()); err != nil {
			os.Exit(1)
		}
		os.Exit(0)
	}
	os.Exit(m.Run())
}

func testSettings() *config.Settings {
	s, _ := config.LoadSettingsFrom(func(string) (string, bool) { return "", false })
	return &s
}
