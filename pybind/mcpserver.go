package pybind

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"sync"
	"syscall"
	"time"

	"github.com/cpex-go/cpex/core/config"
	"github.com/cpex-go/cpex/core/external/mcpserver"
	"github.com/cpex-go/cpex/core/metrics"
	"github.com/prometheus/client_golang/prometheus"
)

// The external plugin server runtimes for Python plugins (issues 14 and 15;
// docs/external-plugins.md): Go serves MCP (stdio or streamable HTTP),
// gRPC (TCP, TLS/mTLS or a Unix socket) or the Unix-socket protocol, and queues each hook
// call (callq.Queue; gRPC and Unix socket through remote.QueueHost); Python's event loop
// watches a pipe, takes the queued calls (MCPServerTake), runs them with
// invoke_hook_for_plugin and answers (MCPServerAnswer). One drain loop serves every
// transport. Go only writes a byte to the pipe: there are no Go→Python callbacks.

type pyServer struct {
	q      *mcpserver.Queue
	srv    *mcpserver.Server // MCP only (its metrics)
	cancel context.CancelFunc
	// shutdown stops the transport (a network one; nil for stdio) within ctx; calls
	// still waiting in the queue are answered with an error model by the Close after it.
	shutdown func(ctx context.Context)
	fdMu     sync.Mutex
	wfd      int // -1 once closed
	mu       sync.Mutex
	ended    bool   // the transport stopped serving (stdio closed, Stop)
	err      string // why, when it failed
	done     chan struct{}
}

var pyServers = struct {
	mu   sync.Mutex
	next int
	m    map[int]*pyServer
}{m: map[int]*pyServer{}}

type serverStartOpts struct {
	Transport       string            `json:"transport"`
	Configs         []json.RawMessage `json:"configs"`
	Host            string            `json:"host"`
	Port            int               `json:"port"`
	UDS             *string           `json:"uds"`
	Path            string            `json:"path"`
	TLS             *serverTLSOpts    `json:"tls"`
	MaxRequestBytes int               `json:"max_request_bytes"`
	LogLevel        string            `json:"log_level"`
}

type serverTLSOpts struct {
	Certfile        *string `json:"certfile"`
	Keyfile         *string `json:"keyfile"`
	CABundle        *string `json:"ca_bundle"`
	KeyfilePassword *string `json:"keyfile_password"`
	SSLCertReqs     *int    `json:"ssl_cert_reqs"`
	ClientAuth      *string `json:"client_auth"`
}

func str(p *string) string {
	if p == nil {
		return ""
	}
	return *p
}

