package grpc

import (
	"context"
	"errors"
	"net"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	ggrpc "google.golang.org/grpc"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/credentials/insecure"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"

	"github.com/cpex-go/cpex/core"
	"github.com/cpex-go/cpex/core/config"
	"github.com/cpex-go/cpex/core/external/remote/remotetest"
	"github.com/cpex-go/cpex/proto/cpexpb"
)

// serve starts a Go server of the test plugins on ep and returns its address.
func serve(t *testing.T, ep Endpoint, creds credentials.TransportCredentials) string {
	t.Helper()
	l, err := Listen(ep)
	require.NoError(t, err)
	s := NewServer(remotetest.Manager(t), creds)
	go s.Serve(l) //nolint:errcheck // ends with Stop
	t.Cleanup(s.Stop)
	return l.Addr().String()
}

func entry(t *testing.T, name, section string) *config.PluginConfig {
	t.Helper()
	cfg, err := config.Parse([]byte("plugins:\n  - name: "+name+"\n    kind: external\n    grpc: "+section+"\n"), "test.yaml", config.WithSSRFProtection(false))
	require.NoError(t, err)
	return &cfg.Plugins[0]
}

func noSettings() *config.Settings { return &config.Settings{} }

func connect(t *testing.T, pc *config.PluginConfig, o Options) (*Plugin, error) {
	t.Helper()
	if o.Settings == nil {
		o.Settings = noSettings()
	}
	if o.RetryDelay == 0 {
		o.RetryDelay = time.Millisecond
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	p, err := Connect(ctx, pc, o)
	if err == nil {
		t.Cleanup(func() { _ = p.Shutdown(context.Background()) })
	}
	return p, err
}

func TestClientContractTCP(t *testing.T) {
	addr := serve(t, Endpoint{Network: "tcp", Address: "127.0.0.1:0"}, nil)
	remotetest.Contract(t, func(t *testing.T, name string) core.Plugin {
		p, err := connect(t, entry(t, name, "{target: '"+addr+"'}"), Options{})
		require.NoError(t, err)
		return p
	})
}

func TestClientContractUDS(t *testing.T) {
	sock := filepath.Join(t.TempDir(), "g.sock")
	serve(t, Endpoint{Network: "unix", Address: sock}, nil)
	remotetest.Contract(t, func(t *testing.T, name string) core.Plugin {
		p, err := connect(t, entry(t, name, "{uds: '"+sock+"'}"), Options{})
		require.NoError(t, err)
		return p
	})
}

func TestConnectMergesTheRemoteConfig(t *testing.T) {
	addr := serve(t, Endpoint{Network: "tcp", Address: "127.0.0.1:0"}, nil)
	p, err := connect(t, entry(t, "allow", "{target: '"+addr+"'}"), Options{})
	require.NoError(t, err)
	assert.Equal(t, []string{"tool_pre_invoke"}, p.Merged.Hooks, "hooks come from the server")
	assert.Equal(t, 10, p.Merged.Priority)
	assert.Equal(t, "external", p.Merged.Kind, "the local kind wins")
	assert.NotNil(t, p.Merged.GRPC)
}

func TestConnectFaults(t *testing.T) {
	dead := func() string { // a port nobody listens on
		l, err := net.Listen("tcp", "127.0.0.1:0")
		require.NoError(t, err)
		addr := l.Addr().String()
		require.NoError(t, l.Close())
		return addr
	}()
	garbage := listenRaw(t, func(c net.Conn) { _, _ = c.Write([]byte("HTTP/1.1 400 garbage\r\n\r\nnot a gRPC server")) })
	served := serve(t, Endpoint{Network: "tcp", Address: "127.0.0.1:0"}, nil)
	cases := []struct {
		name, target, plugin, code, want string
	}{
		{"dead server: 3 attempts then a clear error", dead, "x", CodeTransport, "connection failed after 3 attempts"},
		{"garbage-answering peer", garbage, "x", CodeTransport, "connection failed after 3 attempts"},
		{"unknown plugin", served, "nope", CodeConfig, "Unable to retrieve configuration"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := connect(t, entry(t, c.plugin, "{target: '"+c.target+"'}"), Options{})
			var pe *core.PluginError
			require.True(t, errors.As(err, &pe), "%v", err)
			assert.Equal(t, c.plugin, pe.PluginName)
			assert.Equal(t, c.code, pe.Code)
			assert.Contains(t, pe.Message, c.want)
		})
	}
}

// listenRaw accepts TCP connections and hands each to f, then closes it.
func listenRaw(t *testing.T, f func(net.Conn)) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	t.Cleanup(func() { _ = l.Close() })
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			go func() { f(c); _ = c.Close() }()
		}
	}()
	return l.Addr().String()
}

