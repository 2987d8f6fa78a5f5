package pybind

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"syscall"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/cpex-go/cpex/core"
	"github.com/cpex-go/cpex/core/config"
	cgrpc "github.com/cpex-go/cpex/core/external/grpc"
	"github.com/cpex-go/cpex/core/external/unixsock"
)

// The Python host's side of the gRPC and Unix-socket runtimes: the same queue and
// take/answer calls as MCP; the clients are our Go gRPC and Unix-socket clients.
func TestProtoServersQueueRoundTrip(t *testing.T) {
	for _, transport := range []string{"grpc", "grpc-uds", "unix"} {
		t.Run(transport, func(t *testing.T) {
			var fds [2]int
			require.NoError(t, syscall.Pipe2(fds[:], syscall.O_NONBLOCK|syscall.O_CLOEXEC))
			defer syscall.Close(fds[0])
			defer syscall.Close(fds[1])
			sock := filepath.Join(shortTempDir(t), "s.sock")
			opts := map[string]any{"transport": "grpc", "host": "127.0.0.1", "port": 0, "log_level": "ERROR",
				"configs": []any{map[string]any{"name": "PyGuard", "kind": "x.PyGuard", "hooks": []string{"tool_pre_invoke"}, "mode": "sequential"}}}
			switch transport {
			case "grpc-uds":
				opts["uds"] = sock
			case "unix":
				opts["transport"], opts["path"] = "unix", sock
			}
			raw, _ := json.Marshal(opts)
			ans, err := MCPServerStart(string(raw), fds[1])
			require.NoError(t, err)
			var started struct {
				ID   int    `json:"id"`
				Addr string `json:"addr"`
			}
			require.NoError(t, json.Unmarshal([]byte(ans), &started))
			defer func() { _ = MCPServerStop(started.ID) }()

			var entry string
			switch transport {
			case "grpc":
				entry = fmt.Sprintf("grpc: {target: '%s'}", started.Addr)
			case "grpc-uds":
				entry = fmt.Sprintf("grpc: {uds: '%s'}", sock)
			default:
				entry = fmt.Sprintf("unix_socket: {path: '%s'}\n    hooks: [tool_pre_invoke]", sock)
			}
			cfg, err := config.Parse([]byte("plugins:\n  - name: PyGuard\n    kind: external\n    "+entry+"\n"), "client.yaml", config.WithSSRFProtection(false))
			require.NoError(t, err)
			s, _ := config.LoadSettingsFrom(func(string) (string, bool) { return "", false })
			var p interface {
				core.Plugin
				Shutdown(context.Context) error
			}
			if transport == "unix" {
				up, err := unixsock.Connect(context.Background(), &cfg.Plugins[0])
				require.NoError(t, err)
				p = up
			} else {
				gp, err := cgrpc.Connect(context.Background(), &cfg.Plugins[0], cgrpc.Options{Settings: &s})
				require.NoError(t, err)
				assert.Equal(t, []string{"tool_pre_invoke"}, gp.Merged.Hooks, "the config answers without the host")
				p = gp
			}
			defer func() { _ = p.Shutdown(context.Background()) }()

			type reply struct {
				res *core.Result
				err error
			}
			done := make(chan reply, 1)
			pctx := &core.PluginContext{RequestID: "r1", User: "alice", GlobalState: map[string]any{"g": "1"}}
			go func() {
				res, err := p.Invoke(context.Background(), core.HookToolPreInvoke,
					core.NewPayloadValue(map[string]any{"name": "rm", "args": map[string]any{"n": 5}}), pctx)
				done <- reply{res, err}
			}()
			call := takeOne(t, fds[0], started.ID)
			assert.Equal(t, "PyGuard", call.PluginName)
			assert.JSONEq(t, `{"name":"rm","args":{"n":5}}`, string(call.Payload))
			var cx struct {
				GlobalContext struct {
					RequestID string         `json:"request_id"`
					User      any            `json:"user"`
					TenantID  *string        `json:"tenant_id"`
					State     map[string]any `json:"state"`
				} `json:"global_context"`
			}
			require.NoError(t, json.Unmarshal(call.Context, &cx))
			assert.Equal(t, "r1", cx.GlobalContext.RequestID)
			assert.Equal(t, "alice", cx.GlobalContext.User)
			assert.Nil(t, cx.GlobalContext.TenantID, "an empty id is None, as upstream's servicer reads it")
			assert.Equal(t, map[string]any{"g": "1"}, cx.GlobalContext.State)
			ok, err := MCPServerAnswer(started.ID, call.ID, `{"plugin_name":"PyGuard","result":{"continue_processing":false,
				"violation":{"reason":"r","description":"d","code":"DENIED","details":{}},"metadata":{},
				"denial_metadata":{"score":3,"ratio":0.5,"bad key":1}},
				"context":{"state":{"seen":true},"metadata":{},"global_context":{"request_id":"r1","state":{"g":"2"},"metadata":{}}}}`)
			require.NoError(t, err)
			assert.True(t, ok)
			got := <-done
			require.NoError(t, got.err)
			assert.True(t, got.res.Block)
			assert.Equal(t, "DENIED", got.res.Violation.Code)
			assert.Equal(t, map[string]any{"seen": true}, pctx.State, "the plugin state comes back")
			assert.Equal(t, "2", pctx.GlobalState["g"], "the global state comes back")

			// an error model is the client's PluginError
			go func() {
				res, err := p.Invoke(context.Background(), core.HookToolPreInvoke, core.NewPayloadValue(map[string]any{"name": "x"}), &core.PluginContext{})
				done <- reply{res, err}
			}()
			call = takeOne(t, fds[0], started.ID)
			_, err = MCPServerAnswer(started.ID, call.ID, `{"plugin_name":"PyGuard","error":{"message":"boom","plugin_name":"PyGuard","code":"X","details":{"k":1},"mcp_error_code":-32603}}`)
			require.NoError(t, err)
			got = <-done
			var pe *core.PluginError
			require.ErrorAs(t, got.err, &pe)
			assert.Equal(t, "boom", pe.Message)
			assert.Equal(t, "PyGuard", pe.PluginName)

			// stopping with a call in the queue answers it with an error model: no hang
			go func() {
				res, err := p.Invoke(context.Background(), core.HookToolPreInvoke, core.NewPayloadValue(map[string]any{"name": "x"}), &core.PluginContext{})
				done <- reply{res, err}
			}()
			_ = takeOne(t, fds[0], started.ID)
			require.NoError(t, MCPServerStop(started.ID))
			got = <-done
			require.Error(t, got.err)
		})
	}
}

type takenCall struct {
	ID         int             `json:"id"`
	PluginName string          `json:"plugin_name"`
	HookType   string          `json:"hook_type"`
	Payload    json.RawMessage `json:"payload"`
	Context    json.RawMessage `json:"context"`
}

// takeOne waits on the pipe until one call is queued and takes it.
func takeOne(t *testing.T, fd, id int) takenCall {
	t.Helper()
	for {
		waitReadable(t, fd)
		drain(fd)
		taken, err := MCPServerTake(id)
		require.NoError(t, err)
		var doc struct {
			Calls []takenCall `json:"calls"`
			Ended bool        `json:"ended"`
		}
		require.NoError(t, json.Unmarshal([]byte(taken), &doc))
		require.False(t, doc.Ended)
		if len(doc.Calls) > 0 {
			require.Len(t, doc.Calls, 1)
			return doc.Calls[0]
		}
	}
}

// shortTempDir is a temporary directory short enough for a Unix socket path (108 bytes).
func shortTempDir(t *testing.T) string {
	t.Helper()
	dir, err := os.MkdirTemp("/tmp", "cpexsock")
	require.NoError(t, err)
	t.Cleanup(func() { _ = os.RemoveAll(dir) })
	return dir
}
