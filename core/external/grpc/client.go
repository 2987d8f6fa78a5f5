package grpc

import (
	"context"
	"errors"
	"fmt"
	"time"

	ggrpc "google.golang.org/grpc"
	"google.golang.org/grpc/backoff"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/status"

	"github.com/cpex-go/cpex/core"
	"github.com/cpex-go/cpex/core/config"
	"github.com/cpex-go/cpex/core/external/remote"
	"github.com/cpex-go/cpex/proto/cpexpb"
)

// Error codes of the errors this client makes itself (a remote error keeps its own).
const (
	CodeTransport = "GRPC_TRANSPORT_ERROR"
	CodeConfig    = "GRPC_CONFIG_ERROR"
)

// ConfigAttempts is how many times Connect asks for the plugin's config (upstream's 3).
const ConfigAttempts = 3

// ReconnectWindow bounds how long a call that found the server unavailable waits for
// the channel to reconnect before its one retry fails.
const ReconnectWindow = 3 * time.Second

// Options tune Connect. The zero value reads the settings from the environment.
type Options struct {
	// Settings are the PLUGINS_* settings (nil: config.LoadSettings()).
	Settings *config.Settings
	// SetKeys are the keys the local entry sets (nil: every non-default key).
	SetKeys []string
	// RetryDelay is the first pause between config attempts, doubled each time
	// (0: upstream's 1 s).
	RetryDelay time.Duration
}

// Plugin is one external plugin on a gRPC server.
type Plugin struct {
	name   string
	conn   *ggrpc.ClientConn
	client cpexpb.PluginServiceClient
	// Merged is the effective configuration; MergedMap the same as the mapping Python
	// validates.
	Merged    *config.PluginConfig
	MergedMap map[string]any
}

var (
	_ core.Shutdowner = (*Plugin)(nil)
	_ core.Blocking   = (*Plugin)(nil)
)

// Blocking: every call is a round trip to another process.
func (p *Plugin) Blocking() bool { return true }

func init() {
	core.RegisterExternal("grpc", func(ctx context.Context, pc *config.PluginConfig) (core.Plugin, *config.PluginConfig, error) {
		p, err := Connect(ctx, pc, Options{})
		if err != nil {
			return nil, nil, err
		}
		return p, p.Merged, nil
	})
}

// Connect dials the plugin's server, fetches its config and merges it under pc.
// Errors are *core.PluginError naming the plugin and the cause.
func Connect(ctx context.Context, pc *config.PluginConfig, o Options) (*Plugin, error) {
	if pc.GRPC == nil {
		return nil, remote.Err(pc.Name, CodeConfig, "The grpc section must be defined for gRPC external plugin", nil)
	}
	if o.Settings == nil {
		s, err := config.LoadSettings()
		if err != nil {
			return nil, remote.Err(pc.Name, CodeConfig, fmt.Sprintf("external plugin %s: settings: %v", pc.Name, err), err)
		}
		o.Settings = &s
	}
	if o.RetryDelay <= 0 {
		o.RetryDelay = time.Second
	}
	creds, err := clientCredentials(pc, o.Settings)
	if err != nil {
		return nil, remote.Err(pc.Name, CodeConfig, err.Error(), err)
	}
	target := pc.GRPC.GetTarget()
	// Reconnect quickly after a server restart (gRPC's default first back-off is 1 s).
	params := ggrpc.ConnectParams{Backoff: backoff.Config{BaseDelay: 100 * time.Millisecond, Multiplier: 1.6, Jitter: 0.2, MaxDelay: 2 * time.Second},
		MinConnectTimeout: 5 * time.Second}
	conn, err := ggrpc.NewClient(target, ggrpc.WithTransportCredentials(creds), ggrpc.WithConnectParams(params))
	if err != nil {
		return nil, remote.Err(pc.Name, CodeConfig, fmt.Sprintf("external plugin %s: gRPC target %q: %v", pc.Name, target, err), err)
	}
	p := &Plugin{name: pc.Name, conn: conn, client: cpexpb.NewPluginServiceClient(conn)}
	remoteConf, err := p.remoteConfig(ctx, o.RetryDelay)
	if err == nil {
		p.MergedMap, p.Merged, err = remote.Merge(pc, o.SetKeys, remoteConf)
	}
	if err != nil {
		_ = conn.Close()
		var pe *core.PluginError
		if errors.As(err, &pe) {
			return nil, pe
		}
		return nil, remote.Err(pc.Name, CodeConfig, err.Error(), err)
	}
	return p, nil
}

