package mcpclient

import (
	"context"
	"errors"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/cpex-go/cpex/core"
	"github.com/cpex-go/cpex/core/config"
)

func parseEntry(t *testing.T, doc string) *config.PluginConfig {
	t.Helper()
	cfg, err := config.Parse([]byte(doc), "test.yaml", config.WithSSRFProtection(false))
	require.NoError(t, err)
	require.Len(t, cfg.Plugins, 1)
	return &cfg.Plugins[0]
}

func httpEntry(t *testing.T, url string, extra string) *config.PluginConfig {
	return parseEntry(t, "plugins:\n  - name: fake\n    kind: external\n"+extra+"    mcp:\n      proto: STREAMABLEHTTP\n      url: "+url+"/mcp\n      reconnect_delay: 0.01\n")
}

func stdioEntry(t *testing.T, name string, env map[string]string) *config.PluginConfig {
	doc := "plugins:\n  - name: " + name + "\n    kind: external\n    mcp:\n      proto: STDIO\n      reconnect_delay: 0.01\n      cmd: ['" + os.Args[0] + "']\n      env:\n        FAKE_MCP_STDIO: '1'\n"
	for k, v := range env {
		doc += "        " + k + ": '" + v + "'\n"
	}
	return parseEntry(t, doc)
}

func testSettings() *config.Settings {
	s, _ := config.LoadSettingsFrom(func(string) (string, bool) { return "", false })
	return &s
}

func connect(t *testing.T, pc *config.PluginConfig) *Plugin {
	t.Helper()
	p, err := Connect(context.Background(), pc, Options{Settings: testSettings()})
	require.NoError(t, err)
	t.Cleanup(func() { _ = p.Shutdown(context.Background()) })
	return p
}

func call(p *Plugin, ctx context.Context, name string) (*core.Result, *core.PluginContext, error) {
	pc := &core.PluginContext{RequestID: "r1", State: map[string]any{"mine": 1}, GlobalState: map[string]any{"g": "mine"}}
	res, err := p.Invoke(ctx, "tool_pre_invoke", core.NewPayloadJSON([]byte(`{"name":"`+name+`","args":{"x":"y"},"headers":null}`)), pc)
	return res, pc, err
}

func TestRemoteConfigMergedUnderLocal(t *testing.T) {
	srv := httptest.NewServer(newHTTPHandler())
	defer srv.Close()
	p := connect(t, httpEntry(t, srv.URL, "    priority: 3\n"))
	m := p.Merged
	assert.Equal(t, []string{"tool_pre_invoke", "tool_post_invoke"}, m.Hooks, "hooks come from the server")
	assert.Equal(t, 3, m.Priority, "a key the local entry sets wins")
	assert.Equal(t, "external", m.Kind, "kind stays external")
	assert.Equal(t, "remote", *m.Description)
	assert.Equal(t, map[string]any{"k": int64(1)}, m.Config, "the remote config is allowed, decoded as the loader decodes YAML")
	require.NotNil(t, m.MCP)
	assert.Equal(t, "external", p.MergedMap["kind"])
}

