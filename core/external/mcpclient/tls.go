package mcpclient

import (
	"crypto/tls"

	"github.com/cpex-go/cpex/core/config"
	"github.com/cpex-go/cpex/core/external/remote"
)

// tlsFromSettings is upstream MCPClientTLSConfig.from_env: the PLUGINS_CLIENT_MTLS_*
// settings when any is set, else nil.
func tlsFromSettings(s *config.Settings) *config.MCPClientTLSConfig {
	t := &config.MCPClientTLSConfig{Verify: true, CheckHostname: true}
	set := false
	if s.ClientMTLSCertfile != nil && *s.ClientMTLSCertfile != "" {
		t.Certfile, set = s.ClientMTLSCertfile, true
	}
	if s.ClientMTLSKeyfile != nil && *s.ClientMTLSKeyfile != "" {
		t.Keyfile, set = s.ClientMTLSKeyfile, true
	}
	if s.ClientMTLSCABundle != nil && *s.ClientMTLSCABundle != "" {
		t.CABundle, set = s.ClientMTLSCABundle, true
	}
	if s.ClientMTLSKeyfilePassword != nil {
		pw := s.ClientMTLSKeyfilePassword.Reveal()
		t.KeyfilePassword, set = &pw, true
	}
	if s.ClientMTLSVerify != nil {
		t.Verify, set = *s.ClientMTLSVerify, true
	}
	if s.ClientMTLSCheckHostname != nil {
		t.CheckHostname, set = *s.ClientMTLSCheckHostname, true
	}
	if !set {
		return nil
	}
	return t
}

// buildTLS: the TLS configuration is shared with the other transports (remote.ClientTLS).
func buildTLS(t *config.MCPClientTLSConfig, plugin string) (*tls.Config, error) {
	return remote.ClientTLS(t, plugin)
}

// tls12Insecure is PLUGINS_SKIP_SSL_VERIFY without a TLS section.
var tls12Insecure = tls.Config{MinVersion: tls.VersionTLS12, InsecureSkipVerify: true} //nolint:gosec // the operator asked for it