func TestInvokeFaults(t *testing.T) {
	addr := serve(t, Endpoint{Network: "tcp", Address: "127.0.0.1:0"}, nil)
	t.Run("a silent plugin holds until the caller's deadline, then the call ends", func(t *testing.T) {
		p, err := connect(t, entry(t, "slow", "{target: '"+addr+"'}"), Options{})
		require.NoError(t, err)
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan error, 1)
		go func() {
			_, err := p.Invoke(ctx, "tool_pre_invoke", core.NewPayloadJSON([]byte(`{}`)), nil)
			done <- err
		}()
		cancel()
		assert.ErrorIs(t, <-done, context.Canceled)
	})
	t.Run("an oversized message is refused by gRPC's 4 MiB limit, named", func(t *testing.T) {
		p, err := connect(t, entry(t, "echo", "{target: '"+addr+"'}"), Options{})
		require.NoError(t, err)
		big := `{"name":"t","args":{"q":"` + strings.Repeat("x", 5<<20) + `"}}`
		_, err = p.Invoke(context.Background(), "tool_pre_invoke", core.NewPayloadJSON([]byte(big)), nil)
		var pe *core.PluginError
		require.True(t, errors.As(err, &pe), "%v", err)
		assert.Equal(t, "echo", pe.PluginName)
		assert.Equal(t, CodeTransport, pe.Code)
		assert.Contains(t, pe.Message, "ResourceExhausted")
	})
	t.Run("a server that went away: a clear error, no hang", func(t *testing.T) {
		l, err := Listen(Endpoint{Network: "tcp", Address: "127.0.0.1:0"})
		require.NoError(t, err)
		s := NewServer(remotetest.Manager(t), nil)
		go s.Serve(l) //nolint:errcheck // ends with Stop
		p, err := connect(t, entry(t, "allow", "{target: '"+l.Addr().String()+"'}"), Options{})
		require.NoError(t, err)
		s.Stop()
		_, err = p.Invoke(context.Background(), "tool_pre_invoke", core.NewPayloadJSON([]byte(`{}`)), nil)
		var pe *core.PluginError
		require.True(t, errors.As(err, &pe), "%v", err)
		assert.Equal(t, "allow", pe.PluginName)
		assert.Equal(t, CodeTransport, pe.Code)
		assert.Contains(t, pe.Message, "Unavailable")
	})
	t.Run("a restarted server is reached again", func(t *testing.T) {
		l, err := Listen(Endpoint{Network: "tcp", Address: "127.0.0.1:0"})
		require.NoError(t, err)
		addr := l.Addr().String()
		s := NewServer(remotetest.Manager(t), nil)
		go s.Serve(l) //nolint:errcheck // ends with Stop
		p, err := connect(t, entry(t, "allow", "{target: '"+addr+"'}"), Options{})
		require.NoError(t, err)
		_, err = p.Invoke(context.Background(), "tool_pre_invoke", core.NewPayloadJSON([]byte(`{}`)), nil)
		require.NoError(t, err)
		s.Stop()
		l2, err := Listen(Endpoint{Network: "tcp", Address: addr})
		require.NoError(t, err)
		s2 := NewServer(remotetest.Manager(t), nil)
		go s2.Serve(l2) //nolint:errcheck // ends with Stop
		t.Cleanup(s2.Stop)
		_, err = p.Invoke(context.Background(), "tool_pre_invoke", core.NewPayloadJSON([]byte(`{}`)), nil)
		require.NoError(t, err)
	})
}

func TestHealthServices(t *testing.T) {
	addr := serve(t, Endpoint{Network: "tcp", Address: "127.0.0.1:0"}, nil)
	conn, err := ggrpc.NewClient(addr, ggrpc.WithTransportCredentials(insecure.NewCredentials()))
	require.NoError(t, err)
	defer conn.Close()
	ctx := context.Background()
	own, err := cpexpb.NewHealthClient(conn).Check(ctx, &cpexpb.HealthCheckRequest{})
	require.NoError(t, err)
	assert.Equal(t, cpexpb.HealthCheckResponse_SERVING, own.GetStatus())
	std, err := healthpb.NewHealthClient(conn).Check(ctx, &healthpb.HealthCheckRequest{})
	require.NoError(t, err)
	assert.Equal(t, healthpb.HealthCheckResponse_SERVING, std.GetStatus())
	all, err := cpexpb.NewPluginServiceClient(conn).GetPluginConfigs(ctx, &cpexpb.GetPluginConfigsRequest{})
	require.NoError(t, err)
	assert.Len(t, all.GetConfigs(), 7)
}
