package unixsock

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"sync"
	"syscall"
	"time"

	"google.golang.org/protobuf/proto"

	"github.com/cpex-go/cpex/core"
	"github.com/cpex-go/cpex/core/config"
	"github.com/cpex-go/cpex/core/external/remote"
	"github.com/cpex-go/cpex/proto/cpexpb"
)

// Error codes of the errors this client makes itself (a remote error keeps its own).
const (
	CodeTransport = "UNIX_SOCKET_TRANSPORT_ERROR"
	CodeTimeout   = "UNIX_SOCKET_TIMEOUT"
	CodeConfig    = "UNIX_SOCKET_CONFIG_ERROR"
)

// maxIdle bounds the idle connections a plugin keeps; more concurrent calls open
// more connections, closed again when they come back to a full pool.
const maxIdle = 64

// Plugin is one external plugin on a Unix-socket server.
type Plugin struct {
	name     string
	path     string
	timeout  time.Duration
	attempts int
	delay    time.Duration

	mu     sync.Mutex // guards idle and closed; never held during I/O
	idle   []net.Conn
	closed bool
}

var (
	_ core.Shutdowner = (*Plugin)(nil)
	_ core.Blocking   = (*Plugin)(nil)
)

// Blocking: every call is a round trip to another process.
func (p *Plugin) Blocking() bool { return true }

func init() {
	core.RegisterExternal("unix_socket", func(ctx context.Context, pc *config.PluginConfig) (core.Plugin, *config.PluginConfig, error) {
		p, err := Connect(ctx, pc)
		if err != nil {
			return nil, nil, err
		}
		return p, pc, nil
	})
}

// Connect opens a first connection and asks whether the server knows the plugin. As
// upstream, an unknown plugin or an unanswered question is only logged by the caller:
// the local entry is the configuration; an unreachable socket fails.
func Connect(ctx context.Context, pc *config.PluginConfig) (*Plugin, error) {
	u := pc.UnixSocket
	if u == nil {
		return nil, remote.Err(pc.Name, CodeConfig, "The unix_socket section must be defined for Unix socket plugin", nil)
	}
	p := &Plugin{name: pc.Name, path: u.Path, timeout: seconds(u.Timeout), attempts: u.ReconnectAttempts, delay: seconds(u.ReconnectDelay)}
	c, err := p.dial(ctx)
	if err != nil {
		return nil, remote.Err(p.name, CodeTransport, fmt.Sprintf("external plugin %s: Failed to connect to %s: %v", p.name, p.path, err), err)
	}
	p.put(c)
	if found, err := p.Found(ctx); err != nil {
		slog.Warn("external plugin: could not verify the remote plugin config", "plugin", p.name, "error", err)
	} else if !found {
		slog.Warn("external plugin: not found on the remote server", "plugin", p.name, "socket", p.path)
	}
	return p, nil
}

// Found asks the server for the plugin's config: whether it knows the plugin.
func (p *Plugin) Found(ctx context.Context) (bool, error) {
	var resp cpexpb.GetPluginConfigResponse
	if err := p.roundTrip(ctx, &cpexpb.GetPluginConfigRequest{Name: p.name}, &resp); err != nil {
		return false, err
	}
	return resp.GetFound(), nil
}

func seconds(s float64) time.Duration { return time.Duration(s * float64(time.Second)) }

func (p *Plugin) dial(ctx context.Context) (net.Conn, error) {
	var d net.Dialer
	return d.DialContext(ctx, "unix", p.path)
}

// get takes an idle connection (pooled true) or opens one.
func (p *Plugin) get(ctx context.Context) (c net.Conn, pooled bool, err error) {
	p.mu.Lock()
	if p.closed {
		p.mu.Unlock()
		return nil, false, remote.Err(p.name, CodeTransport, fmt.Sprintf("external plugin %s: shut down", p.name), nil)
	}
	if n := len(p.idle); n > 0 {
		c := p.idle[n-1]
		p.idle = p.idle[:n-1]
		p.mu.Unlock()
		return c, true, nil
	}
	p.mu.Unlock()
	c, err = p.dial(ctx)
	return c, false, err
}

// dropIdle closes every idle connection: one of them broke, the server most likely
// restarted or closed idle connections, and the others are as stale.
func (p *Plugin) dropIdle() {
	p.mu.Lock()
	idle := p.idle
	p.idle = nil
	p.mu.Unlock()
	for _, c := range idle {
		_ = c.Close()
	}
}

func (p *Plugin) put(c net.Conn) {
	p.mu.Lock()
	if !p.closed && len(p.idle) < maxIdle {
		p.idle = append(p.idle, c)
		c = nil
	}
	p.mu.Unlock()
	if c != nil {
		_ = c.Close()
	}
}

