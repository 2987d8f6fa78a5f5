package grpc

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"os"
	"strconv"
	"strings"

	ggrpc "google.golang.org/grpc"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/health"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"

	"github.com/cpex-go/cpex/core"
	"github.com/cpex-go/cpex/core/config"
	"github.com/cpex-go/cpex/core/external/remote"
	"github.com/cpex-go/cpex/proto/cpexpb"
)

// Server serves the plugins of a remote.Host over gRPC.
type Server struct {
	cpexpb.UnimplementedPluginServiceServer
	host   remote.Host
	srv    *ggrpc.Server
	health *health.Server
}

// Health is cpex.Health: always SERVING while the server runs (upstream's answer).
type healthService struct {
	cpexpb.UnimplementedHealthServer
}

func (healthService) Check(context.Context, *cpexpb.HealthCheckRequest) (*cpexpb.HealthCheckResponse, error) {
	return &cpexpb.HealthCheckResponse{Status: cpexpb.HealthCheckResponse_SERVING}, nil
}

// NewServer makes the gRPC server of m's plugins; creds nil is plaintext.
func NewServer(m *core.Manager, creds credentials.TransportCredentials) *Server {
	return NewHostServer(&remote.ManagerHost{M: m}, creds)
}

// NewHostServer makes the gRPC server of h's plugins (e.g. a remote.QueueHost whose
// calls a Python runtime runs); creds nil is plaintext.
func NewHostServer(h remote.Host, creds credentials.TransportCredentials) *Server {
	var opts []ggrpc.ServerOption
	if creds != nil {
		opts = append(opts, ggrpc.Creds(creds))
	}
	s := &Server{host: h, srv: ggrpc.NewServer(opts...), health: health.NewServer()}
	cpexpb.RegisterPluginServiceServer(s.srv, s)
	cpexpb.RegisterHealthServer(s.srv, healthService{})
	healthpb.RegisterHealthServer(s.srv, s.health)
	s.health.SetServingStatus("cpex.PluginService", healthpb.HealthCheckResponse_SERVING)
	return s
}

// GetPluginConfig implements cpex.PluginService.
func (s *Server) GetPluginConfig(_ context.Context, req *cpexpb.GetPluginConfigRequest) (*cpexpb.GetPluginConfigResponse, error) {
	return s.host.PluginConfig(req.GetName())
}

// GetPluginConfigs implements cpex.PluginService.
func (s *Server) GetPluginConfigs(context.Context, *cpexpb.GetPluginConfigsRequest) (*cpexpb.GetPluginConfigsResponse, error) {
	return s.host.PluginConfigs()
}

// InvokeHook implements cpex.PluginService.
func (s *Server) InvokeHook(ctx context.Context, req *cpexpb.InvokeHookRequest) (*cpexpb.InvokeHookResponse, error) {
	return s.host.Invoke(ctx, req), nil
}

// Serve serves on l until Stop.
func (s *Server) Serve(l net.Listener) error { return s.srv.Serve(l) }

// Stop stops gracefully: running calls finish.
func (s *Server) Stop() {
	s.health.Shutdown()
	s.srv.GracefulStop()
}

// Endpoint is where a server listens and how.
type Endpoint struct {
	Network, Address string // "tcp" host:port, or "unix" path
	TLS              *config.GRPCServerTLSConfig
}

// ResolveEndpoint decides the endpoint as upstream's runtime does: the config's
// grpc_server_settings, else PLUGINS_GRPC_SERVER_* (TLS only with
// PLUGINS_GRPC_SERVER_SSL_ENABLED), else 127.0.0.1:50051; a uds wins over host and port,
// which host and port arguments (non-empty / non-zero) override.
func ResolveEndpoint(cfg *config.Config, s *config.Settings, host string, port int) (Endpoint, error) {
	sc := serverConfig(cfg, s)
	if sc.UDS != nil && *sc.UDS != "" {
		if sc.TLS != nil {
			return Endpoint{}, errors.New("grpc server: tls cannot be used with uds")
		}
		return Endpoint{Network: "unix", Address: *sc.UDS}, nil
	}
	if host == "" {
		host = sc.Host
	}
	if port == 0 {
		port = sc.Port
	}
	return Endpoint{Network: "tcp", Address: net.JoinHostPort(host, strconv.Itoa(port)), TLS: sc.TLS}, nil
}

