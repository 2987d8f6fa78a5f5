package mcpserver

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"io"
	"math/big"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/cpex-go/cpex/core"
	"github.com/cpex-go/cpex/core/config"
	"github.com/cpex-go/cpex/core/external/mcpclient"
)

func parseEntry(t *testing.T, doc string) *config.PluginConfig {
	t.Helper()
	cfg, err := config.Parse([]byte(doc), "test.yaml", config.WithSSRFProtection(false))
	require.NoError(t, err)
	require.Len(t, cfg.Plugins, 1)
	return &cfg.Plugins[0]
}

func connect(t *testing.T, doc string, s *config.Settings) *mcpclient.Plugin {
	t.Helper()
	if s == nil {
		s = testSettings()
	}
	p, err := mcpclient.Connect(context.Background(), parseEntry(t, doc), mcpclient.Options{Settings: s})
	require.NoError(t, err)
	t.Cleanup(func() { _ = p.Shutdown(context.Background()) })
	return p
}

func pre(name string) *core.Payload {
	return core.NewPayloadValue(map[string]any{"name": name, "args": map[string]any{"a": 1.0}})
}

// transports: our Go client against the Go server over each transport.
func transports(t *testing.T) map[string]func(t *testing.T) *mcpclient.Plugin {
	return map[string]func(t *testing.T) *mcpclient.Plugin{
		"stdio": func(t *testing.T) *mcpclient.Plugin {
			path := filepath.Join(t.TempDir(), "config.yaml")
			require.NoError(t, os.WriteFile(path, []byte(serverYAML), 0o600))
			return connect(t, "plugins:\n  - name: GoGuard\n    kind: external\n    mcp:\n      proto: STDIO\n      cmd: ['"+os.Args[0]+"']\n      env:\n        MCPSERVER_TEST_STDIO: '1'\n        MCPSERVER_TEST_CONFIG: '"+path+"'\n", nil)
		},
		"http": func(t *testing.T) *mcpclient.Plugin {
			h, err := newGoServer(t).Listen(HTTPConfig{Host: "127.0.0.1"})
			require.NoError(t, err)
			t.Cleanup(func() { _ = h.Shutdown(context.Background()) })
			return connect(t, "plugins:\n  - name: GoGuard\n    kind: external\n    mcp: {proto: STREAMABLEHTTP, url: 'http://"+h.Addr+"/mcp'}\n", nil)
		},
		"uds": func(t *testing.T) *mcpclient.Plugin {
			dir, err := os.MkdirTemp("", "cpex-srv-") // short: a socket path has at most 107 bytes
			require.NoError(t, err)
			t.Cleanup(func() { _ = os.RemoveAll(dir) })
			sock := filepath.Join(dir, "p.sock")
			h, err := newGoServer(t).Listen(HTTPConfig{UDS: sock})
			require.NoError(t, err)
			t.Cleanup(func() { _ = h.Shutdown(context.Background()) })
			return connect(t, "plugins:\n  - name: GoGuard\n    kind: external\n    mcp: {proto: STREAMABLEHTTP, url: 'http://localhost/mcp', uds: '"+sock+"'}\n", nil)
		},
	}
}

