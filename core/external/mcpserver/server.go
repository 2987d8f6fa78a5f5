package mcpserver

import (
	"context"
	"encoding/json"
	"log/slog"
	"time"

	"github.com/cpex-go/cpex/core/external/callq"
	"github.com/cpex-go/cpex/core/metrics"
	"github.com/modelcontextprotocol/go-sdk/mcp"
	"github.com/prometheus/client_golang/prometheus"
)

// Upstream's server identity (cpex.framework.constants), kept so clients that log or
// check it see the same server.
const (
	DefaultName         = "MCP Plugin Server"
	DefaultInstructions = "External plugin server for ContextForge"
)

// Outcomes of an invoke_hook call, the "outcome" label of the call counter.
const (
	OutcomeAllowed = callq.OutcomeAllowed
	OutcomeBlocked = callq.OutcomeBlocked
	OutcomeError   = callq.OutcomeError
)

// Queue is the Backend of a host that runs the plugins itself (callq.Queue).
type Queue = callq.Queue

// NewQueue makes the queue of a host serving configs (callq.NewQueue).
func NewQueue(configs []json.RawMessage, notify func()) (*Queue, error) {
	return callq.NewQueue(configs, notify)
}

// Backend runs the served plugins.
type Backend interface {
	// PluginConfigs are the served plugins' configurations (upstream's model_dump), one
	// JSON object each.
	PluginConfigs() []json.RawMessage
	// PluginConfig is the named plugin's configuration, matched case-insensitively; nil
	// when no plugin has that name (the tool then answers {}, as upstream).
	PluginConfig(name string) json.RawMessage
	// Invoke runs one checked invoke_hook call and answers the whole reply
	// ({"plugin_name", "result", "context"} or {"plugin_name", "error"}) and its outcome.
	// ctx ends when the client gives up (cancellation, a closed session).
	Invoke(ctx context.Context, a *InvokeArgs) (reply json.RawMessage, outcome string)
}

// Options tune a Server; the zero value serves with upstream's name and defaults.
type Options struct {
	Name, Instructions string
	// MaxRequestBytes bounds invoke_hook's arguments (<= 0: DefaultMaxRequestBytes).
	MaxRequestBytes int
	// Metrics receives per-plugin call counts and latencies (nil: a new Metrics).
	Metrics *Metrics
	// Collectors join the server's Registry, e.g. metrics.NewCollector over the core's
	// series of a Python host. A ManagerBackend's manager is registered without asking.
	Collectors []prometheus.Collector
	// Logger logs failed calls and transport events (nil: slog.Default()).
	Logger *slog.Logger
}

// Server is one plugin server: the MCP tools over a Backend. Serve it over stdio
// (RunStdio), HTTP (Listen) or both; one Server may serve many sessions at once.
type Server struct {
	b       Backend
	o       Options
	mcp     *mcp.Server
	metrics *Metrics
	log     *slog.Logger
}

// New builds the server of backend b.
func New(b Backend, o Options) *Server {
	if o.Name == "" {
		o.Name = DefaultName
	}
	if o.Instructions == "" {
		o.Instructions = DefaultInstructions
	}
	s := &Server{b: b, o: o, metrics: o.Metrics, log: o.Logger}
	if s.metrics == nil {
		s.metrics = NewMetrics()
	}
	// The core's own per-plugin series (cpex_plugin_*), next to the server's view of the
	// same calls (cpex_plugin_server_*): what the gateway's operators scrape elsewhere too.
	if mb, ok := b.(*ManagerBackend); ok {
		s.metrics.Registry.MustRegister(metrics.NewCollector(mb.m))
	}
	for _, c := range o.Collectors {
		s.metrics.Registry.MustRegister(c)
	}
	if s.log == nil {
		s.log = slog.Default()
	}
	s.mcp = mcp.NewServer(&mcp.Implementation{Name: o.Name, Version: "1"}, &mcp.ServerOptions{Instructions: o.Instructions})
	obj := func(props string, required ...string) json.RawMessage {
		req, _ := json.Marshal(required)
		return json.RawMessage(`{"type":"object","properties":` + props + `,"required":` + string(req) + `}`)
	}
	s.mcp.AddTool(&mcp.Tool{Name: "get_plugin_configs", Description: "The configurations of the plugins this server runs.",
		InputSchema: obj(`{}`)}, s.getPluginConfigs)
	s.mcp.AddTool(&mcp.Tool{Name: "get_plugin_config", Description: "The configuration of one plugin (case-insensitive name); {} when unknown.",
		InputSchema: obj(`{"name":{"type":"string"}}`, "name")}, s.getPluginConfig)
	s.mcp.AddTool(&mcp.Tool{Name: "invoke_hook", Description: "Run one hook of one plugin.",
		InputSchema: obj(`{"hook_type":{"type":"string"},"plugin_name":{"type":"string"},"payload":{"type":"object"},"context":{"type":"object"}}`,
			"hook_type", "plugin_name", "payload", "context")}, s.invokeHook)
	return s
}

