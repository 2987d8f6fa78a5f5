package grpc

import (
	"errors"
	"fmt"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/cpex-go/cpex/core"
	"github.com/cpex-go/cpex/core/config"
	"github.com/cpex-go/cpex/core/external/remote/remotetest"
)

func TestTLSClientAuth(t *testing.T) {
	pki := remotetest.NewPKI(t)
	withCert := "{target: '%s', tls: {ca_bundle: '" + pki.CA + "', certfile: '" + pki.ClientCert + "', keyfile: '" + pki.ClientKey + "'}}"
	noCert := "{target: '%s', tls: {ca_bundle: '" + pki.CA + "'}}"
	cases := []struct {
		name, auth, section string
		ok                  bool
	}{
		{"require + client certificate", "require", withCert, true},
		{"require without one is refused", "require", noCert, false},
		{"optional without one", "optional", noCert, true},
		{"optional + client certificate", "optional", withCert, true},
		{"none", "none", noCert, true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			ca := pki.CA
			creds, err := ServerTLS(&config.GRPCServerTLSConfig{TLSFiles: config.TLSFiles{Certfile: &pki.ServerCert, Keyfile: &pki.ServerKey, CABundle: &ca}, ClientAuth: c.auth})
			require.NoError(t, err)
			addr := serve(t, Endpoint{Network: "tcp", Address: "127.0.0.1:0"}, creds)
			p, err := connect(t, entry(t, "allow", fmt.Sprintf(c.section, addr)), Options{})
			if !c.ok {
				var pe *core.PluginError
				require.True(t, errors.As(err, &pe), "%v", err)
				assert.Equal(t, "allow", pe.PluginName)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, []string{"tool_pre_invoke"}, p.Merged.Hooks)
		})
	}
}

func TestTLSFromSettings(t *testing.T) {
	pki := remotetest.NewPKI(t)
	ca := pki.CA
	creds, err := ServerTLS(&config.GRPCServerTLSConfig{TLSFiles: config.TLSFiles{Certfile: &pki.ServerCert, Keyfile: &pki.ServerKey, CABundle: &ca}, ClientAuth: "require"})
	require.NoError(t, err)
	addr := serve(t, Endpoint{Network: "tcp", Address: "127.0.0.1:0"}, creds)
	s := &config.Settings{GRPCClientMTLSCABundle: &pki.CA, GRPCClientMTLSCertfile: &pki.ClientCert, GRPCClientMTLSKeyfile: &pki.ClientKey}
	_, err = connect(t, entry(t, "allow", "{target: '"+addr+"'}"), Options{Settings: s})
	require.NoError(t, err, "PLUGINS_GRPC_CLIENT_MTLS_* apply when the entry has no tls")
}

func TestServerTLSErrors(t *testing.T) {
	pki := remotetest.NewPKI(t)
	_, err := ServerTLS(&config.GRPCServerTLSConfig{TLSFiles: config.TLSFiles{Certfile: &pki.ServerCert, Keyfile: &pki.ServerKey}, ClientAuth: "require"})
	assert.ErrorContains(t, err, "needs ca_bundle")
	_, err = ServerTLS(&config.GRPCServerTLSConfig{TLSFiles: config.TLSFiles{Certfile: &pki.ServerCert, Keyfile: &pki.ServerKey}, ClientAuth: "sometimes"})
	assert.ErrorContains(t, err, `client_auth "sometimes"`)
}

func TestResolveEndpoint(t *testing.T) {
	uds, host, port, on, auth := "/tmp/x.sock", "0.0.0.0", 6000, true, "OPTIONAL"
	cert := "/c.pem"
	cases := []struct {
		name    string
		s       config.Settings
		host    string
		port    int
		network string
		address string
		tlsAuth string
	}{
		{"defaults", config.Settings{}, "", 0, "tcp", "127.0.0.1:50051", ""},
		{"settings", config.Settings{GRPCServerHost: &host, GRPCServerPort: &port}, "", 0, "tcp", "0.0.0.0:6000", ""},
		{"arguments win over settings", config.Settings{GRPCServerHost: &host, GRPCServerPort: &port}, "127.0.0.2", 7000, "tcp", "127.0.0.2:7000", ""},
		{"uds wins", config.Settings{GRPCServerUDS: &uds, GRPCServerPort: &port}, "", 7000, "unix", uds, ""},
		{"tls only when enabled", config.Settings{GRPCServerSSLCertfile: &cert, GRPCServerSSLClientAuth: &auth}, "", 0, "tcp", "127.0.0.1:50051", ""},
		{"tls enabled", config.Settings{GRPCServerSSLEnabled: &on, GRPCServerSSLCertfile: &cert, GRPCServerSSLClientAuth: &auth}, "", 0, "tcp", "127.0.0.1:50051", "optional"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			ep, err := ResolveEndpoint(nil, &c.s, c.host, c.port)
			require.NoError(t, err)
			assert.Equal(t, c.network, ep.Network)
			assert.Equal(t, c.address, ep.Address)
			if c.tlsAuth == "" {
				assert.Nil(t, ep.TLS)
			} else {
				require.NotNil(t, ep.TLS)
				assert.Equal(t, c.tlsAuth, ep.TLS.ClientAuth)
			}
		})
	}
}
