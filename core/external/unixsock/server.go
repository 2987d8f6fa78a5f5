package unixsock

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"sync"
	"time"

	"google.golang.org/protobuf/proto"

	"github.com/cpex-go/cpex/core"
	"github.com/cpex-go/cpex/core/external/remote"
	"github.com/cpex-go/cpex/proto/cpexpb"
)

// IdleTimeout is how long the server waits for the next request on a connection
// (upstream's 5 minutes) before closing it; clients reconnect transparently.
const IdleTimeout = 5 * time.Minute

// Server answers Unix-socket requests from the plugins of a remote.Host.
type Server struct {
	host remote.Host
	log  *slog.Logger

	mu     sync.Mutex
	l      net.Listener
	conns  map[net.Conn]struct{}
	wg     sync.WaitGroup
	ctx    context.Context
	cancel context.CancelFunc
}

// NewServer makes the server of m's plugins; log nil is slog.Default().
func NewServer(m *core.Manager, log *slog.Logger) *Server {
	return NewHostServer(&remote.ManagerHost{M: m}, log)
}

// NewHostServer makes the server of h's plugins (e.g. a remote.QueueHost whose calls a
// Python runtime runs); log nil is slog.Default().
func NewHostServer(h remote.Host, log *slog.Logger) *Server {
	if log == nil {
		log = slog.Default()
	}
	ctx, cancel := context.WithCancel(context.Background())
	return &Server{host: h, log: log, conns: map[net.Conn]struct{}{}, ctx: ctx, cancel: cancel}
}

// Listen opens the socket at path (an old one is removed) with mode 0600.
func Listen(path string) (net.Listener, error) {
	if err := os.Remove(path); err != nil && !errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("unix socket server: removing the old socket %s: %w", path, err)
	}
	l, err := net.Listen("unix", path)
	if err != nil {
		return nil, fmt.Errorf("unix socket server: %w", err)
	}
	if err := os.Chmod(path, 0o600); err != nil {
		_ = l.Close()
		return nil, fmt.Errorf("unix socket server: %w", err)
	}
	return l, nil
}

// Serve accepts connections on l until Stop; each connection is served in order
// (one request, one answer), connections concurrently.
func (s *Server) Serve(l net.Listener) error {
	s.mu.Lock()
	s.l = l
	s.mu.Unlock()
	for {
		c, err := l.Accept()
		if err != nil {
			if s.ctx.Err() != nil {
				return nil
			}
			return err
		}
		s.mu.Lock()
		s.conns[c] = struct{}{}
		s.mu.Unlock()
		s.wg.Add(1)
		go s.serveConn(c)
	}
}

func (s *Server) serveConn(c net.Conn) {
	defer s.wg.Done()
	defer func() {
		s.mu.Lock()
		delete(s.conns, c)
		s.mu.Unlock()
		_ = c.Close()
	}()
	br := bufio.NewReader(c)
	for {
		_ = c.SetReadDeadline(time.Now().Add(IdleTimeout))
		data, err := ReadFrame(br)
		if err != nil {
			if !errors.Is(err, io.EOF) && s.ctx.Err() == nil {
				s.log.Debug("unix socket server: closing a connection", "error", err)
			}
			return
		}
		_ = c.SetReadDeadline(time.Time{})
		out, err := proto.Marshal(s.handleWatched(c, br, data))
		if err == nil {
			err = WriteFrame(c, out)
		}
		if err != nil {
			s.log.Debug("unix socket server: answering", "error", err)
			return
		}
	}
}

// handleWatched answers one request while it watches the connection: a client that
// hangs up before its answer ends the request's context, so its call leaves the queue
// (or its Go plugin is cancelled) at once instead of running for nobody until the
// plugin answers or times out, as gRPC does for a cancelled stream. The watcher only
// peeks: a client that already sent its next request keeps it in br for ReadFrame.
func (s *Server) handleWatched(c net.Conn, br *bufio.Reader, data []byte) proto.Message {
	ctx, cancel := context.WithCancel(s.ctx)
	defer cancel()
	watching := make(chan struct{})
	go func() {
		defer close(watching)
		if _, err := br.Peek(1); err != nil && !errors.Is(err, os.ErrDeadlineExceeded) {
			cancel() // EOF or a broken connection: nobody waits for this answer
		}
	}()
	msg := s.Handle(ctx, data)
	_ = c.SetReadDeadline(time.Now()) // wakes the watcher's Peek
	<-watching
	return msg
}

// Handle answers one request (see Classify).
func (s *Server) Handle(ctx context.Context, data []byte) proto.Message {
	kind, req := Classify(data)
	switch kind {
	case KindInvokeHook:
		return s.host.Invoke(ctx, req.(*cpexpb.InvokeHookRequest))
	case KindGetPluginConfig:
		resp, err := s.host.PluginConfig(req.(*cpexpb.GetPluginConfigRequest).GetName())
		if err != nil {
			s.log.Error("unix socket server: GetPluginConfig", "error", err)
			return &cpexpb.GetPluginConfigResponse{}
		}
		return resp
	case KindGetPluginConfigs:
		resp, err := s.host.PluginConfigs()
		if err != nil {
			s.log.Error("unix socket server: GetPluginConfigs", "error", err)
			return &cpexpb.GetPluginConfigsResponse{}
		}
		return resp
	}
	s.log.Warn("unix socket server: unknown message type", "length", len(data))
	return &cpexpb.InvokeHookResponse{Error: &cpexpb.PluginError{Message: "Unknown message type", Code: remote.CodeUnknownMessage}}
}

// Stop closes the listener and every connection, then waits for their goroutines
// (running hook calls are cancelled).
func (s *Server) Stop() {
	s.cancel()
	s.mu.Lock()
	if s.l != nil {
		_ = s.l.Close()
	}
	for c := range s.conns {
		_ = c.Close()
	}
	s.mu.Unlock()
	s.wg.Wait()
}
