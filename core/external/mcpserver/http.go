package mcpserver

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/cpex-go/cpex/core/config"
	"github.com/cpex-go/cpex/core/external/remote"
)

// HTTPConfig is where and how the streamable HTTP endpoint listens (upstream
// server_settings / PLUGINS_SERVER_*).
type HTTPConfig struct {
	Host string // default 127.0.0.1
	Port int    // 0: any free port (see HTTPServer.Addr)
	// UDS, when set, listens on this Unix-domain socket instead of Host:Port; requests
	// must then name a localhost Host (and Origin, if any): DNS-rebinding protection.
	UDS string
	// TLS, when set (and not on a UDS), serves HTTPS; /health and /metrics/prometheus are
	// then also served in plain HTTP on HealthPort (0: Port+1000, as upstream).
	TLS        *TLSConfig
	HealthPort int
	// MaxBodyBytes bounds one HTTP request body (0: 4 × the server's request limit).
	MaxBodyBytes int64
}

// TLSConfig is the server's certificate and the client certificates it asks for.
type TLSConfig struct {
	Certfile, Keyfile string
	KeyfilePassword   *string
	CAFile            string // the CAs client certificates must chain to
	// ClientCertReqs: 0 none, 1 optional, 2 required (upstream's ssl_cert_reqs, default 2).
	ClientCertReqs int
}

// HTTPServer is a listening HTTP endpoint of a Server.
type HTTPServer struct {
	Addr       string // the bound address (host:port or the socket path)
	HealthAddr string // the plain health port's address, "" when none
	srv        []*http.Server
	ln         []net.Listener
	uds        string
}

// Handler is /mcp (streamable HTTP), /health and /metrics/prometheus. localOnly adds
// the localhost Host/Origin checks a Unix-socket endpoint needs.
func (s *Server) Handler(localOnly bool, maxBody int64) http.Handler {
	mux := http.NewServeMux()
	streamable := mcp.NewStreamableHTTPHandler(func(*http.Request) *mcp.Server { return s.mcp },
		&mcp.StreamableHTTPOptions{Logger: s.o.Logger})
	var h http.Handler = streamable
	if maxBody <= 0 {
		maxBody = 4 * int64(max(s.o.MaxRequestBytes, 0))
		if maxBody == 0 {
			maxBody = 4 * DefaultMaxRequestBytes
		}
	}
	h = limitBody(h, maxBody)
	if localOnly {
		h = localhostOnly(h)
	}
	mux.Handle("/mcp", h)
	mux.Handle("/mcp/", h)
	s.healthRoutes(mux)
	return mux
}

func (s *Server) healthRoutes(mux *http.ServeMux) {
	mux.HandleFunc("GET /health", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(`{"status":"healthy"}`))
	})
	mux.Handle("GET /metrics/prometheus", s.metrics.Handler())
}

func limitBody(h http.Handler, n int64) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.ContentLength > n {
			http.Error(w, fmt.Sprintf("request body of %d bytes exceeds the server's limit of %d bytes", r.ContentLength, n), http.StatusRequestEntityTooLarge)
			return
		}
		r.Body = http.MaxBytesReader(w, r.Body, n)
		h.ServeHTTP(w, r)
	})
}

// localhostOnly refuses a request whose Host, or Origin when present, is not a loopback
// name: a socket file is local, a browser page on another site must not reach it through
// a rebound DNS name.
func localhostOnly(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !isLocalHost(r.Host) {
			http.Error(w, "invalid Host header: "+r.Host, http.StatusMisdirectedRequest)
			return
		}
		if o := r.Header.Get("Origin"); o != "" {
			u, err := url.Parse(o)
			if err != nil || (u.Scheme != "http" && u.Scheme != "https") || !isLocalHost(u.Host) {
				http.Error(w, "invalid Origin header: "+o, http.StatusForbidden)
				return
			}
		}
		h.ServeHTTP(w, r)
	})
}

func isLocalHost(hostport string) bool {
	host := hostport
	if h, _, err := net.SplitHostPort(hostport); err == nil {
		host = h
	}
	host = strings.TrimSuffix(strings.TrimPrefix(host, "["), "]")
	return host == "localhost" || host == "127.0.0.1" || host == "::1"
}

