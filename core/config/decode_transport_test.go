package config

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// writeFile creates a file with the given mode in dir and returns its path.
func writeFile(t *testing.T, dir, name string, mode os.FileMode) string {
	t.Helper()
	p := filepath.Join(dir, name)
	require.NoError(t, os.WriteFile(p, []byte("x"), mode))
	return p
}

func external(transport string) string {
	return "plugins:\n  - name: e\n    kind: external\n    " + transport + "\n"
}

func TestTransportDefaults(t *testing.T) {
	cfg := mustParse(t, external("mcp: {proto: STREAMABLEHTTP, url: 'http://localhost:8000/mcp'}"))
	assert.Equal(t, &MCPClientConfig{Proto: TransportStreamableHTTP, URL: ptr("http://localhost:8000/mcp"), ReconnectAttempts: 3, ReconnectDelay: 0.1}, cfg.Plugins[0].MCP)

	cfg = mustParse(t, external("unix_socket: {path: /tmp/x.sock}"))
	assert.Equal(t, &UnixSocketClientConfig{Path: "/tmp/x.sock", ReconnectAttempts: 3, ReconnectDelay: 0.1, Timeout: 30}, cfg.Plugins[0].UnixSocket)

	cfg = mustParse(t, external("grpc: {target: 'host:50051', tls: {verify: false}}"))
	g := cfg.Plugins[0].GRPC
	assert.Equal(t, "host:50051", g.GetTarget())
	assert.Equal(t, &GRPCClientTLSConfig{Verify: false}, g.TLS)

	cfg = mustParse(t, "server_settings: {}\ngrpc_server_settings: {}\nunix_socket_server_settings: {}\n")
	assert.Equal(t, &MCPServerConfig{Host: "127.0.0.1", Port: 8000}, cfg.ServerSettings)
	assert.Equal(t, &GRPCServerConfig{Host: "127.0.0.1", Port: 50051}, cfg.GRPCServerSettings)
	assert.Equal(t, "127.0.0.1:50051", cfg.GRPCServerSettings.GetBindAddress())
	assert.Equal(t, &UnixSocketServerConfig{Path: "/tmp/mcpgateway-plugins.sock"}, cfg.UnixSocketServerSettings)

	cfg = mustParse(t, "server_settings: {host: 0.0.0.0, port: 9000, tls: {ssl_cert_reqs: 0}}\ngrpc_server_settings: {tls: {client_auth: OPTIONAL}}\nunix_socket_server_settings: {path: /run/p.sock}\n")
	assert.Equal(t, 9000, cfg.ServerSettings.Port)
	assert.Equal(t, 0, cfg.ServerSettings.TLS.SSLCertReqs)
	assert.Equal(t, "optional", cfg.GRPCServerSettings.TLS.ClientAuth)
	assert.Equal(t, "/run/p.sock", cfg.UnixSocketServerSettings.Path)

	cfg = mustParse(t, "server_settings: {tls: {}}\ngrpc_server_settings: {tls: {}}\n")
	assert.Equal(t, 2, cfg.ServerSettings.TLS.SSLCertReqs)
	assert.Equal(t, "require", cfg.GRPCServerSettings.TLS.ClientAuth)

	cfg = mustParse(t, "server_settings: null\n")
	assert.Nil(t, cfg.ServerSettings)
}

func TestMCPClientTLSDefaults(t *testing.T) {
	dir := t.TempDir()
	cert := writeFile(t, dir, "c.pem", 0o600)
	key := writeFile(t, dir, "k.pem", 0o600)
	cfg := mustParse(t, external("mcp: {proto: SSE, url: 'https://h/sse', tls: {certfile: '"+cert+"', keyfile: '"+key+"', keyfile_password: pw}}"))
	tls := cfg.Plugins[0].MCP.TLS
	assert.True(t, tls.Verify)
	assert.True(t, tls.CheckHostname)
	assert.Equal(t, cert, *tls.Certfile)
	assert.Equal(t, "pw", *tls.KeyfilePassword)
}

func TestTLSHomeExpansion(t *testing.T) {
	home := t.TempDir()
	t.Setenv("HOME", home)
	writeFile(t, home, "ca.pem", 0o600)
	cfg := mustParse(t, external("grpc: {target: 'h:1', tls: {ca_bundle: ~/ca.pem}}"))
	assert.Equal(t, filepath.Join(home, "ca.pem"), *cfg.Plugins[0].GRPC.TLS.CABundle)
}