func TestHookCallsOverHTTPAndStdio(t *testing.T) {
	srv := httptest.NewServer(newHTTPHandler())
	defer srv.Close()
	for name, pc := range map[string]*config.PluginConfig{"http": httpEntry(t, srv.URL, ""), "stdio": stdioEntry(t, "fake", nil)} {
		t.Run(name, func(t *testing.T) {
			p := connect(t, pc)
			ctx := context.Background()

			res, pctx, err := call(p, ctx, "allow")
			require.NoError(t, err)
			assert.False(t, res.Block)
			assert.Equal(t, map[string]any{"seen": "tool_pre_invoke"}, pctx.State, "state copied back")
			assert.Equal(t, map[string]any{"g": "from-server"}, pctx.GlobalState, "global state copied back")

			res, _, err = call(p, ctx, "block")
			require.NoError(t, err)
			assert.True(t, res.Block)
			require.NotNil(t, res.Violation)
			assert.Equal(t, "FAKE", res.Violation.Code)
			assert.Equal(t, "blocked by fake", res.Violation.Description)

			res, _, err = call(p, ctx, "modify")
			require.NoError(t, err)
			assert.Equal(t, map[string]any{"name": "modify", "args": map[string]any{"x": "changed"}}, res.ModifiedPayload)

			res, _, err = call(p, ctx, "echo")
			require.NoError(t, err)
			args := res.Metadata["args"].(map[string]any)
			assert.Equal(t, "tool_pre_invoke", args["hook_type"])
			assert.Equal(t, "fake", args["plugin_name"])
			assert.Equal(t, map[string]any{"name": "echo", "args": map[string]any{"x": "y"}}, args["payload"], "null fields are left out")
			gc := args["context"].(map[string]any)["global_context"].(map[string]any)
			assert.Equal(t, "r1", gc["request_id"])
			assert.NotContains(t, gc, "tenant_id", "None fields are left out")

			_, _, err = call(p, ctx, "error")
			var pe *core.PluginError
			require.ErrorAs(t, err, &pe)
			assert.Equal(t, "remote boom", pe.Message)
			assert.Equal(t, "REMOTE", pe.Code)
			assert.Equal(t, map[string]any{"why": "test"}, pe.Details)
			assert.Equal(t, "fake", pe.PluginName)

			_, _, err = call(p, ctx, "garbage")
			require.ErrorAs(t, err, &pe)
			assert.Equal(t, CodeJSONDecode, pe.Code)
			assert.Contains(t, pe.Message, "this is not json")
		})
	}
}

func TestConcurrentCallsShareTheSession(t *testing.T) {
	srv := httptest.NewServer(newHTTPHandler())
	defer srv.Close()
	p := connect(t, httpEntry(t, srv.URL, ""))
	var wg sync.WaitGroup
	errs := make(chan error, 32)
	for range 32 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, _, err := call(p, context.Background(), "allow")
			errs <- err
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		assert.NoError(t, err)
	}
}

func TestEmptyRemoteConfig(t *testing.T) {
	srv := httptest.NewServer(newHTTPHandler())
	defer srv.Close()
	pc := parseEntry(t, "plugins:\n  - name: unknown\n    kind: external\n    mcp: {proto: STREAMABLEHTTP, url: '"+srv.URL+"/mcp'}\n")
	_, err := Connect(context.Background(), pc, Options{Settings: testSettings()})
	var pe *core.PluginError
	require.ErrorAs(t, err, &pe)
	assert.Equal(t, "Unable to retrieve configuration for external plugin", pe.Message)
	assert.Equal(t, "unknown", pe.PluginName)
}

func TestServerRestartReconnectsAndRetries(t *testing.T) {
	sw := &swapHandler{h: newHTTPHandler()}
	srv := httptest.NewServer(sw)
	defer srv.Close()
	p := connect(t, httpEntry(t, srv.URL, ""))
	_, _, err := call(p, context.Background(), "allow")
	require.NoError(t, err)
	sw.h = newHTTPHandler() // a restarted server knows no session
	_, pctx, err := call(p, context.Background(), "allow")
	require.NoError(t, err, "the call is retried on a new session")
	assert.Equal(t, "tool_pre_invoke", pctx.State["seen"])
}

func TestStdioServerDyingMidCall(t *testing.T) {
	marker := filepath.Join(t.TempDir(), "died")
	p := connect(t, stdioEntry(t, "fake", map[string]string{"FAKE_DIE_ONCE": marker}))
	_, _, err := call(p, context.Background(), "die")
	require.NoError(t, err, "the server died once: the client restarts it and retries")

	p2 := connect(t, stdioEntry(t, "fake", nil))
	_, _, err = call(p2, context.Background(), "die")
	var pe *core.PluginError
	require.ErrorAs(t, err, &pe, "a server that dies on every call gives a PluginError")
	assert.Equal(t, "fake", pe.PluginName)
	assert.Contains(t, pe.Message, "fake")
}

