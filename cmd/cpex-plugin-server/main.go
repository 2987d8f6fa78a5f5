// Command cpex-plugin-server serves the Go plugins of a cpex configuration to
// external-plugin clients (cpex-go's or upstream cpex 0.1.4's) over gRPC or a Unix
// socket:
//
//	cpex-plugin-server --config plugins.yaml --transport grpc --host 127.0.0.1 --port 50051
//	cpex-plugin-server --config plugins.yaml --transport unix --socket /tmp/plugins.sock
//
// Without flags it reads upstream's settings: PLUGINS_CONFIG_PATH, PLUGINS_GRPC_SERVER_*
// (TLS with client auth none/optional/require, or PLUGINS_GRPC_SERVER_UDS) and
// PLUGINS_UNIX_SOCKET_PATH. It stops gracefully on SIGINT or SIGTERM.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"os"
	"os/signal"
	"syscall"

	"google.golang.org/grpc/credentials"

	"github.com/cpex-go/cpex/core"
	_ "github.com/cpex-go/cpex/core/builtins" // the Go plugins a configuration names
	"github.com/cpex-go/cpex/core/config"
	cgrpc "github.com/cpex-go/cpex/core/external/grpc"
	"github.com/cpex-go/cpex/core/external/unixsock"
)

func main() {
	if err := run(os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "cpex-plugin-server:", err)
		os.Exit(1)
	}
}

func run(args []string) error {
	fs := flag.NewFlagSet("cpex-plugin-server", flag.ContinueOnError)
	cfgPath := fs.String("config", "", "plugin configuration (default: PLUGINS_CONFIG_PATH)")
	transport := fs.String("transport", "grpc", "grpc or unix")
	host := fs.String("host", "", "gRPC host (default: grpc_server_settings or PLUGINS_GRPC_SERVER_HOST, else 127.0.0.1)")
	port := fs.Int("port", 0, "gRPC port (default: grpc_server_settings or PLUGINS_GRPC_SERVER_PORT, else 50051)")
	socket := fs.String("socket", "", "Unix socket path (default: PLUGINS_UNIX_SOCKET_PATH, else "+config.DefaultUnixSocketServerPath+")")
	level := fs.String("log-level", "", "DEBUG, INFO, WARNING or ERROR (default: PLUGINS_LOG_LEVEL)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	settings, err := config.LoadSettings()
	if err != nil {
		return err
	}
	log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: logLevel(*level, settings.LogLevel)}))
	if *cfgPath == "" && settings.ConfigPath != nil {
		*cfgPath = *settings.ConfigPath
	}
	if *cfgPath == "" {
		return errors.New("no configuration: pass --config or set PLUGINS_CONFIG_PATH")
	}
	// The config loader reads a missing file as an empty config (upstream's rule); a
	// server with nothing to serve is a mistake worth stopping at.
	if _, err := os.Stat(*cfgPath); err != nil {
		return fmt.Errorf("configuration: %w", err)
	}
	m, err := core.LoadManager(*cfgPath, core.WithLogger(log))
	if err != nil {
		return err
	}
	defer m.Shutdown(context.Background()) //nolint:errcheck // exiting anyway

	var serve func(net.Listener) error
	var stop func()
	var l net.Listener
	switch *transport {
	case "grpc":
		ep, err := cgrpc.ResolveEndpoint(m.Config(), &settings, *host, *port)
		if err != nil {
			return err
		}
		var creds credentials.TransportCredentials
		if ep.TLS != nil {
			if creds, err = cgrpc.ServerTLS(ep.TLS); err != nil {
				return err
			}
		}
		if l, err = cgrpc.Listen(ep); err != nil {
			return err
		}
		s := cgrpc.NewServer(m, creds)
		serve, stop = s.Serve, s.Stop
		log.Info("serving plugins over gRPC", "address", ep.Address, "network", ep.Network, "tls", creds != nil, "plugins", m.PluginNames())
	case "unix":
		path := *socket
		if path == "" {
			path = unixPath(m.Config(), &settings)
		}
		if l, err = unixsock.Listen(path); err != nil {
			return err
		}
		defer os.Remove(path) //nolint:errcheck // best effort
		s := unixsock.NewServer(m, log)
		serve, stop = s.Serve, s.Stop
		log.Info("serving plugins over a Unix socket", "path", path, "plugins", m.PluginNames())
	default:
		return fmt.Errorf("--transport %q: want grpc or unix", *transport)
	}
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGINT, syscall.SIGTERM)
	go func() {
		<-sig
		stop()
	}()
	return serve(l)
}

func unixPath(cfg *config.Config, s *config.Settings) string {
	if s.UnixSocketPath != nil && *s.UnixSocketPath != "" {
		return *s.UnixSocketPath
	}
	if cfg != nil && cfg.UnixSocketServerSettings != nil && cfg.UnixSocketServerSettings.Path != "" {
		return cfg.UnixSocketServerSettings.Path
	}
	return config.DefaultUnixSocketServerPath
}

func logLevel(flagValue, setting string) slog.Level {
	v := flagValue
	if v == "" {
		v = setting
	}
	return config.SlogLevel(v)
}