func TestSTDIOTransport(t *testing.T) {
	dir := t.TempDir()
	py := writeFile(t, dir, "server.py", 0o600)
	exe := writeFile(t, dir, "server", 0o700)
	cfg := mustParse(t, external("mcp: {proto: STDIO, script: '"+py+"', env: {K: V}, cwd: '"+dir+"'}"))
	m := cfg.Plugins[0].MCP
	assert.Equal(t, py, *m.Script)
	assert.Equal(t, map[string]string{"K": "V"}, m.Env)
	resolved, err := filepath.EvalSymlinks(dir)
	require.NoError(t, err)
	assert.Equal(t, resolved, *m.Cwd)

	mustParse(t, external("mcp: {proto: STDIO, script: '"+exe+"'}"))
	mustParse(t, external("mcp: {proto: STDIO, script: relative/run.sh}"))
	cfg = mustParse(t, external("mcp: {proto: STDIO, cmd: [python, -m, srv]}"))
	assert.Equal(t, []string{"python", "-m", "srv"}, cfg.Plugins[0].MCP.Cmd)
}

func TestUDS(t *testing.T) {
	dir := t.TempDir()
	resolved, err := filepath.EvalSymlinks(dir)
	require.NoError(t, err)
	sock := filepath.Join(dir, "p.sock")
	cfg := mustParse(t, external("mcp: {proto: STREAMABLEHTTP, url: 'http://localhost/mcp', uds: '"+sock+"'}"))
	assert.Equal(t, filepath.Join(resolved, "p.sock"), *cfg.Plugins[0].MCP.UDS)

	cfg = mustParse(t, external("grpc: {uds: '"+sock+"'}"))
	assert.Equal(t, "unix://"+filepath.Join(resolved, "p.sock"), cfg.Plugins[0].GRPC.GetTarget())

	cfg = mustParse(t, "grpc_server_settings: {uds: '"+sock+"'}\nserver_settings: {uds: '"+sock+"'}\n")
	assert.Equal(t, "unix://"+filepath.Join(resolved, "p.sock"), cfg.GRPCServerSettings.GetBindAddress())

	// A relative uds is resolved against the working directory.
	t.Chdir(dir)
	cfg = mustParse(t, "server_settings: {uds: rel.sock}\n")
	assert.Equal(t, filepath.Join(resolved, "rel.sock"), *cfg.ServerSettings.UDS)
}

func TestFileChecksCanBeDisabled(t *testing.T) {
	doc := external("mcp: {proto: STDIO, script: /no/such/script.py, cwd: /no/such/dir}") +
		"server_settings: {uds: /no/such/dir/s.sock, tls: null}\ngrpc_server_settings: {tls: {certfile: /no/cert.pem}}\n"
	_, err := parse(t, doc)
	issues := issuesOf(t, err)
	assert.Len(t, issues, 4)
	cfg := mustParse(t, doc, WithFileChecks(false))
	assert.Equal(t, "/no/such/script.py", *cfg.Plugins[0].MCP.Script)
	assert.Equal(t, "/no/cert.pem", *cfg.GRPCServerSettings.TLS.Certfile)
}