// clientCredentials: the entry's tls, else PLUGINS_GRPC_CLIENT_MTLS_*, else plaintext;
// a Unix socket is always plaintext (upstream ignores TLS there too).
func clientCredentials(pc *config.PluginConfig, s *config.Settings) (credentials.TransportCredentials, error) {
	t := pc.GRPC.TLS
	if t == nil {
		t = tlsFromSettings(s)
	}
	if t == nil || pc.GRPC.UDS != nil {
		return insecure.NewCredentials(), nil
	}
	tc, err := remote.ClientTLS(&config.MCPClientTLSConfig{TLSFiles: t.TLSFiles, Verify: t.Verify, CheckHostname: true}, pc.Name)
	if err != nil {
		return nil, err
	}
	return credentials.NewTLS(tc), nil
}

// tlsFromSettings is upstream GRPCClientTLSConfig.from_env.
func tlsFromSettings(s *config.Settings) *config.GRPCClientTLSConfig {
	t := &config.GRPCClientTLSConfig{Verify: true}
	set := false
	str := func(dst **string, v *string) {
		if v != nil && *v != "" {
			*dst, set = v, true
		}
	}
	str(&t.Certfile, s.GRPCClientMTLSCertfile)
	str(&t.Keyfile, s.GRPCClientMTLSKeyfile)
	str(&t.CABundle, s.GRPCClientMTLSCABundle)
	if s.GRPCClientMTLSKeyfilePassword != nil {
		pw := s.GRPCClientMTLSKeyfilePassword.Reveal()
		t.KeyfilePassword, set = &pw, true
	}
	if s.GRPCClientMTLSVerify != nil {
		t.Verify, set = *s.GRPCClientMTLSVerify, true
	}
	if !set {
		return nil
	}
	return t
}

// remoteConfig asks for the config up to ConfigAttempts times, pausing delay, 2*delay,
// ... between attempts (a server still starting). found=false is not retried.
func (p *Plugin) remoteConfig(ctx context.Context, delay time.Duration) (map[string]any, error) {
	var last error
	for i := range ConfigAttempts {
		resp, err := p.client.GetPluginConfig(ctx, &cpexpb.GetPluginConfigRequest{Name: p.name})
		if err == nil {
			if !resp.GetFound() || len(resp.GetConfig().GetFields()) == 0 {
				return nil, remote.Err(p.name, CodeConfig, "Unable to retrieve configuration for external plugin", nil)
			}
			return remote.FromStruct(resp.GetConfig()), nil
		}
		last = err
		if i == ConfigAttempts-1 || ctx.Err() != nil {
			break
		}
		select {
		case <-time.After(delay << i):
		case <-ctx.Done():
		}
	}
	return nil, remote.Err(p.name, CodeTransport,
		fmt.Sprintf("gRPC plugin '%s' connection failed after %d attempts: %s", p.name, ConfigAttempts, statusText(last)), last)
}

// Invoke makes one InvokeHook call. A call that found the server unavailable (it is
// restarting, the connection dropped) is retried once: the channel reconnects itself.
func (p *Plugin) Invoke(ctx context.Context, hook string, payload *core.Payload, pctx *core.PluginContext) (*core.Result, error) {
	req, err := remote.InvokeRequest(hook, p.name, payload, pctx)
	if err != nil {
		return nil, remote.Err(p.name, remote.CodeEncode, fmt.Sprintf("external plugin %s: encoding the call: %v", p.name, err), err)
	}
	resp, err := p.client.InvokeHook(ctx, req)
	if status.Code(err) == codes.Unavailable && ctx.Err() == nil {
		// Wait for the channel to reconnect, but only for a bounded window: a dead
		// server must fail the call, not hold it until the manager's timeout.
		rctx, cancel := context.WithTimeout(ctx, ReconnectWindow)
		first := err
		resp, err = p.client.InvokeHook(rctx, req, ggrpc.WaitForReady(true))
		cancel()
		if err != nil && rctx.Err() != nil && ctx.Err() == nil {
			err = first // the server stayed away: report why the first call failed
		}
	}
	if err != nil {
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		return nil, remote.Err(p.name, CodeTransport, fmt.Sprintf("external plugin %s: InvokeHook %s: %s", p.name, hook, statusText(err)), err)
	}
	return remote.ApplyResponse(p.name, resp, pctx)
}

// Shutdown closes the channel.
func (p *Plugin) Shutdown(context.Context) error {
	if err := p.conn.Close(); err != nil && status.Code(err) != codes.Canceled {
		return fmt.Errorf("external plugin %s: closing the gRPC channel: %w", p.name, err)
	}
	return nil
}

func statusText(err error) string {
	if st, ok := status.FromError(err); ok {
		return fmt.Sprintf("%s: %s", st.Code(), st.Message())
	}
	return err.Error()
}
