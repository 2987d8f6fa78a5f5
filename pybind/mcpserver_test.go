package pybind

import (
	"context"
	"encoding/json"
	"os"
	"syscall"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/cpex-go/cpex/core"
	"github.com/cpex-go/cpex/core/config"
	"github.com/cpex-go/cpex/core/external/mcpclient"
)

func TestMCPServerStartRejectsBadOptions(t *testing.T) {
	r, w, err := os.Pipe()
	require.NoError(t, err)
	defer r.Close()
	defer w.Close()
	for _, tc := range []struct{ opts, want string }{
		{`{"transport":"pigeon","configs":[]}`, `opts.transport: want "stdio", "http", "grpc" or "unix", got "pigeon"`},
		{`{"transport":"unix","configs":[]}`, `opts.path: the unix transport needs the socket path`},
		{`{"transport":"grpc","host":"127.0.0.1","port":0,"uds":"/tmp/x.sock","tls":{"certfile":"c"},"configs":[]}`, "tls cannot be used with uds"},
		{`{"transport":"grpc","host":"127.0.0.1","port":0,"tls":{"certfile":"/nonexistent.pem"},"configs":[]}`, "/nonexistent.pem"},
		{`{"transport":"http","configs":[{"nom":1}]}`, "plugin config 0: want a JSON object with a string name"},
		{`not json`, "opts"},
	} {
		_, err := MCPServerStart(tc.opts, int(w.Fd()))
		require.Error(t, err, tc.opts)
		assert.Contains(t, err.Error(), tc.want)
	}
	_, err = MCPServerStart(`{"transport":"http","configs":[]}`, -1)
	assert.ErrorContains(t, err, "fd: want the write end of a pipe")
	_, err = MCPServerTake(424242)
	assert.ErrorContains(t, err, "MCPServerTake: no server 424242")
}

// The host's side of the queue, as the Python runtime drives it: wait for the pipe,
// take, answer; the client is our Go client over HTTP.
func TestMCPServerQueueRoundTrip(t *testing.T) {
	var fds [2]int
	require.NoError(t, syscall.Pipe2(fds[:], syscall.O_NONBLOCK|syscall.O_CLOEXEC))
	defer syscall.Close(fds[0])
	defer syscall.Close(fds[1])
	ans, err := MCPServerStart(`{"transport":"http","host":"127.0.0.1","port":0,"log_level":"ERROR",
		"configs":[{"name":"PyGuard","kind":"x.PyGuard","hooks":["tool_pre_invoke"],"mode":"sequential"}]}`, fds[1])
	require.NoError(t, err)
	var started struct {
		ID   int    `json:"id"`
		Addr string `json:"addr"`
	}
	require.NoError(t, json.Unmarshal([]byte(ans), &started))

	cfg, err := config.Parse([]byte("plugins:\n  - name: PyGuard\n    kind: external\n    mcp: {proto: STREAMABLEHTTP, url: 'http://"+started.Addr+"/mcp'}\n"),
		"client.yaml", config.WithSSRFProtection(false))
	require.NoError(t, err)
	s, _ := config.LoadSettingsFrom(func(string) (string, bool) { return "", false })
	p, err := mcpclient.Connect(context.Background(), &cfg.Plugins[0], mcpclient.Options{Settings: &s})
	require.NoError(t, err)
	defer func() { _ = p.Shutdown(context.Background()) }()
	assert.Equal(t, []string{"tool_pre_invoke"}, p.Merged.Hooks, "the config tools answer without the host")

	type reply struct {
		res *core.Result
		err error
	}
	done := make(chan reply, 1)
	go func() {
		res, err := p.Invoke(context.Background(), core.HookToolPreInvoke,
			core.NewPayloadValue(map[string]any{"name": "rm", "args": map[string]any{}}), &core.PluginContext{RequestID: "r1"})
		done <- reply{res, err}
	}()
	var calls []struct {
		ID         int             `json:"id"`
		PluginName string          `json:"plugin_name"`
		HookType   string          `json:"hook_type"`
		Payload    json.RawMessage `json:"payload"`
		Context    json.RawMessage `json:"context"`
	}
	for len(calls) == 0 {
		waitReadable(t, fds[0])
		drain(fds[0])
		taken, err := MCPServerTake(started.ID)
		require.NoError(t, err)
		var doc struct {
			Calls json.RawMessage `json:"calls"`
			Ended bool            `json:"ended"`
		}
		require.NoError(t, json.Unmarshal([]byte(taken), &doc))
		require.False(t, doc.Ended)
		require.NoError(t, json.Unmarshal(doc.Calls, &calls))
	}
	require.Len(t, calls, 1)
	assert.Equal(t, "PyGuard", calls[0].PluginName)
	assert.Equal(t, "tool_pre_invoke", calls[0].HookType)
	assert.JSONEq(t, `{"name":"rm","args":{}}`, string(calls[0].Payload))
	_, err = MCPServerAnswer(started.ID, calls[0].ID, "not json")
	assert.ErrorContains(t, err, "reply is not JSON")
	ok, err := MCPServerAnswer(started.ID, calls[0].ID, `{"plugin_name":"PyGuard","result":{"continue_processing":false,
		"violation":{"reason":"r","description":"d","code":"DENIED","details":{}}}}`)
	require.NoError(t, err)
	assert.True(t, ok)
	got := <-done
	require.NoError(t, got.err)
	assert.True(t, got.res.Block)
	assert.Equal(t, "DENIED", got.res.Violation.Code)

	metrics, err := MCPServerMetrics(started.ID)
	require.NoError(t, err)
	assert.Contains(t, metrics, `cpex_plugin_server_calls_total{hook="tool_pre_invoke",outcome="blocked",plugin="PyGuard"} 1`)

	require.NoError(t, MCPServerStop(started.ID))
	_, err = MCPServerTake(started.ID)
	assert.ErrorContains(t, err, "no server")
}

func waitReadable(t *testing.T, fd int) {
	t.Helper()
	for {
		var set syscall.FdSet
		set.Bits[fd/64] |= 1 << (uint(fd) % 64)
		n, err := syscall.Select(fd+1, &set, nil, nil, nil)
		if err == syscall.EINTR {
			continue
		}
		require.NoError(t, err)
		if n > 0 {
			return
		}
	}
}

func drain(fd int) {
	buf := make([]byte, 64)
	for {
		if n, err := syscall.Read(fd, buf); n <= 0 || err != nil {
			return
		}
	}
}