func TestTransportValidationErrors(t *testing.T) {
	dir := t.TempDir()
	notExe := writeFile(t, dir, "server.bin", 0o600)
	cert := writeFile(t, dir, "c.pem", 0o600)
	tests := []struct {
		name, doc, path, msg string
	}{
		{"unknown proto", external("mcp: {proto: stdio, script: a.py}"), "plugins[name=e].mcp.proto", "unknown transport"},
		{"missing proto", external("mcp: {script: a.py}"), "plugins[name=e].mcp.proto", "field required"},
		{"mcp not mapping", external("mcp: STDIO"), "plugins[name=e].mcp", "must be a mapping"},
		{"stdio needs script or cmd", external("mcp: {proto: STDIO}"), "plugins[name=e].mcp", "exactly one of script or cmd"},
		{"stdio script and cmd", external("mcp: {proto: STDIO, script: a.py, cmd: [a]}"), "plugins[name=e].mcp", "exactly one of script or cmd"},
		{"http needs url", external("mcp: {proto: STREAMABLEHTTP}"), "plugins[name=e].mcp.url", "needs a url"},
		{"sse needs url", external("mcp: {proto: SSE}"), "plugins[name=e].mcp.url", "needs a url"},
		{"HTTP proto rejected", external("mcp: {proto: HTTP, url: 'http://localhost/x'}"), "plugins[name=e].mcp.proto", "unsupported MCP transport"},
		{"GRPC proto rejected", external("mcp: {proto: GRPC, url: 'http://localhost/x'}"), "plugins[name=e].mcp.proto", "unsupported MCP transport"},
		{"url with stdio", external("mcp: {proto: STDIO, script: a.py, url: 'http://localhost/x'}"), "plugins[name=e].mcp.url", "not allowed with STDIO"},
		{"script with http", external("mcp: {proto: SSE, url: 'http://localhost/x', script: a.py}"), "plugins[name=e].mcp.script", "only allowed with STDIO"},
		{"cmd with http", external("mcp: {proto: SSE, url: 'http://localhost/x', cmd: [a]}"), "plugins[name=e].mcp.cmd", "only allowed with STDIO"},
		{"env with http", external("mcp: {proto: SSE, url: 'http://localhost/x', env: {a: b}}"), "plugins[name=e].mcp.env", "only allowed with STDIO"},
		{"cwd with http", external("mcp: {proto: SSE, url: 'http://localhost/x', cwd: '" + dir + "'}"), "plugins[name=e].mcp.cwd", "only allowed with STDIO"},
		{"tls with stdio", external("mcp: {proto: STDIO, script: a.py, tls: {}}"), "plugins[name=e].mcp.tls", "only supported with SSE or STREAMABLEHTTP"},
		{"uds with sse", external("mcp: {proto: SSE, url: 'http://localhost/x', uds: '" + dir + "/s'}"), "plugins[name=e].mcp.uds", "only allowed with STREAMABLEHTTP"},
		{"uds and tls", external("mcp: {proto: STREAMABLEHTTP, url: 'http://localhost/x', uds: '" + dir + "/s', tls: {}}"), "plugins[name=e].mcp", "tls and uds"},
		{"empty cmd", external("mcp: {proto: STDIO, cmd: []}"), "plugins[name=e].mcp.cmd", "non-empty list"},
		{"blank cmd entry", external("mcp: {proto: STDIO, cmd: [python, ' ']}"), "plugins[name=e].mcp.cmd[1]", "non-blank"},
		{"empty env", external("mcp: {proto: STDIO, script: a.py, env: {}}"), "plugins[name=e].mcp.env", "non-empty mapping"},
		{"env int value", external("mcp: {proto: STDIO, script: a.py, env: {A: 1}}"), "plugins[name=e].mcp.env.A", "must be a string"},
		{"env int key", external("mcp: {proto: STDIO, script: a.py, env: {1: a}}"), "plugins[name=e].mcp.env", "keys must be strings"},
		{"env blank key", external("mcp: {proto: STDIO, script: a.py, env: {' ': a}}"), "plugins[name=e].mcp.env", "non-blank"},
		{"env not mapping", external("mcp: {proto: STDIO, script: a.py, env: [a]}"), "plugins[name=e].mcp.env", "must be a mapping"},
		{"script missing", external("mcp: {proto: STDIO, script: /no/such.py}"), "plugins[name=e].mcp.script", "does not exist"},
		{"script not executable", external("mcp: {proto: STDIO, script: '" + notExe + "'}"), "plugins[name=e].mcp.script", "not executable"},
		{"cwd not dir", external("mcp: {proto: STDIO, script: a.py, cwd: '" + notExe + "'}"), "plugins[name=e].mcp.cwd", "existing directory"},
		{"uds blank", external("mcp: {proto: STREAMABLEHTTP, url: 'http://localhost/x', uds: ''}"), "plugins[name=e].mcp.uds", "non-empty"},
		{"uds parent missing", external("grpc: {uds: /no/such/dir/s.sock}"), "plugins[name=e].grpc.uds", "parent directory does not exist"},
		{"bad url", external("mcp: {proto: SSE, url: 'ftp://h/x'}"), "plugins[name=e].mcp.url", "must start with"},
		{"tls file missing", external("mcp: {proto: SSE, url: 'https://h/x', tls: {certfile: /no/c.pem}}"), "plugins[name=e].mcp.tls.certfile", "TLS file path does not exist"},
		{"keyfile without certfile", external("mcp: {proto: SSE, url: 'https://h/x', tls: {keyfile: '" + cert + "'}}"), "plugins[name=e].mcp.tls.keyfile", "requires certfile"},
		{"tls verify not bool", external("grpc: {target: 'h:1', tls: {verify: sometimes}}"), "plugins[name=e].grpc.tls.verify", "must be a boolean"},
		{"grpc target without port", external("grpc: {target: host}"), "plugins[name=e].grpc.target", "host:port"},
		{"grpc none", external("grpc: {}"), "plugins[name=e].grpc", "exactly one of target or uds"},
		{"grpc both", external("grpc: {target: 'h:1', uds: '" + dir + "/s'}"), "plugins[name=e].grpc", "exactly one of target or uds"},
		{"grpc uds and tls", external("grpc: {uds: '" + dir + "/s', tls: {}}"), "plugins[name=e].grpc", "tls and uds"},
		{"unix path relative", external("unix_socket: {path: rel.sock}"), "plugins[name=e].unix_socket.path", "absolute"},
		{"unix path missing", external("unix_socket: {timeout: 1}"), "plugins[name=e].unix_socket.path", "field required"},
		{"external no transport", "plugins:\n  - name: e\n    kind: external\n", "plugins[name=e]", "exactly one of mcp, grpc or unix_socket"},
		{"external two transports", external("unix_socket: {path: /s}\n    grpc: {target: 'h:1'}"), "plugins[name=e]", "exactly one of mcp, grpc or unix_socket"},
		{"external with config", external("unix_socket: {path: /s}\n    config: {a: 1}"), "plugins[name=e].config", "not allowed for kind: external"},
		{"server uds and tls", "server_settings: {uds: '" + dir + "/s', tls: {}}\n", "server_settings", "tls and uds"},
		{"grpc server uds and tls", "grpc_server_settings: {uds: '" + dir + "/s', tls: {}}\n", "grpc_server_settings", "tls and uds"},
		{"grpc client_auth", "grpc_server_settings: {tls: {client_auth: maybe}}\n", "grpc_server_settings.tls.client_auth", "none, optional, require"},
		{"server tls cert reqs", "server_settings: {tls: {ssl_cert_reqs: x}}\n", "server_settings.tls.ssl_cert_reqs", "must be an integer"},
		{"server not mapping", "server_settings: [a]\n", "server_settings", "must be a mapping"},
		{"unix server path", "unix_socket_server_settings: {path: 5}\n", "unix_socket_server_settings.path", "must be a string"},
		{"grpc server host", "grpc_server_settings: {host: [a]}\n", "grpc_server_settings.host", "must be a string"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := parse(t, tc.doc)
			issues := issuesOf(t, err)
			assert.Equal(t, tc.path, issues[0].Path, "%v", err)
			assert.Contains(t, issues[0].Message, tc.msg)
			assert.Positive(t, issues[0].Line)
		})
	}
}

func TestExternalConfigAllowedWithOption(t *testing.T) {
	cfg := mustParse(t, external("unix_socket: {path: /s}\n    config: {a: 1}"), WithIgnoreConfigExternal(true))
	assert.Equal(t, map[string]any{"a": int64(1)}, cfg.Plugins[0].Config)
	// An empty config is fine even without the option.
	mustParse(t, external("unix_socket: {path: /s}\n    config: {}"))
}

func TestSSRFOption(t *testing.T) {
	doc := external("mcp: {proto: STREAMABLEHTTP, url: 'http://127.0.0.1:8000/mcp'}")
	_, err := parse(t, doc)
	issues := issuesOf(t, err)
	assert.Contains(t, issues[0].Message, "SSRF")
	assert.Equal(t, `"http://127.0.0.1:8000/mcp"`, issues[0].Value)
	cfg := mustParse(t, doc, WithSSRFProtection(false))
	assert.Equal(t, "http://127.0.0.1:8000/mcp", *cfg.Plugins[0].MCP.URL)
}

func ptr[T any](v T) *T { return &v }
