package pybind

import (
	"context"
	"errors"
	"log/slog"
	"net"
	"os"
	"strconv"

	"google.golang.org/grpc/credentials"

	"github.com/cpex-go/cpex/core/config"
	"github.com/cpex-go/cpex/core/external/callq"
	cgrpc "github.com/cpex-go/cpex/core/external/grpc"
	"github.com/cpex-go/cpex/core/external/remote"
	"github.com/cpex-go/cpex/core/external/unixsock"
)

// listenProto binds the gRPC or Unix-socket endpoint of a Python-hosted plugin server
// (MCPServerStart's "grpc" and "unix" transports) over the queue q: the address it
// listens on, how to stop it (waiting calls are let finish until ctx ends, then the
// queue is closed so they are answered) and its accept loop.
func listenProto(o *serverStartOpts, q *callq.Queue, log *slog.Logger) (string, func(context.Context), func() error, error) {
	host := &remote.QueueHost{Q: q}
	if o.Transport == "unix" {
		l, err := unixsock.Listen(o.Path)
		if err != nil {
			return "", nil, nil, err
		}
		s := unixsock.NewHostServer(host, log)
		stop := func(context.Context) {
			s.Stop() // cancels running calls: the queue answers them with an error model
			_ = os.Remove(o.Path)
		}
		return o.Path, stop, func() error { return s.Serve(l) }, nil
	}
	ep := cgrpc.Endpoint{Network: "tcp", Address: net.JoinHostPort(o.Host, strconv.Itoa(o.Port))}
	if o.UDS != nil && *o.UDS != "" {
		if o.TLS != nil {
			return "", nil, nil, errors.New("grpc server: tls cannot be used with uds")
		}
		ep = cgrpc.Endpoint{Network: "unix", Address: *o.UDS}
	}
	var creds credentials.TransportCredentials
	if t := o.TLS; t != nil {
		tc := &config.GRPCServerTLSConfig{ClientAuth: config.DefaultGRPCClientAuth, TLSFiles: config.TLSFiles{
			Certfile: t.Certfile, Keyfile: t.Keyfile, CABundle: t.CABundle, KeyfilePassword: t.KeyfilePassword}}
		if t.ClientAuth != nil {
			tc.ClientAuth = *t.ClientAuth
		}
		var err error
		if creds, err = cgrpc.ServerTLS(tc); err != nil {
			return "", nil, nil, err
		}
	}
	l, err := cgrpc.Listen(ep)
	if err != nil {
		return "", nil, nil, err
	}
	s := cgrpc.NewHostServer(host, creds)
	stop := func(ctx context.Context) {
		done := make(chan struct{})
		go func() { s.Stop(); close(done) }()
		select {
		case <-done:
		case <-ctx.Done():
			q.Close() // the calls GracefulStop waits for get their error model
			<-done
		}
		if ep.Network == "unix" {
			_ = os.Remove(ep.Address)
		}
	}
	addr := l.Addr().String()
	if ep.Network == "unix" {
		addr = "unix://" + ep.Address
	}
	return addr, stop, func() error { return s.Serve(l) }, nil
}