func TestServerThatNeverAnswersHonoursTheDeadline(t *testing.T) {
	srv := httptest.NewServer(newHTTPHandler())
	defer srv.Close()
	p := connect(t, httpEntry(t, srv.URL, ""))
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	_, _, err := call(p, ctx, "hang")
	require.Error(t, err)
	assert.True(t, errors.Is(err, context.DeadlineExceeded), "got %v", err)
	// The session is still usable afterwards.
	_, _, err = call(p, context.Background(), "allow")
	require.NoError(t, err)
}

func TestConnectFailures(t *testing.T) {
	dir := t.TempDir()
	script := filepath.Join(dir, "srv.py")
	require.NoError(t, os.WriteFile(script, []byte("x"), 0o600))
	pc := parseEntry(t, "plugins:\n  - name: gone\n    kind: external\n    mcp: {proto: STDIO, script: '"+script+"'}\n")
	require.NoError(t, os.Remove(script))
	_, err := Connect(context.Background(), pc, Options{Settings: testSettings()})
	var pe *core.PluginError
	require.ErrorAs(t, err, &pe)
	assert.Equal(t, "gone", pe.PluginName)
	assert.Contains(t, pe.Message, "does not exist")

	pc = parseEntry(t, "plugins:\n  - name: nobody\n    kind: external\n    mcp: {proto: STREAMABLEHTTP, url: 'http://127.0.0.1:1/mcp'}\n")
	_, err = Connect(context.Background(), pc, Options{Settings: testSettings()})
	require.ErrorAs(t, err, &pe)
	assert.Equal(t, "nobody", pe.PluginName)
}

func TestTLSMismatch(t *testing.T) {
	srv := httptest.NewTLSServer(newHTTPHandler())
	defer srv.Close()
	// The test server's certificate is not in the system roots: verification fails.
	pc := parseEntry(t, "plugins:\n  - name: tlsplug\n    kind: external\n    mcp: {proto: STREAMABLEHTTP, url: '"+srv.URL+"/mcp', tls: {verify: true}}\n")
	_, err := Connect(context.Background(), pc, Options{Settings: testSettings()})
	var pe *core.PluginError
	require.ErrorAs(t, err, &pe)
	assert.Equal(t, "tlsplug", pe.PluginName)
	assert.Contains(t, pe.Message, "certificate")

	pc = parseEntry(t, "plugins:\n  - name: tlsplug\n    kind: external\n    mcp: {proto: STREAMABLEHTTP, url: '"+srv.URL+"/mcp', tls: {verify: false}}\n")
	p := connect(t, pc)
	_, _, err = call(p, context.Background(), "allow")
	require.NoError(t, err, "verify: false accepts it")
}

func TestManagerPlansHooksFromTheRemoteConfig(t *testing.T) {
	srv := httptest.NewServer(newHTTPHandler())
	defer srv.Close()
	cfg, err := config.Parse([]byte("plugins:\n  - name: fake\n    kind: external\n    mcp: {proto: STREAMABLEHTTP, url: '"+srv.URL+"/mcp'}\n"), "t.yaml", config.WithSSRFProtection(false))
	require.NoError(t, err)
	m, err := core.NewManager(cfg)
	require.NoError(t, err)
	defer func() { _ = m.Shutdown(context.Background()) }()
	assert.True(t, m.HasHooksFor("tool_pre_invoke"))
	res, _, err := m.InvokeHook(context.Background(), "tool_pre_invoke", core.NewPayloadJSON([]byte(`{"name":"block","args":{}}`)), &core.GlobalContext{RequestID: "r"}, nil)
	require.NoError(t, err)
	assert.False(t, res.ContinueProcessing)
	require.NotNil(t, res.Violation)
	assert.Equal(t, "FAKE", res.Violation.Code)

	gctx := &core.GlobalContext{RequestID: "r2"}
	res, table, err := m.InvokeHook(context.Background(), "tool_pre_invoke", core.NewPayloadJSON([]byte(`{"name":"allow","args":{}}`)), gctx, nil)
	require.NoError(t, err)
	assert.True(t, res.ContinueProcessing)
	assert.Equal(t, "from-server", gctx.State["g"], "global state written by the server is merged back")
	require.Len(t, table, 1)
	for _, pc := range table {
		assert.Equal(t, "tool_pre_invoke", pc.State["seen"], "the plugin's state is kept in the context table")
	}
}
