package mcpclient

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/cpex-go/cpex/core"
	"github.com/cpex-go/cpex/core/config"
	"github.com/cpex-go/cpex/core/external/remote"
)

// Tool names and argument keys of upstream's plugin server.
const (
	toolGetPluginConfig = "get_plugin_config"
	toolInvokeHook      = "invoke_hook"
)

// Options tune Connect. The zero value reads the settings from the environment and
// runs .py scripts with the current executable when it is a Python, else python3.
type Options struct {
	// Python runs `script: *.py` servers (the Python extension passes sys.executable).
	Python string
	// Settings are the PLUGINS_* settings (nil: config.LoadSettings()).
	Settings *config.Settings
	// SetKeys are the keys the local entry sets (upstream merges the remote config under
	// exactly these). nil: every key whose value differs from the default.
	SetKeys []string
}

func (o *Options) fill() error {
	if o.Settings == nil {
		s, err := config.LoadSettings()
		if err != nil {
			return err
		}
		o.Settings = &s
	}
	if o.Python == "" {
		o.Python = "python3"
		if exe, err := os.Executable(); err == nil && strings.HasPrefix(filepath.Base(exe), "python") {
			o.Python = exe
		}
	}
	return nil
}

// Plugin is one external plugin on an MCP server. Its calls share one session;
// a session the server terminated (or whose process died) is replaced once per
// failure, whichever call notices first, and the call is retried once.
type Plugin struct {
	name     string
	attempts int
	delay    time.Duration
	connect  func(ctx context.Context) (*mcp.ClientSession, error)

	mu      sync.Mutex // guards session, gen, closed; never held during a call
	session *mcp.ClientSession
	gen     int
	closed  bool
	// Merged is the effective configuration (the remote config under the local entry);
	// MergedMap is the same as the merged mapping Python validates.
	Merged    *config.PluginConfig
	MergedMap map[string]any
}

var (
	_ core.Shutdowner = (*Plugin)(nil)
	_ core.Blocking   = (*Plugin)(nil)
)

// Blocking: every call is a round trip to another process, so a Python host awaits it
// off its event loop.
func (p *Plugin) Blocking() bool { return true }

func init() {
	core.RegisterExternal("mcp", func(ctx context.Context, pc *config.PluginConfig) (core.Plugin, *config.PluginConfig, error) {
		p, err := Connect(ctx, pc, Options{})
		if err != nil {
			return nil, nil, err
		}
		return p, p.Merged, nil
	})
}

// Connect starts (stdio) or reaches (HTTP) the plugin's server, fetches its config and
// merges it under pc. Errors name the plugin and the cause.
func Connect(ctx context.Context, pc *config.PluginConfig, o Options) (*Plugin, error) {
	if pc.MCP == nil {
		return nil, pluginErr(pc.Name, CodeConfig, "The mcp section must be defined for external plugin", nil)
	}
	if err := o.fill(); err != nil {
		return nil, pluginErr(pc.Name, CodeConfig, fmt.Sprintf("external plugin %s: settings: %v", pc.Name, err), err)
	}
	mk, err := newTransport(pc, &o)
	if err != nil {
		return nil, pluginErr(pc.Name, CodeConfig, err.Error(), err)
	}
	client := mcp.NewClient(&mcp.Implementation{Name: "cpex-go-plugin-client", Version: core.Version}, nil)
	p := &Plugin{name: pc.Name, attempts: pc.MCP.ReconnectAttempts, delay: time.Duration(pc.MCP.ReconnectDelay * float64(time.Second))}
	p.connect = func(ctx context.Context) (*mcp.ClientSession, error) {
		t, err := mk()
		if err != nil {
			return nil, err
		}
		cs, err := client.Connect(ctx, t, nil)
		if err != nil {
			return nil, fmt.Errorf("external plugin %s: connecting to its MCP server: %w", pc.Name, err)
		}
		if _, err := cs.ListTools(ctx, nil); err != nil {
			_ = cs.Close()
			return nil, fmt.Errorf("external plugin %s: tools/list: %w", pc.Name, err)
		}
		return cs, nil
	}
	cs, err := p.connect(ctx)
	if err != nil {
		return nil, pluginErr(pc.Name, CodeTransport, err.Error(), err)
	}
	p.session = cs
	remoteConf, err := p.remoteConfig(ctx, cs)
	if err == nil {
		p.MergedMap, p.Merged, err = remote.Merge(pc, o.SetKeys, remoteConf)
	}
	if err != nil {
		_ = cs.Close()
		var pe *core.PluginError
		if errors.As(err, &pe) {
			return nil, pe
		}
		return nil, pluginErr(pc.Name, CodeConfig, err.Error(), err)
	}
	return p, nil
}

// remoteConfig calls get_plugin_config {name}; an empty answer is upstream's error.
func (p *Plugin) remoteConfig(ctx context.Context, cs *mcp.ClientSession) (map[string]any, error) {
	res, err := cs.CallTool(ctx, &mcp.CallToolParams{Name: toolGetPluginConfig, Arguments: map[string]any{"name": p.name}})
	if err != nil {
		return nil, fmt.Errorf("external plugin %s: get_plugin_config: %w", p.name, err)
	}
	for _, c := range res.Content {
		tc, ok := c.(*mcp.TextContent)
		if !ok {
			continue
		}
		var conf any
		if err := unmarshalExact([]byte(tc.Text), &conf); err != nil {
			return nil, pluginErr(p.name, CodeJSONDecode, "Error trying to decode json: "+clip([]byte(tc.Text)), err)
		}
		m, _ := conf.(map[string]any)
		if len(m) == 0 {
			break
		}
		return config.NormalizeNumbers(m), nil
	}
	return nil, pluginErr(p.name, CodeConfig, "Unable to retrieve configuration for external plugin", nil)
}

