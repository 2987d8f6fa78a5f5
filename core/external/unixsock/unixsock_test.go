package unixsock

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"io"
	"net"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"google.golang.org/protobuf/proto"

	"github.com/cpex-go/cpex/core"
	"github.com/cpex-go/cpex/core/config"
	"github.com/cpex-go/cpex/core/external/remote"
	"github.com/cpex-go/cpex/core/external/remote/remotetest"
	"github.com/cpex-go/cpex/proto/cpexpb"
)

func sockPath(t *testing.T) string { return filepath.Join(t.TempDir(), "p.sock") }

// serveAt starts a Go server of the test plugins at path.
func serveAt(t *testing.T, path string) *Server {
	t.Helper()
	l, err := Listen(path)
	require.NoError(t, err)
	s := NewServer(remotetest.Manager(t), nil)
	go s.Serve(l) //nolint:errcheck // ends with Stop
	t.Cleanup(s.Stop)
	return s
}

func entry(t *testing.T, name, path, extra string) *config.PluginConfig {
	t.Helper()
	cfg, err := config.Parse([]byte("plugins:\n  - name: "+name+"\n    kind: external\n    hooks: [tool_pre_invoke]\n    unix_socket: {path: '"+path+"', reconnect_delay: 0.01"+extra+"}\n"), "test.yaml")
	require.NoError(t, err)
	return &cfg.Plugins[0]
}

func connect(t *testing.T, pc *config.PluginConfig) (*Plugin, error) {
	t.Helper()
	p, err := Connect(context.Background(), pc)
	if err == nil {
		t.Cleanup(func() { _ = p.Shutdown(context.Background()) })
	}
	return p, err
}

func call(p *Plugin) error {
	_, err := p.Invoke(context.Background(), "tool_pre_invoke", core.NewPayloadJSON([]byte(`{"name":"x"}`)), &core.PluginContext{})
	return err
}

func TestClientContract(t *testing.T) {
	path := sockPath(t)
	serveAt(t, path)
	remotetest.Contract(t, func(t *testing.T, name string) core.Plugin {
		p, err := connect(t, entry(t, name, path, ""))
		require.NoError(t, err)
		return p
	})
}