// MCPServerStart starts serving the plugins whose configurations opts carries
// ({"transport": "stdio"|"http"|"grpc"|"unix", "configs": [...], "host", "port", "uds",
// "tls", "path", "max_request_bytes", "log_level"}) and wakes the caller through fd (the
// write end of a non-blocking pipe) whenever calls wait or the server ends. A network
// endpoint is bound before this returns. Answer {"id", "addr", "health_addr"}.
// "grpc": host and port, or uds (a Unix socket, no TLS); tls {certfile, keyfile,
// ca_bundle, keyfile_password, client_auth none|optional|require}. "unix": path.
func MCPServerStart(opts string, fd int) (_ string, err error) {
	defer guard("MCPServerStart", &err)
	o, err := serverOptsFrom(opts)
	if err != nil {
		return "", err
	}
	if fd < 0 {
		return "", fmt.Errorf("MCPServerStart: fd: want the write end of a pipe, got %d", fd)
	}
	wfd, err := syscall.Dup(fd)
	if err != nil {
		return "", fmt.Errorf("MCPServerStart: fd %d: %w", fd, err)
	}
	ps := &pyServer{wfd: wfd, done: make(chan struct{})}
	notify := func() {
		ps.fdMu.Lock() // never write after Stop closed wfd: the number may be reused
		defer ps.fdMu.Unlock()
		if ps.wfd < 0 {
			return
		}
		for {
			// EAGAIN: a byte already waits, the loop wakes anyway; EPIPE: nobody reads.
			if _, err := syscall.Write(wfd, []byte{1}); err != syscall.EINTR {
				return
			}
		}
	}
	q, err := mcpserver.NewQueue(o.Configs, notify)
	if err != nil { // checked by serverOptsFrom already
		_ = syscall.Close(wfd)
		return "", fmt.Errorf("MCPServerStart: %w", err)
	}
	logger := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: config.SlogLevel(o.LogLevel)}))
	ps.q = q
	if o.Transport == "stdio" || o.Transport == "http" {
		ps.srv = mcpserver.New(q, mcpserver.Options{MaxRequestBytes: o.MaxRequestBytes, Logger: logger,
			Collectors: []prometheus.Collector{metrics.NewCollector(processSeries{})}})
	}
	ctx, cancel := context.WithCancel(context.Background())
	ps.cancel = cancel
	answer := map[string]any{}
	var serveErr func() error // a network transport's accept loop
	switch o.Transport {
	case "http":
		cfg := mcpserver.HTTPConfig{Host: o.Host, Port: o.Port, UDS: str(o.UDS)}
		if t := o.TLS; t != nil {
			cfg.TLS = &mcpserver.TLSConfig{Certfile: str(t.Certfile), Keyfile: str(t.Keyfile), CAFile: str(t.CABundle),
				KeyfilePassword: t.KeyfilePassword, ClientCertReqs: 2}
			if t.SSLCertReqs != nil {
				cfg.TLS.ClientCertReqs = *t.SSLCertReqs
			}
		}
		h, err := ps.srv.Listen(cfg)
		if err != nil {
			cancel()
			_ = syscall.Close(wfd)
			return "", fmt.Errorf("MCPServerStart: %w", err)
		}
		ps.shutdown = func(ctx context.Context) { _ = h.Shutdown(ctx) }
		answer["addr"], answer["health_addr"] = h.Addr, h.HealthAddr
	case "grpc", "unix":
		addr, shutdown, serve, err := listenProto(o, q, logger)
		if err != nil {
			cancel()
			_ = syscall.Close(wfd)
			return "", fmt.Errorf("MCPServerStart: %w", err)
		}
		ps.shutdown, serveErr = shutdown, serve
		answer["addr"] = addr
	}
	if ps.shutdown != nil {
		go func() { <-ctx.Done(); ps.end("") }()
		if serveErr != nil {
			go func() {
				if err := serveErr(); err != nil && ctx.Err() == nil {
					ps.end(err.Error())
				}
			}()
		}
	} else {
		go func() {
			err := ps.srv.RunStdio(ctx)
			msg := ""
			if err != nil && ctx.Err() == nil {
				msg = err.Error()
			}
			ps.end(msg)
		}()
	}
	pyServers.mu.Lock()
	pyServers.next++
	id := pyServers.next
	pyServers.m[id] = ps
	pyServers.mu.Unlock()
	answer["id"] = id
	b, _ := json.Marshal(answer)
	return string(b), nil
}

// serverOptsFrom checks MCPServerStart's opts (everything but binding and serving).
func serverOptsFrom(opts string) (*serverStartOpts, error) {
	var o serverStartOpts
	if err := decodeStrict("MCPServerStart", "opts", opts, &o); err != nil {
		return nil, err
	}
	switch o.Transport {
	case "stdio", "http", "grpc":
	case "unix":
		if o.Path == "" {
			return nil, errors.New("MCPServerStart: opts.path: the unix transport needs the socket path")
		}
	default:
		return nil, fmt.Errorf("MCPServerStart: opts.transport: want \"stdio\", \"http\", \"grpc\" or \"unix\", got %q", o.Transport)
	}
	if o.Port < 0 || o.Port > 65535 {
		return nil, fmt.Errorf("MCPServerStart: opts.port: want 0 to 65535, got %d", o.Port)
	}
	if o.MaxRequestBytes < 0 {
		return nil, fmt.Errorf("MCPServerStart: opts.max_request_bytes: want 0 (the default) or more, got %d", o.MaxRequestBytes)
	}
	if _, err := mcpserver.NewQueue(o.Configs, nil); err != nil {
		return nil, fmt.Errorf("MCPServerStart: opts.configs: %w", err)
	}
	return &o, nil
}