// Invoke calls invoke_hook on the server. The context's state, metadata and global
// state come back from the answer; a remote error becomes a *core.PluginError with the
// remote error model.
func (p *Plugin) Invoke(ctx context.Context, hook string, payload *core.Payload, pctx *core.PluginContext) (*core.Result, error) {
	args, err := invokeArgs(hook, p.name, payload, pctx)
	if err != nil {
		return nil, pluginErr(p.name, CodeInvalidResponse, fmt.Sprintf("external plugin %s: encoding the call: %v", p.name, err), err)
	}
	cs, gen, err := p.current()
	if err != nil {
		return nil, err
	}
	res, err := cs.CallTool(ctx, &mcp.CallToolParams{Name: toolInvokeHook, Arguments: args})
	if err != nil && ctx.Err() == nil && p.retryable(err) {
		// The session is gone (server restarted, process died): reconnect, retry once.
		if cs, err = p.reconnect(ctx, gen, err); err != nil {
			return nil, err
		}
		res, err = cs.CallTool(ctx, &mcp.CallToolParams{Name: toolInvokeHook, Arguments: args})
	}
	if err != nil {
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		return nil, pluginErr(p.name, CodeTransport, fmt.Sprintf("external plugin %s: invoke_hook %s: %v", p.name, hook, err), err)
	}
	return p.apply(res, pctx)
}

// apply decodes the answer's first text block that carries result, error or context.
func (p *Plugin) apply(res *mcp.CallToolResult, pctx *core.PluginContext) (*core.Result, error) {
	for _, c := range res.Content {
		tc, ok := c.(*mcp.TextContent)
		if !ok {
			continue
		}
		r, ok := decodeReply(p.name, []byte(tc.Text))
		if !ok {
			continue
		}
		if r.context != nil && pctx != nil {
			// Upstream copies state, the plugin-local metadata and global_context.state
			// back; a Go context has no plugin-local metadata to receive the second.
			pctx.State, pctx.GlobalState = r.context.State, r.context.GlobalState
		}
		if r.err != nil {
			return nil, r.err
		}
		if r.result != nil {
			return r.result, nil
		}
	}
	return nil, pluginErr(p.name, CodeInvalidResponse, fmt.Sprintf("external plugin %s: Received invalid response: no result or error in the answer", p.name), nil)
}

// retryable: the session or its transport is gone (not a tool-level answer).
func (p *Plugin) retryable(err error) bool {
	if errors.Is(err, mcp.ErrSessionMissing) || errors.Is(err, mcp.ErrConnectionClosed) {
		return true
	}
	msg := strings.ToLower(err.Error())
	return strings.Contains(msg, "session") && strings.Contains(msg, "terminated") ||
		strings.Contains(msg, "closed") || strings.Contains(msg, "eof") || strings.Contains(msg, "broken pipe") ||
		strings.Contains(msg, "connection refused") || strings.Contains(msg, "connection reset")
}

func (p *Plugin) current() (*mcp.ClientSession, int, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		return nil, 0, pluginErr(p.name, CodeTransport, fmt.Sprintf("external plugin %s: shut down", p.name), nil)
	}
	if p.session == nil {
		return nil, 0, pluginErr(p.name, CodeTransport, fmt.Sprintf("external plugin %s: Plugin session not initialized", p.name), nil)
	}
	return p.session, p.gen, nil
}

// reconnect replaces session generation gen (unless another call already did) with
// linear back-off: attempt i waits delay*i before the next one.
func (p *Plugin) reconnect(ctx context.Context, gen int, cause error) (*mcp.ClientSession, error) {
	p.mu.Lock()
	defer p.mu.Unlock() // one reconnection at a time; others wait and take its session
	if p.closed {
		return nil, pluginErr(p.name, CodeTransport, fmt.Sprintf("external plugin %s: shut down", p.name), nil)
	}
	if p.gen != gen && p.session != nil {
		return p.session, nil
	}
	if p.session != nil {
		go p.session.Close() //nolint:errcheck // the old session is dead; closing reaps its process
		p.session = nil
	}
	last := cause
	for i := 1; i <= p.attempts; i++ {
		cs, err := p.connect(ctx)
		if err == nil {
			p.session, p.gen = cs, p.gen+1
			return cs, nil
		}
		last = err
		if i < p.attempts {
			select {
			case <-time.After(p.delay * time.Duration(i)):
			case <-ctx.Done():
				return nil, ctx.Err()
			}
		}
	}
	return nil, pluginErr(p.name, CodeTransport, fmt.Sprintf("external plugin %s: Failed to reconnect after %d attempts: %v", p.name, p.attempts, last), last)
}

// Shutdown closes the session: DELETE with the session id over HTTP, stdin closed (then
// SIGTERM) for a stdio server.
func (p *Plugin) Shutdown(context.Context) error {
	p.mu.Lock()
	cs := p.session
	p.session, p.closed = nil, true
	p.mu.Unlock()
	if cs == nil {
		return nil
	}
	if err := cs.Close(); err != nil && !errors.Is(err, mcp.ErrConnectionClosed) {
		return fmt.Errorf("external plugin %s: closing the MCP session: %w", p.name, err)
	}
	return nil
}

func pluginErr(plugin, code, msg string, cause error) *core.PluginError {
	return &core.PluginError{PluginName: plugin, Code: code, Message: msg, Err: cause}
}