// Metrics is the server's metrics (its Registry is what /metrics/prometheus exposes).
func (s *Server) Metrics() *Metrics { return s.metrics }

// MCP is the underlying go-sdk server (to serve it over another transport).
func (s *Server) MCP() *mcp.Server { return s.mcp }

// RunStdio serves one session over the process's stdin/stdout until the client closes
// stdin or ctx ends. Nothing else may write to stdout meanwhile.
func (s *Server) RunStdio(ctx context.Context) error {
	s.metrics.setInfo(s.o.Name, "stdio", false)
	return s.mcp.Run(ctx, &mcp.StdioTransport{})
}

func text(b []byte) *mcp.TextContent { return &mcp.TextContent{Text: string(b)} }

func (s *Server) getPluginConfigs(context.Context, *mcp.CallToolRequest) (*mcp.CallToolResult, error) {
	cfgs := s.b.PluginConfigs()
	res := &mcp.CallToolResult{Content: make([]mcp.Content, 0, len(cfgs))}
	for _, c := range cfgs { // one content block per plugin, as upstream's list answer
		res.Content = append(res.Content, text(c))
	}
	return res, nil
}

func (s *Server) getPluginConfig(_ context.Context, r *mcp.CallToolRequest) (*mcp.CallToolResult, error) {
	var a struct {
		Name string `json:"name"`
	}
	if err := json.Unmarshal(r.Params.Arguments, &a); err != nil {
		return &mcp.CallToolResult{IsError: true, Content: []mcp.Content{&mcp.TextContent{
			Text: "get_plugin_config: want arguments {\"name\": string}, got " + clip(r.Params.Arguments)}}}, nil
	}
	c := s.b.PluginConfig(a.Name)
	if c == nil {
		c = json.RawMessage("{}")
	}
	return &mcp.CallToolResult{Content: []mcp.Content{text(c)}}, nil
}

func (s *Server) invokeHook(ctx context.Context, r *mcp.CallToolRequest) (*mcp.CallToolResult, error) {
	start := time.Now()
	a, err := DecodeInvokeArgs(r.Params.Arguments, s.o.MaxRequestBytes)
	if err != nil {
		ae := err.(*ArgsError)
		s.log.Warn("invoke_hook: rejected", "plugin", ae.Plugin, "error", ae.Msg)
		s.metrics.observe(orUnknown(ae.Plugin), "", OutcomeError, time.Since(start))
		return &mcp.CallToolResult{Content: []mcp.Content{text(ErrorReply(ae.Plugin, ae.Code, ae.Msg, nil))}}, nil
	}
	reply, outcome := s.b.Invoke(ctx, a)
	s.metrics.observe(a.PluginName, a.HookType, outcome, time.Since(start))
	return &mcp.CallToolResult{Content: []mcp.Content{text(reply)}}, nil
}

func orUnknown(s string) string {
	if s == "" {
		return "unknown"
	}
	return s
}
