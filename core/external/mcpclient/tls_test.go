package mcpclient

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"net"
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/cpex-go/cpex/core"
)

type testPKI struct {
	ca     *x509.Certificate
	caKey  *ecdsa.PrivateKey
	caPool *x509.CertPool
	dir    string
}

func newPKI(t *testing.T) *testPKI {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "test CA"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour), IsCA: true,
		KeyUsage: x509.KeyUsageCertSign, BasicConstraintsValid: true}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	require.NoError(t, err)
	ca, err := x509.ParseCertificate(der)
	require.NoError(t, err)
	pool := x509.NewCertPool()
	pool.AddCert(ca)
	p := &testPKI{ca: ca, caKey: key, caPool: pool, dir: t.TempDir()}
	p.write(t, "ca.pem", "CERTIFICATE", der)
	return p
}

func (p *testPKI) write(t *testing.T, name, typ string, der []byte) string {
	path := filepath.Join(p.dir, name)
	require.NoError(t, os.WriteFile(path, pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der}), 0o600))
	return path
}

// issue makes a leaf certificate for ips (server) or for a client.
func (p *testPKI) issue(t *testing.T, serial int64, ips []net.IP, client bool) (tls.Certificate, []byte, *ecdsa.PrivateKey) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)
	usage := x509.ExtKeyUsageServerAuth
	if client {
		usage = x509.ExtKeyUsageClientAuth
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(serial), Subject: pkix.Name{CommonName: "leaf"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour), IPAddresses: ips,
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{usage}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, p.ca, &key.PublicKey, p.caKey)
	require.NoError(t, err)
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}, der, key
}

func (p *testPKI) server(t *testing.T, ips []net.IP, requireClient bool) *httptest.Server {
	cert, _, _ := p.issue(t, 2, ips, false)
	srv := httptest.NewUnstartedServer(newHTTPHandler())
	srv.TLS = &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}
	if requireClient {
		srv.TLS.ClientAuth, srv.TLS.ClientCAs = tls.RequireAndVerifyClientCert, p.caPool
	}
	srv.StartTLS()
	t.Cleanup(srv.Close)
	return srv
}

func TestMutualTLSWithAPasswordProtectedKey(t *testing.T) {
	pki := newPKI(t)
	srv := pki.server(t, []net.IP{net.IPv4(127, 0, 0, 1)}, true)
	_, der, key := pki.issue(t, 3, nil, true)
	certfile := pki.write(t, "client.pem", "CERTIFICATE", der)
	keyDER, err := x509.MarshalECPrivateKey(key)
	require.NoError(t, err)
	//nolint:staticcheck // legacy PEM encryption is what the client must read
	block, err := x509.EncryptPEMBlock(rand.Reader, "EC PRIVATE KEY", keyDER, []byte("s3cret"), x509.PEMCipherAES256)
	require.NoError(t, err)
	keyfile := filepath.Join(pki.dir, "client-key.pem")
	require.NoError(t, os.WriteFile(keyfile, pem.EncodeToMemory(block), 0o600))
	ca := filepath.Join(pki.dir, "ca.pem")

	tlsYAML := func(extra string) string {
		return "tls: {ca_bundle: '" + ca + "', certfile: '" + certfile + "', keyfile: '" + keyfile + "'" + extra + "}"
	}
	pc := parseEntry(t, "plugins:\n  - name: mtls\n    kind: external\n    mcp: {proto: STREAMABLEHTTP, url: '"+srv.URL+"/mcp', "+tlsYAML(", keyfile_password: s3cret")+"}\n")
	p := connect(t, pc)
	_, _, err = call(p, context.Background(), "allow")
	require.NoError(t, err)

	for name, extra := range map[string]string{"no password": "", "wrong password": ", keyfile_password: nope"} {
		pc = parseEntry(t, "plugins:\n  - name: mtls\n    kind: external\n    mcp: {proto: STREAMABLEHTTP, url: '"+srv.URL+"/mcp', "+tlsYAML(extra)+"}\n")
		_, err = Connect(context.Background(), pc, Options{Settings: testSettings()})
		var pe *core.PluginError
		require.ErrorAs(t, err, &pe, name)
		assert.Equal(t, "mtls", pe.PluginName, name)
		assert.Contains(t, pe.Message, "Failed to configure SSL context", name)
	}

	// Without a client certificate the server refuses the handshake.
	pc = parseEntry(t, "plugins:\n  - name: mtls\n    kind: external\n    mcp: {proto: STREAMABLEHTTP, url: '"+srv.URL+"/mcp', tls: {ca_bundle: '"+ca+"'}}\n")
	_, err = Connect(context.Background(), pc, Options{Settings: testSettings()})
	require.Error(t, err)
}

func TestCheckHostname(t *testing.T) {
	pki := newPKI(t)
	srv := pki.server(t, []net.IP{net.IPv4(10, 9, 8, 7)}, false) // a certificate for another address
	ca := filepath.Join(pki.dir, "ca.pem")
	entry := func(check string) string {
		return "plugins:\n  - name: host\n    kind: external\n    mcp: {proto: STREAMABLEHTTP, url: '" + srv.URL + "/mcp', tls: {ca_bundle: '" + ca + "', check_hostname: " + check + "}}\n"
	}
	_, err := Connect(context.Background(), parseEntry(t, entry("true")), Options{Settings: testSettings()})
	require.Error(t, err, "the name does not match")
	p := connect(t, parseEntry(t, entry("false")))
	_, _, err = call(p, context.Background(), "allow")
	require.NoError(t, err, "check_hostname false still verifies the chain, not the name")

	other := newPKI(t) // a CA that did not sign the server's certificate
	bad := "plugins:\n  - name: host\n    kind: external\n    mcp: {proto: STREAMABLEHTTP, url: '" + srv.URL + "/mcp', tls: {ca_bundle: '" + filepath.Join(other.dir, "ca.pem") + "', check_hostname: false}}\n"
	_, err = Connect(context.Background(), parseEntry(t, bad), Options{Settings: testSettings()})
	require.Error(t, err, "an unknown CA is refused even without the name check")
}