// Listen binds the endpoint (errors such as a port in use come back here) and serves it
// in the background until Shutdown.
func (s *Server) Listen(cfg HTTPConfig) (*HTTPServer, error) {
	host := cfg.Host
	if host == "" {
		host = "127.0.0.1"
	}
	out := &HTTPServer{}
	var tlsCfg *tls.Config
	if cfg.TLS != nil && cfg.UDS == "" {
		var err error
		if tlsCfg, err = serverTLS(cfg.TLS); err != nil {
			return nil, err
		}
	}
	s.metrics.setInfo(s.o.Name, "http", tlsCfg != nil)
	var ln net.Listener
	var err error
	if cfg.UDS != "" {
		if fi, serr := os.Lstat(cfg.UDS); serr == nil && fi.Mode()&os.ModeSocket != 0 {
			_ = os.Remove(cfg.UDS) // a stale socket of an earlier run
		}
		ln, err = net.Listen("unix", cfg.UDS)
		out.uds = cfg.UDS
	} else {
		ln, err = net.Listen("tcp", net.JoinHostPort(host, strconv.Itoa(cfg.Port)))
	}
	if err != nil {
		return nil, fmt.Errorf("plugin server: listen: %w", err)
	}
	out.Addr = ln.Addr().String()
	main := &http.Server{Handler: s.Handler(cfg.UDS != "", cfg.MaxBodyBytes), ReadHeaderTimeout: 30 * time.Second}
	if tlsCfg != nil {
		main.TLSConfig = tlsCfg
		ln = tls.NewListener(ln, tlsCfg)
	}
	out.add(main, ln)
	if tlsCfg != nil && cfg.HealthPort >= 0 {
		hp := cfg.HealthPort
		if hp == 0 {
			hp = ln.Addr().(*net.TCPAddr).Port + 1000
		}
		hln, err := net.Listen("tcp", net.JoinHostPort(host, strconv.Itoa(hp)))
		if err != nil {
			_ = out.Shutdown(context.Background())
			return nil, fmt.Errorf("plugin server: health port: %w", err)
		}
		out.HealthAddr = hln.Addr().String()
		mux := http.NewServeMux()
		s.healthRoutes(mux)
		out.add(&http.Server{Handler: mux, ReadHeaderTimeout: 30 * time.Second}, hln)
	}
	for i := range out.srv {
		go func(srv *http.Server, ln net.Listener) {
			if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
				s.log.Error("plugin server: serve", "addr", ln.Addr().String(), "error", err)
			}
		}(out.srv[i], out.ln[i])
	}
	return out, nil
}

func (h *HTTPServer) add(s *http.Server, ln net.Listener) {
	h.srv = append(h.srv, s)
	h.ln = append(h.ln, ln)
}

// Shutdown stops accepting, waits for running requests until ctx ends, then closes.
func (h *HTTPServer) Shutdown(ctx context.Context) error {
	var errs []error
	for _, s := range h.srv {
		if err := s.Shutdown(ctx); err != nil {
			errs = append(errs, err, s.Close())
		}
	}
	if h.uds != "" {
		_ = os.Remove(h.uds)
	}
	return errors.Join(errs...)
}

func serverTLS(t *TLSConfig) (*tls.Config, error) {
	if t.Certfile == "" || t.Keyfile == "" {
		return nil, errors.New("plugin server: TLS: certfile and keyfile are both required")
	}
	cert, err := remote.LoadKeyPair(t.Certfile, t.Keyfile, t.KeyfilePassword)
	if err != nil {
		return nil, fmt.Errorf("plugin server: TLS: %w", err)
	}
	c := &tls.Config{MinVersion: tls.VersionTLS12, Certificates: []tls.Certificate{cert}}
	if t.CAFile != "" {
		pem, err := os.ReadFile(t.CAFile)
		if err != nil {
			return nil, fmt.Errorf("plugin server: TLS: ca_certs: %w", err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("plugin server: TLS: ca_certs %s: no PEM certificate in it", t.CAFile)
		}
		c.ClientCAs = pool
	}
	switch t.ClientCertReqs {
	case 0:
		c.ClientAuth = tls.NoClientCert
	case 1:
		c.ClientAuth = tls.VerifyClientCertIfGiven
	case 2:
		c.ClientAuth = tls.RequireAndVerifyClientCert
	default:
		return nil, fmt.Errorf("plugin server: TLS: ssl_cert_reqs: want 0, 1 or 2, got %d", t.ClientCertReqs)
	}
	if c.ClientAuth != tls.NoClientCert && c.ClientCAs == nil {
		return nil, errors.New("plugin server: TLS: client certificates are checked (ssl_cert_reqs 1 or 2) but no ca_certs is set")
	}
	return c, nil
}

// HTTPConfigFrom is where a runtime listens: the config file's server_settings when it
// has them, else the PLUGINS_SERVER_* settings (TLS only with PLUGINS_SERVER_SSL_ENABLED),
// else 127.0.0.1:8000 (upstream's precedence).
func HTTPConfigFrom(file *config.MCPServerConfig, s *config.Settings) HTTPConfig {
	if file != nil {
		c := HTTPConfig{Host: file.Host, Port: file.Port}
		if file.UDS != nil {
			c.UDS = *file.UDS
		}
		if t := file.TLS; t != nil {
			c.TLS = &TLSConfig{Certfile: deref(t.Certfile), Keyfile: deref(t.Keyfile), CAFile: deref(t.CABundle),
				KeyfilePassword: t.KeyfilePassword, ClientCertReqs: t.SSLCertReqs}
		}
		return c
	}
	c := HTTPConfig{Host: "127.0.0.1", Port: 8000}
	if s == nil {
		return c
	}
	if s.ServerHost != nil {
		c.Host = *s.ServerHost
	}
	if s.ServerPort != nil {
		c.Port = *s.ServerPort
	}
	if s.ServerUDS != nil {
		c.UDS = *s.ServerUDS
	}
	if s.ServerSSLEnabled != nil && *s.ServerSSLEnabled && (s.ServerSSLCertfile != nil || s.ServerSSLKeyfile != nil) {
		t := &TLSConfig{Certfile: deref(s.ServerSSLCertfile), Keyfile: deref(s.ServerSSLKeyfile), CAFile: deref(s.ServerSSLCACerts), ClientCertReqs: 2}
		if s.ServerSSLKeyfilePassword != nil {
			pw := s.ServerSSLKeyfilePassword.Reveal()
			t.KeyfilePassword = &pw
		}
		if s.ServerSSLCertReqs != nil {
			t.ClientCertReqs = *s.ServerSSLCertReqs
		}
		c.TLS = t
	}
	return c
}
