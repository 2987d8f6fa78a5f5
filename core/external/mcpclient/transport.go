package mcpclient

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/cpex-go/cpex/core/config"
)

// stdioTerminate is how long closing a stdio session waits for the server to exit after
// its stdin closes before it is sent SIGTERM.
const stdioTerminate = 2 * time.Second

// newTransport returns a function making a fresh MCP transport for each (re)connection.
func newTransport(pc *config.PluginConfig, o *Options) (func() (mcp.Transport, error), error) {
	c := pc.MCP
	switch c.Proto {
	case config.TransportSTDIO:
		return func() (mcp.Transport, error) {
			cmd, err := stdioCommand(pc.Name, c, o.Python)
			if err != nil {
				return nil, err
			}
			return &mcp.CommandTransport{Command: cmd, TerminateDuration: stdioTerminate}, nil
		}, nil
	case config.TransportStreamableHTTP:
		if c.URL == nil || *c.URL == "" {
			return nil, fmt.Errorf("external plugin %s: STREAMABLEHTTP transport requires url", pc.Name)
		}
		hc, err := httpClient(pc, o)
		if err != nil {
			return nil, err
		}
		url := *c.URL
		return func() (mcp.Transport, error) {
			// The client only answers; no standalone SSE stream for server notifications.
			return &mcp.StreamableClientTransport{Endpoint: url, HTTPClient: hc, MaxRetries: -1, DisableStandaloneSSE: true}, nil
		}, nil
	}
	return nil, fmt.Errorf("external plugin %s: mcp.proto %q is not supported by this client (want STDIO or STREAMABLEHTTP)", pc.Name, c.Proto)
}

// stdioCommand resolves the server command as upstream: cmd as given, or script (relative
// to cwd) run with the Python interpreter (.py), sh (.sh) or itself (executable); the
// server gets the parent environment plus env, and runs in cwd.
func stdioCommand(plugin string, c *config.MCPClientConfig, python string) (*exec.Cmd, error) {
	var argv []string
	switch {
	case len(c.Cmd) > 0:
		for _, part := range c.Cmd {
			if strings.TrimSpace(part) == "" {
				return nil, fmt.Errorf("external plugin %s: STDIO cmd must be a non-empty list of strings", plugin)
			}
		}
		argv = c.Cmd
	case c.Script != nil && *c.Script != "":
		path := expandHome(*c.Script)
		if !filepath.IsAbs(path) && c.Cwd != nil {
			path = filepath.Join(expandHome(*c.Cwd), path)
		}
		st, err := os.Stat(path)
		if err != nil || !st.Mode().IsRegular() {
			return nil, fmt.Errorf("external plugin %s: Server script %s does not exist.", plugin, path)
		}
		switch filepath.Ext(path) {
		case ".py":
			argv = []string{python, path}
		case ".sh":
			argv = []string{"sh", path}
		default:
			if st.Mode()&0o111 == 0 {
				return nil, fmt.Errorf("external plugin %s: Server script %s must be executable.", plugin, path)
			}
			argv = []string{path}
		}
	default:
		return nil, fmt.Errorf("external plugin %s: STDIO transport requires script or cmd", plugin)
	}
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Env = os.Environ()
	for k, v := range c.Env {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	if c.Cwd != nil {
		cmd.Dir = expandHome(*c.Cwd)
	}
	cmd.Stderr = os.Stderr // the server's logs, as upstream's stdio client passes them on
	return cmd, nil
}

func expandHome(p string) string {
	if p == "~" || strings.HasPrefix(p, "~/") {
		if home, err := os.UserHomeDir(); err == nil {
			return filepath.Join(home, p[1:])
		}
	}
	return p
}

// httpClient builds the plugin's HTTP client: pool limits and timeouts from the
// PLUGINS_HTTPX_* settings, TLS from the plugin's tls section or the
// PLUGINS_CLIENT_MTLS_* settings (ignored over a Unix socket, as upstream),
// PLUGINS_SKIP_SSL_VERIFY when neither is set.
func httpClient(pc *config.PluginConfig, o *Options) (*http.Client, error) {
	s := o.Settings
	dialer := &net.Dialer{Timeout: seconds(s.HTTPXConnectTimeout)}
	tr := &http.Transport{
		Proxy:                 http.ProxyFromEnvironment,
		DialContext:           dialer.DialContext,
		MaxConnsPerHost:       s.HTTPXMaxConnections,
		MaxIdleConns:          s.HTTPXMaxKeepaliveConnections,
		MaxIdleConnsPerHost:   s.HTTPXMaxKeepaliveConnections,
		IdleConnTimeout:       seconds(s.HTTPXKeepaliveExpiry),
		ResponseHeaderTimeout: seconds(s.HTTPXReadTimeout),
		TLSHandshakeTimeout:   seconds(s.HTTPXConnectTimeout),
		ForceAttemptHTTP2:     true,
	}
	if uds := pc.MCP.UDS; uds != nil && *uds != "" {
		path := *uds
		tr.Proxy = nil
		tr.DialContext = func(ctx context.Context, _, _ string) (net.Conn, error) {
			return dialer.DialContext(ctx, "unix", path)
		}
	} else {
		t := pc.MCP.TLS
		if t == nil {
			t = tlsFromSettings(s)
		}
		if t != nil {
			tc, err := buildTLS(t, pc.Name)
			if err != nil {
				return nil, err
			}
			tr.TLSClientConfig = tc
		} else if s.SkipSSLVerify {
			tr.TLSClientConfig = &tls12Insecure
		}
	}
	return &http.Client{Transport: tr}, nil
}

func seconds(f float64) time.Duration {
	if f <= 0 {
		return 0
	}
	return time.Duration(f * float64(time.Second))
}