// end marks the server ended: waiting calls get an error model, the caller wakes.
func (ps *pyServer) end(msg string) {
	ps.mu.Lock()
	if ps.ended {
		ps.mu.Unlock()
		return
	}
	ps.ended, ps.err = true, msg
	ps.mu.Unlock()
	if ps.shutdown != nil {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		ps.shutdown(ctx)
		cancel()
	}
	ps.q.Close()
	close(ps.done)
}

func pyServerOf(fn string, id int) (*pyServer, error) {
	pyServers.mu.Lock()
	defer pyServers.mu.Unlock()
	ps := pyServers.m[id]
	if ps == nil {
		return nil, fmt.Errorf("%s: no server %d (stopped, or never started)", fn, id)
	}
	return ps, nil
}

// MCPServerTake hands over the waiting calls: {"calls": [{"id", "hook_type",
// "plugin_name", "payload", "context"}], "ended": bool, "error": str}. After "ended"
// no call comes any more (answers to taken calls go nowhere).
func MCPServerTake(id int) (_ string, err error) {
	defer guard("MCPServerTake", &err)
	ps, err := pyServerOf("MCPServerTake", id)
	if err != nil {
		return "", err
	}
	calls, closed := ps.q.Take(0)
	ps.mu.Lock()
	ended, msg := ps.ended || closed, ps.err
	ps.mu.Unlock()
	b, err := json.Marshal(map[string]any{"calls": calls, "ended": ended, "error": msg})
	if err != nil {
		return "", fmt.Errorf("MCPServerTake: %w", err)
	}
	return string(b), nil
}

// MCPServerAnswer answers call with reply (invoke_hook's whole reply as JSON); false
// when the client no longer waits for it.
func MCPServerAnswer(id int, call int, reply string) (_ bool, err error) {
	defer guard("MCPServerAnswer", &err)
	ps, err := pyServerOf("MCPServerAnswer", id)
	if err != nil {
		return false, err
	}
	if !json.Valid([]byte(reply)) {
		return false, fmt.Errorf("MCPServerAnswer: call %d: reply is not JSON: %s", call, clip(reply))
	}
	return ps.q.Answer(uint64(call), json.RawMessage(reply)), nil
}

// MCPServerStop stops serving (network transports: running calls get up to 5 s), answers waiting
// calls with an error model and forgets the server.
func MCPServerStop(id int) (err error) {
	defer guard("MCPServerStop", &err)
	ps, err := pyServerOf("MCPServerStop", id)
	if err != nil {
		return err
	}
	ps.cancel()
	ps.end("")
	<-ps.done
	pyServers.mu.Lock()
	delete(pyServers.m, id)
	pyServers.mu.Unlock()
	ps.fdMu.Lock()
	_ = syscall.Close(ps.wfd)
	ps.wfd = -1
	ps.fdMu.Unlock()
	return nil
}

// MCPServerMetrics is the server's Prometheus exposition (text format), for tests and
// for hosts that publish metrics elsewhere.
func MCPServerMetrics(id int) (_ string, err error) {
	defer guard("MCPServerMetrics", &err)
	ps, err := pyServerOf("MCPServerMetrics", id)
	if err != nil {
		return "", err
	}
	if ps.srv == nil {
		return "", fmt.Errorf("MCPServerMetrics: server %d serves %s, which has no metrics endpoint", id, "gRPC or the Unix socket")
	}
	return ps.srv.Metrics().Text()
}