func TestGoServerServesOurClient(t *testing.T) {
	for name, open := range transports(t) {
		t.Run(name, func(t *testing.T) {
			p := open(t)
			assert.Equal(t, []string{"tool_pre_invoke", "tool_post_invoke"}, p.Merged.Hooks, "hooks come from the server")
			assert.Equal(t, "a Go guard served over MCP", *p.Merged.Description)

			pctx := &core.PluginContext{RequestID: "r1", GlobalState: map[string]any{"from_client": "client"}}
			res, err := p.Invoke(context.Background(), core.HookToolPreInvoke, pre("allow"), pctx)
			require.NoError(t, err)
			assert.False(t, res.Block)
			assert.Equal(t, map[string]any{"level": "strict", "request_id": "r1", "hook": "tool_pre_invoke"}, res.Metadata)
			assert.Equal(t, "client+server", pctx.GlobalState["from_server"], "global state round-trips")
			assert.Equal(t, "allow", pctx.State["seen"])
			post, err := p.Invoke(context.Background(), core.HookToolPostInvoke, pre("allow"), pctx)
			require.NoError(t, err)
			assert.Equal(t, "allow", post.Metadata["state_at_post"], "the plugin's state reaches the next hook")

			res, err = p.Invoke(context.Background(), core.HookToolPreInvoke, pre("block"), &core.PluginContext{})
			require.NoError(t, err)
			assert.True(t, res.Block)
			require.NotNil(t, res.Violation)
			assert.Equal(t, "GUARD_BLOCK", res.Violation.Code)
			assert.Equal(t, map[string]any{"tool": "block"}, res.Violation.Details)

			res, err = p.Invoke(context.Background(), core.HookToolPreInvoke, pre("modify"), &core.PluginContext{})
			require.NoError(t, err)
			assert.Equal(t, map[string]any{"x": "changed by server"}, res.ModifiedPayload.(map[string]any)["args"])

			_, err = p.Invoke(context.Background(), core.HookToolPreInvoke, pre("error"), &core.PluginContext{})
			var pe *core.PluginError
			require.ErrorAs(t, err, &pe)
			assert.Contains(t, pe.Message, "guard failed on purpose")
			assert.Equal(t, "GoGuard", pe.PluginName)

			// the manager's timeout ends a hanging plugin: an error model back
			_, err = p.Invoke(context.Background(), core.HookToolPreInvoke, pre("hang"), &core.PluginContext{})
			require.ErrorAs(t, err, &pe)
			assert.Contains(t, strings.ToLower(pe.Message), "timeout")

			// an unknown hook: the error model names the plugin; the server keeps serving
			_, err = p.Invoke(context.Background(), core.HookPromptPreFetch, pre("allow"), &core.PluginContext{})
			require.ErrorAs(t, err, &pe)
			assert.Contains(t, pe.Message, "Unable to find prompt_pre_fetch for plugin GoGuard")

			// an oversized request: an error model, then the server still answers
			big := core.NewPayloadValue(map[string]any{"name": "allow", "args": map[string]any{"blob": strings.Repeat("x", 100<<10)}})
			_, err = p.Invoke(context.Background(), core.HookToolPreInvoke, big, &core.PluginContext{})
			require.ErrorAs(t, err, &pe)
			assert.Equal(t, CodeRequestTooLarge, pe.Code)
			assert.Equal(t, "GoGuard", pe.PluginName)
			_, err = p.Invoke(context.Background(), core.HookToolPreInvoke, pre("allow"), &core.PluginContext{})
			require.NoError(t, err)
		})
	}
}

func get(t *testing.T, c *http.Client, url string) (int, string) {
	t.Helper()
	resp, err := c.Get(url)
	require.NoError(t, err)
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return resp.StatusCode, string(b)
}

