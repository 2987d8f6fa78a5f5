package remote

import (
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"os"

	"github.com/cpex-go/cpex/core/config"
)

// ClientTLS makes the client TLS configuration of an external plugin as upstream's
// create_ssl_context does (MCP and gRPC alike): TLS 1.2 at least, the system roots plus ca_bundle, an
// optional client certificate (its key may be password-protected PEM), verify=false
// trusting any certificate, check_hostname=false verifying the chain but not the name.
func ClientTLS(t *config.MCPClientTLSConfig, plugin string) (*tls.Config, error) {
	fail := func(format string, args ...any) (*tls.Config, error) {
		return nil, fmt.Errorf("external plugin %s: Failed to configure SSL context: "+format, append([]any{plugin}, args...)...)
	}
	cfg := &tls.Config{MinVersion: tls.VersionTLS12}
	roots, err := x509.SystemCertPool()
	if err != nil || roots == nil {
		roots = x509.NewCertPool()
	}
	if t.CABundle != nil {
		pemData, err := os.ReadFile(*t.CABundle)
		if err != nil {
			return fail("ca_bundle %s: %v", *t.CABundle, err)
		}
		if !roots.AppendCertsFromPEM(pemData) {
			return fail("ca_bundle %s: no PEM certificate in the file", *t.CABundle)
		}
	}
	cfg.RootCAs = roots
	if t.Certfile != nil {
		keyfile := *t.Certfile
		if t.Keyfile != nil {
			keyfile = *t.Keyfile
		}
		cert, err := LoadKeyPair(*t.Certfile, keyfile, t.KeyfilePassword)
		if err != nil {
			return fail("client certificate %s: %v", *t.Certfile, err)
		}
		cfg.Certificates = []tls.Certificate{cert}
	}
	switch {
	case !t.Verify:
		cfg.InsecureSkipVerify = true
	case !t.CheckHostname:
		// Verify the chain against the roots, but not the host name.
		cfg.InsecureSkipVerify = true
		cfg.VerifyConnection = func(cs tls.ConnectionState) error {
			if len(cs.PeerCertificates) == 0 {
				return errors.New("tls: the server sent no certificate")
			}
			opts := x509.VerifyOptions{Roots: roots, Intermediates: x509.NewCertPool()}
			for _, c := range cs.PeerCertificates[1:] {
				opts.Intermediates.AddCert(c)
			}
			_, err := cs.PeerCertificates[0].Verify(opts)
			return err
		}
	}
	return cfg, nil
}

// LoadKeyPair reads a certificate and its key; a key encrypted with the legacy PEM
// scheme (Proc-Type: 4,ENCRYPTED) is decrypted with password. Encrypted PKCS#8 keys
// ("ENCRYPTED PRIVATE KEY") are refused with an error saying so: the standard library
// has no decoder for them.
func LoadKeyPair(certfile, keyfile string, password *string) (tls.Certificate, error) {
	certPEM, err := os.ReadFile(certfile)
	if err != nil {
		return tls.Certificate{}, err
	}
	keyPEM, err := os.ReadFile(keyfile)
	if err != nil {
		return tls.Certificate{}, err
	}
	block, _ := pem.Decode(keyPEM)
	if block != nil {
		switch {
		case block.Type == "ENCRYPTED PRIVATE KEY":
			return tls.Certificate{}, fmt.Errorf("keyfile %s: encrypted PKCS#8 keys are not supported; decrypt it or use a legacy encrypted PEM key", keyfile)
		//nolint:staticcheck // legacy PEM encryption is what password-protected keys of upstream's deployments use
		case x509.IsEncryptedPEMBlock(block):
			if password == nil {
				return tls.Certificate{}, fmt.Errorf("keyfile %s: the key is encrypted and no keyfile_password is set", keyfile)
			}
			//nolint:staticcheck // see above
			der, err := x509.DecryptPEMBlock(block, []byte(*password))
			if err != nil {
				return tls.Certificate{}, fmt.Errorf("keyfile %s: %v", keyfile, err)
			}
			keyPEM = pem.EncodeToMemory(&pem.Block{Type: block.Type, Bytes: der})
		}
	}
	return tls.X509KeyPair(certPEM, keyPEM)
}