func TestConcurrentCallsUseThePool(t *testing.T) {
	path := sockPath(t)
	serveAt(t, path)
	p, err := connect(t, entry(t, "ctx", path, ""))
	require.NoError(t, err)
	var wg sync.WaitGroup
	errs := make(chan error, 64)
	for range 64 {
		wg.Go(func() {
			pctx := &core.PluginContext{State: map[string]any{"calls": 1}}
			if _, err := p.Invoke(context.Background(), "tool_pre_invoke", core.NewPayloadJSON([]byte(`{}`)), pctx); err != nil {
				errs <- err
				return
			}
			if pctx.State["calls"] != json.Number("2") {
				errs <- errors.New("a call got another call's answer")
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	assert.Greater(t, len(p.idle), 1, "concurrent calls opened connections of their own")
}

func TestUnknownMessage(t *testing.T) {
	s := NewServer(remotetest.Manager(t), nil)
	// A GetPluginConfigRequest without a name, longer than 2 bytes: nothing upstream places.
	resp := s.Handle(context.Background(), []byte{0x12, 0x03, 'a', 'b', 'c'})
	ih, ok := resp.(*cpexpb.InvokeHookResponse)
	require.True(t, ok)
	assert.Equal(t, remote.CodeUnknownMessage, ih.GetError().GetCode())
	assert.Equal(t, "Unknown message type", ih.GetError().GetMessage())
	// An empty message is GetPluginConfigs.
	all, ok := s.Handle(context.Background(), nil).(*cpexpb.GetPluginConfigsResponse)
	require.True(t, ok)
	assert.Len(t, all.GetConfigs(), 7)
}

// fakeServer answers every frame on path with reply(request).
func fakeServer(t *testing.T, path string, reply func(c net.Conn, req []byte)) {
	t.Helper()
	l, err := Listen(path)
	require.NoError(t, err)
	t.Cleanup(func() { _ = l.Close() })
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				for {
					req, err := ReadFrame(c)
					if err != nil {
						return
					}
					reply(c, req)
				}
			}()
		}
	}()
}

// okConfig answers the config check so Connect succeeds, then does f for hook calls.
func okConfig(f func(c net.Conn)) func(net.Conn, []byte) {
	return func(c net.Conn, req []byte) {
		if kind, _ := Classify(req); kind == KindGetPluginConfig {
			b, _ := proto.Marshal(&cpexpb.GetPluginConfigResponse{Found: true})
			_ = WriteFrame(c, b)
			return
		}
		f(c)
	}
}

func TestFaults(t *testing.T) {
	cases := []struct {
		name  string
		reply func(net.Conn)
		extra string
		code  string
		want  string
	}{
		{"silent: the read timeout holds", func(net.Conn) {}, ", timeout: 0.2", CodeTimeout, "timed out after 0.2s"},
		{"garbage answer", func(c net.Conn) { _ = WriteFrame(c, []byte{0xff, 0xff, 0xff}) }, "", remote.CodeInvalidResponse, "not a InvokeHookResponse"},
		{"an answer with neither result nor error", func(c net.Conn) { _ = WriteFrame(c, nil) }, "", remote.CodeInvalidResponse, "no result or error"},
		{"oversized answer", func(c net.Conn) {
			_, _ = c.Write(binary.BigEndian.AppendUint32(nil, MaxMessageSize+1))
		}, "", CodeTransport, "16 MiB"},
		{"a peer that hangs up every time", func(c net.Conn) { _ = c.Close() }, ", reconnect_attempts: 2", CodeTransport, "Request failed after 3 attempts"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			path := sockPath(t)
			fakeServer(t, path, okConfig(c.reply))
			p, err := connect(t, entry(t, "x", path, c.extra))
			require.NoError(t, err)
			err = call(p)
			var pe *core.PluginError
			require.True(t, errors.As(err, &pe), "%v", err)
			assert.Equal(t, "x", pe.PluginName)
			assert.Equal(t, c.code, pe.Code)
			assert.Contains(t, pe.Message, c.want)
		})
	}
	t.Run("dead: nothing listens", func(t *testing.T) {
		_, err := connect(t, entry(t, "x", sockPath(t), ""))
		var pe *core.PluginError
		require.True(t, errors.As(err, &pe), "%v", err)
		assert.Equal(t, "x", pe.PluginName)
		assert.Contains(t, pe.Message, "Failed to connect to")
	})
	t.Run("the caller's cancellation ends a silent call", func(t *testing.T) {
		path := sockPath(t)
		fakeServer(t, path, okConfig(func(net.Conn) {}))
		p, err := connect(t, entry(t, "x", path, ""))
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
}

func TestOversizedRequests(t *testing.T) {
	path := sockPath(t)
	serveAt(t, path)
	t.Run("the client refuses to send more than 16 MiB", func(t *testing.T) {
		p, err := connect(t, entry(t, "echo", path, ""))
		require.NoError(t, err)
		big := `{"name":"t","args":{"q":"` + strings.Repeat("x", MaxMessageSize) + `"}}`
		_, err = p.Invoke(context.Background(), "tool_pre_invoke", core.NewPayloadJSON([]byte(big)), nil)
		var pe *core.PluginError
		require.True(t, errors.As(err, &pe), "%v", err)
		assert.Equal(t, "echo", pe.PluginName)
		assert.Contains(t, pe.Message, "exceeds the 16 MiB maximum")
	})
	t.Run("the server hangs up on a peer announcing more", func(t *testing.T) {
		c, err := net.Dial("unix", path)
		require.NoError(t, err)
		defer c.Close()
		_, err = c.Write(binary.BigEndian.AppendUint32(nil, MaxMessageSize+1))
		require.NoError(t, err)
		_, err = ReadFrame(c)
		assert.ErrorIs(t, err, io.EOF)
	})
}

func TestRestartingServer(t *testing.T) {
	path := sockPath(t)
	s := serveAt(t, path)
	p, err := connect(t, entry(t, "allow", path, ""))
	require.NoError(t, err)
	require.NoError(t, call(p))
	s.Stop()
	serveAt(t, path)
	require.NoError(t, call(p), "the dropped pooled connection is replaced")
}

func TestShutdownRefusesLaterCalls(t *testing.T) {
	path := sockPath(t)
	serveAt(t, path)
	p, err := connect(t, entry(t, "allow", path, ""))
	require.NoError(t, err)
	require.NoError(t, p.Shutdown(context.Background()))
	err = call(p)
	var pe *core.PluginError
	require.True(t, errors.As(err, &pe), "%v", err)
	assert.Contains(t, pe.Message, "shut down")
}

func TestStalePooledConnectionsDoNotCostAnAttempt(t *testing.T) {
	path := sockPath(t)
	s := serveAt(t, path)
	p, err := connect(t, entry(t, "allow", path, ", reconnect_attempts: 0"))
	require.NoError(t, err)
	require.NoError(t, call(p))
	s.Stop() // closes the pooled connection
	serveAt(t, path)
	require.NoError(t, call(p), "with no reconnect attempts, the stale pooled connection is still replaced")
}

// blockingHost holds every InvokeHook until its context ends, and reports that end.
type blockingHost struct {
	remote.Host
	started chan struct{}
	ended   chan error
}

func (h *blockingHost) Invoke(ctx context.Context, _ *cpexpb.InvokeHookRequest) *cpexpb.InvokeHookResponse {
	h.started <- struct{}{}
	<-ctx.Done()
	h.ended <- ctx.Err()
	return &cpexpb.InvokeHookResponse{Error: &cpexpb.PluginError{Message: "gone"}}
}

func TestClientHangupEndsTheCall(t *testing.T) {
	path := sockPath(t)
	l, err := Listen(path)
	require.NoError(t, err)
	h := &blockingHost{started: make(chan struct{}, 1), ended: make(chan error, 1)}
	s := NewHostServer(h, nil)
	go s.Serve(l) //nolint:errcheck // ends with Stop
	t.Cleanup(s.Stop)

	c, err := net.Dial("unix", path)
	require.NoError(t, err)
	req, err := proto.Marshal(&cpexpb.InvokeHookRequest{HookType: "tool_pre_invoke", PluginName: "p"})
	require.NoError(t, err)
	require.NoError(t, WriteFrame(c, req))
	<-h.started
	require.NoError(t, c.Close())
	// The host sees its call's context cancelled by the hang-up (not by Stop, which
	// has not run): without the watcher this receive would wait forever.
	assert.ErrorIs(t, <-h.ended, context.Canceled)
}

func TestPipelinedRequestSurvivesTheWatcher(t *testing.T) {
	// A client that sends its second request before the first answer: the watcher's
	// peek must leave it for the next read, and both are answered in order.
	path := sockPath(t)
	serveAt(t, path)
	c, err := net.Dial("unix", path)
	require.NoError(t, err)
	defer c.Close()
	first, err := proto.Marshal(&cpexpb.GetPluginConfigsRequest{})
	require.NoError(t, err)
	second, err := proto.Marshal(&cpexpb.GetPluginConfigRequest{Name: "passthrough"})
	require.NoError(t, err)
	require.NoError(t, WriteFrame(c, first))
	require.NoError(t, WriteFrame(c, second))
	for range 2 {
		_, err := ReadFrame(c)
		require.NoError(t, err)
	}
}