// Invoke makes one InvokeHook round trip.
func (p *Plugin) Invoke(ctx context.Context, hook string, payload *core.Payload, pctx *core.PluginContext) (*core.Result, error) {
	req, err := remote.InvokeRequest(hook, p.name, payload, pctx)
	if err != nil {
		return nil, remote.Err(p.name, remote.CodeEncode, fmt.Sprintf("external plugin %s: encoding the call: %v", p.name, err), err)
	}
	var resp cpexpb.InvokeHookResponse
	if err := p.roundTrip(ctx, req, &resp); err != nil {
		return nil, err
	}
	return remote.ApplyResponse(p.name, &resp, pctx)
}

// roundTrip sends req and reads the answer into resp. A pooled connection found broken
// (the server restarted or closed it while idle) is replaced at once, with the rest of
// the pool, without counting as an attempt; a fresh connection that breaks is replaced
// up to attempts more times with linear back-off. A timeout, an
// oversized or unreadable answer is not retried: the request may have run.
func (p *Plugin) roundTrip(ctx context.Context, req, resp proto.Message) error {
	msg, err := proto.Marshal(req)
	if err != nil {
		return remote.Err(p.name, remote.CodeEncode, fmt.Sprintf("external plugin %s: encoding the request: %v", p.name, err), err)
	}
	if len(msg) > MaxMessageSize {
		return remote.Err(p.name, CodeTransport, fmt.Sprintf("external plugin %s: request of %d bytes exceeds the 16 MiB maximum", p.name, len(msg)), ErrTooLarge)
	}
	var last error
	stale := false // a pooled connection already failed this call
	for attempt := 0; attempt <= p.attempts; attempt++ {
		if attempt > 0 {
			select {
			case <-time.After(p.delay * time.Duration(attempt)):
			case <-ctx.Done():
				return ctx.Err()
			}
		}
		c, pooled, err := p.get(ctx)
		if err != nil {
			var pe *core.PluginError
			if errors.As(err, &pe) {
				return pe
			}
			last = err
			continue
		}
		data, err := p.exchange(ctx, c, msg)
		if err == nil {
			p.put(c)
			if err := proto.Unmarshal(data, resp); err != nil {
				return remote.Err(p.name, remote.CodeInvalidResponse, fmt.Sprintf("external plugin %s: the server's answer is not a %s: %v", p.name, resp.ProtoReflect().Descriptor().Name(), err), err)
			}
			return nil
		}
		_ = c.Close()
		switch {
		case ctx.Err() != nil:
			return ctx.Err()
		case isTimeout(err):
			return remote.Err(p.name, CodeTimeout, fmt.Sprintf("external plugin %s: Request timed out after %gs", p.name, p.timeout.Seconds()), err)
		case errors.Is(err, ErrTooLarge):
			return remote.Err(p.name, CodeTransport, fmt.Sprintf("external plugin %s: the server's answer: %v", p.name, err), err)
		case !retryable(err):
			return remote.Err(p.name, CodeTransport, fmt.Sprintf("external plugin %s: %v", p.name, err), err)
		case pooled && !stale:
			stale = true
			p.dropIdle()
			attempt-- // not the server's fault yet: try a fresh connection at once
			continue
		}
		last = err
	}
	return remote.Err(p.name, CodeTransport, fmt.Sprintf("external plugin %s: Request failed after %d attempts: %v", p.name, p.attempts+1, last), last)
}

// exchange writes one frame and reads one back within the timeout (and ctx).
func (p *Plugin) exchange(ctx context.Context, c net.Conn, msg []byte) ([]byte, error) {
	deadline := time.Now().Add(p.timeout)
	if d, ok := ctx.Deadline(); ok && d.Before(deadline) {
		deadline = d
	}
	if err := c.SetDeadline(deadline); err != nil {
		return nil, err
	}
	// A cancelled ctx unblocks the read at once.
	stop := context.AfterFunc(ctx, func() { _ = c.SetDeadline(time.Unix(1, 0)) })
	defer stop()
	if err := WriteFrame(c, msg); err != nil {
		return nil, err
	}
	return ReadFrame(c)
}

func isTimeout(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}

// retryable: the connection is gone, not the answer bad.
func retryable(err error) bool {
	return errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, syscall.EPIPE) ||
		errors.Is(err, syscall.ECONNRESET) || errors.Is(err, syscall.ECONNREFUSED) || errors.Is(err, syscall.ENOENT) ||
		errors.Is(err, net.ErrClosed) || errors.Is(err, os.ErrNotExist)
}

// Shutdown closes the idle connections; calls still running close theirs.
func (p *Plugin) Shutdown(context.Context) error {
	p.mu.Lock()
	idle := p.idle
	p.idle, p.closed = nil, true
	p.mu.Unlock()
	for _, c := range idle {
		_ = c.Close()
	}
	return nil
}