func serverConfig(cfg *config.Config, s *config.Settings) config.GRPCServerConfig {
	if cfg != nil && cfg.GRPCServerSettings != nil {
		return *cfg.GRPCServerSettings
	}
	sc := config.GRPCServerConfig{Host: config.DefaultServerHost, Port: config.DefaultGRPCServerPort}
	if s == nil {
		return sc
	}
	if s.GRPCServerHost != nil && *s.GRPCServerHost != "" {
		sc.Host = *s.GRPCServerHost
	}
	if s.GRPCServerPort != nil {
		sc.Port = *s.GRPCServerPort
	}
	if s.GRPCServerUDS != nil && *s.GRPCServerUDS != "" {
		sc.UDS = s.GRPCServerUDS
	}
	if s.GRPCServerSSLEnabled != nil && *s.GRPCServerSSLEnabled {
		t := &config.GRPCServerTLSConfig{ClientAuth: config.DefaultGRPCClientAuth}
		set := false
		str := func(dst **string, v *string) {
			if v != nil && *v != "" {
				*dst, set = v, true
			}
		}
		str(&t.Keyfile, s.GRPCServerSSLKeyfile)
		str(&t.Certfile, s.GRPCServerSSLCertfile)
		str(&t.CABundle, s.GRPCServerSSLCACerts)
		if s.GRPCServerSSLKeyfilePassword != nil {
			pw := s.GRPCServerSSLKeyfilePassword.Reveal()
			t.KeyfilePassword, set = &pw, true
		}
		if s.GRPCServerSSLClientAuth != nil && *s.GRPCServerSSLClientAuth != "" {
			t.ClientAuth, set = strings.ToLower(*s.GRPCServerSSLClientAuth), true
		}
		if set {
			sc.TLS = t
		}
	}
	return sc
}

// ServerTLS is the server credentials of t: its certificate, and client certificates
// checked against ca_bundle as client_auth says (none, optional: verified when sent,
// require).
func ServerTLS(t *config.GRPCServerTLSConfig) (credentials.TransportCredentials, error) {
	if t.Certfile == nil {
		return nil, errors.New("grpc server tls: certfile is required")
	}
	keyfile := *t.Certfile
	if t.Keyfile != nil {
		keyfile = *t.Keyfile
	}
	cert, err := remote.LoadKeyPair(*t.Certfile, keyfile, t.KeyfilePassword)
	if err != nil {
		return nil, fmt.Errorf("grpc server tls: certificate %s: %w", *t.Certfile, err)
	}
	tc := &tls.Config{MinVersion: tls.VersionTLS12, Certificates: []tls.Certificate{cert}}
	switch strings.ToLower(t.ClientAuth) {
	case config.ClientAuthNone:
		tc.ClientAuth = tls.NoClientCert
	case config.ClientAuthOptional:
		tc.ClientAuth = tls.VerifyClientCertIfGiven
	case config.ClientAuthRequire, "":
		tc.ClientAuth = tls.RequireAndVerifyClientCert
	default:
		return nil, fmt.Errorf("grpc server tls: client_auth %q: want none, optional or require", t.ClientAuth)
	}
	if tc.ClientAuth != tls.NoClientCert {
		if t.CABundle == nil {
			return nil, fmt.Errorf("grpc server tls: client_auth %s needs ca_bundle to verify client certificates", t.ClientAuth)
		}
		pemData, err := os.ReadFile(*t.CABundle)
		if err != nil {
			return nil, fmt.Errorf("grpc server tls: ca_bundle %s: %w", *t.CABundle, err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pemData) {
			return nil, fmt.Errorf("grpc server tls: ca_bundle %s: no PEM certificate in the file", *t.CABundle)
		}
		tc.ClientCAs = pool
	}
	return credentials.NewTLS(tc), nil
}

// Listen opens the endpoint: a Unix socket is replaced if it exists and made 0600
// (upstream's runtime does the same).
func Listen(ep Endpoint) (net.Listener, error) {
	if ep.Network == "unix" {
		if err := os.Remove(ep.Address); err != nil && !errors.Is(err, os.ErrNotExist) {
			return nil, fmt.Errorf("grpc server: removing the old socket %s: %w", ep.Address, err)
		}
		l, err := net.Listen("unix", ep.Address)
		if err != nil {
			return nil, fmt.Errorf("grpc server: %w", err)
		}
		if err := os.Chmod(ep.Address, 0o600); err != nil {
			_ = l.Close()
			return nil, fmt.Errorf("grpc server: %w", err)
		}
		return l, nil
	}
	l, err := net.Listen("tcp", ep.Address)
	if err != nil {
		return nil, fmt.Errorf("grpc server: %w", err)
	}
	return l, nil
}