func TestHealthAndMetrics(t *testing.T) {
	s := newGoServer(t)
	h, err := s.Listen(HTTPConfig{Host: "127.0.0.1"})
	require.NoError(t, err)
	defer func() { _ = h.Shutdown(context.Background()) }()
	code, body := get(t, http.DefaultClient, "http://"+h.Addr+"/health")
	assert.Equal(t, 200, code)
	assert.JSONEq(t, `{"status":"healthy"}`, body)

	p := connect(t, "plugins:\n  - name: GoGuard\n    kind: external\n    mcp: {proto: STREAMABLEHTTP, url: 'http://"+h.Addr+"/mcp'}\n", nil)
	for _, n := range []string{"allow", "allow", "block", "error"} {
		_, _ = p.Invoke(context.Background(), core.HookToolPreInvoke, pre(n), &core.PluginContext{})
	}
	code, body = get(t, http.DefaultClient, "http://"+h.Addr+"/metrics/prometheus")
	assert.Equal(t, 200, code)
	assert.Contains(t, body, `cpex_plugin_server_calls_total{hook="tool_pre_invoke",outcome="allowed",plugin="GoGuard"} 2`)
	assert.Contains(t, body, `cpex_plugin_server_calls_total{hook="tool_pre_invoke",outcome="blocked",plugin="GoGuard"} 1`)
	assert.Contains(t, body, `cpex_plugin_server_calls_total{hook="tool_pre_invoke",outcome="error",plugin="GoGuard"} 1`)
	assert.Contains(t, body, `cpex_plugin_server_call_duration_seconds_count{hook="tool_pre_invoke",plugin="GoGuard"} 4`)
	assert.Contains(t, body, `plugin_info{server_name="MCP Plugin Server",ssl_enabled="false",transport="http"} 1`)
	// and the core's own series of the served manager (core/metrics)
	assert.Contains(t, body, `cpex_plugin_calls_total{hook="tool_pre_invoke",outcome="allowed",plugin="GoGuard"} 2`)
	assert.Contains(t, body, `cpex_plugin_duration_seconds_count{hook="tool_pre_invoke",plugin="GoGuard"} 4`)
}

func TestUDSRefusesForeignHostAndOrigin(t *testing.T) {
	dir, err := os.MkdirTemp("", "cpex-srv-")
	require.NoError(t, err)
	defer os.RemoveAll(dir)
	sock := filepath.Join(dir, "p.sock")
	h, err := newGoServer(t).Listen(HTTPConfig{UDS: sock})
	require.NoError(t, err)
	defer func() { _ = h.Shutdown(context.Background()) }()
	c := &http.Client{Transport: &http.Transport{DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
		return (&net.Dialer{}).DialContext(ctx, "unix", sock)
	}}}
	code, _ := get(t, c, "http://localhost/health")
	assert.Equal(t, 200, code)
	for _, tc := range []struct {
		host, origin string
		want         int
	}{
		{"evil.example", "", http.StatusMisdirectedRequest},
		{"localhost", "http://evil.example", http.StatusForbidden},
		{"127.0.0.1:8000", "http://localhost:3000", http.StatusBadRequest}, // passes the check; not an MCP request
	} {
		req, err := http.NewRequest(http.MethodPost, "http://localhost/mcp", strings.NewReader("{}"))
		require.NoError(t, err)
		req.Host = tc.host
		if tc.origin != "" {
			req.Header.Set("Origin", tc.origin)
		}
		resp, err := c.Do(req)
		require.NoError(t, err)
		_ = resp.Body.Close()
		if tc.want == http.StatusBadRequest {
			assert.NotEqual(t, http.StatusForbidden, resp.StatusCode, tc.host)
			assert.NotEqual(t, http.StatusMisdirectedRequest, resp.StatusCode, tc.host)
		} else {
			assert.Equal(t, tc.want, resp.StatusCode, tc.host)
		}
	}
}

// pki writes a CA, a server certificate for 127.0.0.1 and a client certificate.
func pki(t *testing.T) (dir string) {
	dir = t.TempDir()
	key := func() *ecdsa.PrivateKey {
		k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		require.NoError(t, err)
		return k
	}
	write := func(name, typ string, der []byte) {
		require.NoError(t, os.WriteFile(filepath.Join(dir, name), pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der}), 0o600))
	}
	caKey := key()
	caTpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "test CA"}, NotBefore: time.Now().Add(-time.Hour),
		NotAfter: time.Now().Add(time.Hour), IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign}
	caDER, err := x509.CreateCertificate(rand.Reader, caTpl, caTpl, &caKey.PublicKey, caKey)
	require.NoError(t, err)
	ca, _ := x509.ParseCertificate(caDER)
	write("ca.pem", "CERTIFICATE", caDER)
	leaf := func(name string, serial int64, usage x509.ExtKeyUsage) {
		k := key()
		tpl := &x509.Certificate{SerialNumber: big.NewInt(serial), Subject: pkix.Name{CommonName: name}, NotBefore: time.Now().Add(-time.Hour),
			NotAfter: time.Now().Add(time.Hour), ExtKeyUsage: []x509.ExtKeyUsage{usage}, IPAddresses: []net.IP{net.ParseIP("127.0.0.1")}, DNSNames: []string{"localhost"}}
		der, err := x509.CreateCertificate(rand.Reader, tpl, ca, &k.PublicKey, caKey)
		require.NoError(t, err)
		write(name+".pem", "CERTIFICATE", der)
		kd, err := x509.MarshalECPrivateKey(k)
		require.NoError(t, err)
		write(name+".key", "EC PRIVATE KEY", kd)
	}
	leaf("server", 2, x509.ExtKeyUsageServerAuth)
	leaf("client", 3, x509.ExtKeyUsageClientAuth)
	return dir
}

