package mcpclient

import (
	"context"
	"encoding/json"
	"net/http"
	"os"
	"testing"

	"github.com/modelcontextprotocol/go-sdk/mcp"
)

// fakeServer is an in-process plugin server with upstream's three tools. What
// invoke_hook answers depends on the payload's "name" (see answer).
func fakeServer() *mcp.Server {
	s := mcp.NewServer(&mcp.Implementation{Name: "fake-plugin-server", Version: "0"}, nil)
	schema := json.RawMessage(`{"type":"object"}`)
	text := func(t string) *mcp.CallToolResult {
		return &mcp.CallToolResult{Content: []mcp.Content{&mcp.TextContent{Text: t}}}
	}
	s.AddTool(&mcp.Tool{Name: "get_plugin_configs", InputSchema: schema}, func(context.Context, *mcp.CallToolRequest) (*mcp.CallToolResult, error) {
		return text("[]"), nil
	})
	s.AddTool(&mcp.Tool{Name: "get_plugin_config", InputSchema: schema}, func(_ context.Context, r *mcp.CallToolRequest) (*mcp.CallToolResult, error) {
		var a struct{ Name string }
		_ = json.Unmarshal(r.Params.Arguments, &a)
		if a.Name == "unknown" {
			return text("{}"), nil
		}
		return text(`{"name":"` + a.Name + `","kind":"fake.Plugin","hooks":["tool_pre_invoke","tool_post_invoke"],"mode":"sequential","priority":7,"config":{"k":1},"description":"remote"}`), nil
	})
	s.AddTool(&mcp.Tool{Name: "invoke_hook", InputSchema: schema}, func(ctx context.Context, r *mcp.CallToolRequest) (*mcp.CallToolResult, error) {
		return text(answer(ctx, r.Params.Arguments)), nil
	})
	return s
}

func answer(ctx context.Context, raw json.RawMessage) string {
	var a struct {
		HookType   string         `json:"hook_type"`
		PluginName string         `json:"plugin_name"`
		Payload    map[string]any `json:"payload"`
		Context    map[string]any `json:"context"`
	}
	if err := json.Unmarshal(raw, &a); err != nil {
		return `{"error":{"message":"bad args","plugin_name":"fake"}}`
	}
	ctxOut := `{"state":{"seen":"` + a.HookType + `"},"metadata":{},"global_context":{"request_id":"r","state":{"g":"from-server"}}}`
	switch a.Payload["name"] {
	case "block":
		return `{"result":{"continue_processing":false,"violation":{"reason":"no","description":"blocked by fake","code":"FAKE","details":{"n":1}}}}`
	case "modify":
		return `{"result":{"continue_processing":true,"modified_payload":{"name":"modify","args":{"x":"changed"}}}}`
	case "error":
		return `{"error":{"message":"remote boom","plugin_name":"` + a.PluginName + `","code":"REMOTE","details":{"why":"test"}}}`
	case "garbage":
		return "this is not json"
	case "hang":
		<-ctx.Done()
		return `{"result":{}}`
	case "die":
		if os.Getenv("FAKE_DIE_ONCE") != "" {
			if _, err := os.Stat(os.Getenv("FAKE_DIE_ONCE")); err == nil {
				break
			}
			_ = os.WriteFile(os.Getenv("FAKE_DIE_ONCE"), []byte("x"), 0o600)
		}
		os.Exit(3)
	case "echo":
		b, _ := json.Marshal(map[string]any{"result": map[string]any{"metadata": map[string]any{"args": a}}})
		return string(b)
	}
	return `{"context":` + ctxOut + `,"result":{"continue_processing":true}}`
}

// swapHandler lets a test replace the server behind one address (a server restart).
type swapHandler struct{ h http.Handler }

func (s *swapHandler) ServeHTTP(w http.ResponseWriter, r *http.Request) { s.h.ServeHTTP(w, r) }

func newHTTPHandler() http.Handler {
	srv := fakeServer()
	return mcp.NewStreamableHTTPHandler(func(*http.Request) *mcp.Server { return srv }, nil)
}

// TestMain doubles as the stdio server: the tests start this binary with
// FAKE_MCP_STDIO=1 as a `cmd` server.
func TestMain(m *testing.M) {
	if os.Getenv("FAKE_MCP_STDIO") == "1" {
		if err := fakeServer().Run(context.Background(), &mcp.StdioTransport{}); err != nil {
			os.Exit(1)
		}
		os.Exit(0)
	}
	os.Exit(m.Run())
}