func TestTLSWithClientCertificatesAndPlainHealthPort(t *testing.T) {
	dir := pki(t)
	f := func(n string) string { return filepath.Join(dir, n) }
	healthPort := freePort(t)
	h, err := newGoServer(t).Listen(HTTPConfig{Host: "127.0.0.1", HealthPort: healthPort,
		TLS: &TLSConfig{Certfile: f("server.pem"), Keyfile: f("server.key"), CAFile: f("ca.pem"), ClientCertReqs: 2}})
	require.NoError(t, err)
	defer func() { _ = h.Shutdown(context.Background()) }()

	code, body := get(t, http.DefaultClient, "http://"+h.HealthAddr+"/health")
	assert.Equal(t, 200, code, "the health port is plain HTTP")
	assert.JSONEq(t, `{"status":"healthy"}`, body)

	entry := "plugins:\n  - name: GoGuard\n    kind: external\n    mcp:\n      proto: STREAMABLEHTTP\n      url: 'https://" + h.Addr + "/mcp'\n      tls: {ca_bundle: '" + f("ca.pem") + "', certfile: '" + f("client.pem") + "', keyfile: '" + f("client.key") + "'}\n"
	p := connect(t, entry, nil)
	res, err := p.Invoke(context.Background(), core.HookToolPreInvoke, pre("block"), &core.PluginContext{})
	require.NoError(t, err)
	assert.True(t, res.Block)

	// without a client certificate the handshake fails: a plugin error, no hang
	noCert := "plugins:\n  - name: GoGuard\n    kind: external\n    mcp:\n      proto: STREAMABLEHTTP\n      url: 'https://" + h.Addr + "/mcp'\n      tls: {ca_bundle: '" + f("ca.pem") + "'}\n"
	_, err = mcpclient.Connect(context.Background(), parseEntry(t, noCert), mcpclient.Options{Settings: testSettings()})
	var pe *core.PluginError
	require.ErrorAs(t, err, &pe)
	assert.Equal(t, "GoGuard", pe.PluginName)
}

func TestTLSConfigErrors(t *testing.T) {
	dir := pki(t)
	f := func(n string) string { return filepath.Join(dir, n) }
	s := newGoServer(t)
	for _, tc := range []struct {
		tls  TLSConfig
		want string
	}{
		{TLSConfig{Certfile: f("server.pem")}, "certfile and keyfile are both required"},
		{TLSConfig{Certfile: f("server.pem"), Keyfile: f("nope.key")}, "nope.key"},
		{TLSConfig{Certfile: f("server.pem"), Keyfile: f("server.key"), ClientCertReqs: 2}, "no ca_certs"},
		{TLSConfig{Certfile: f("server.pem"), Keyfile: f("server.key"), ClientCertReqs: 7}, "ssl_cert_reqs"},
	} {
		_, err := s.Listen(HTTPConfig{Host: "127.0.0.1", TLS: &tc.tls})
		require.Error(t, err)
		assert.Contains(t, err.Error(), tc.want)
	}
}

func freePort(t *testing.T) int {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}
