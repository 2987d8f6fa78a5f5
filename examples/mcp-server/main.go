// Command mcp-server is an external plugin server written in Go: it serves the Go
// plugins (kind builtin/...) of a config file over MCP, so a Go team can host guards
// for any gateway with no Python at all. It reads the same settings as the Python
// runtime (cpex.framework.external.mcp.server.runtime):
//
//	mcp-server [config.yaml]        # else PLUGINS_CONFIG_PATH, else ./resources/plugins/config.yaml
//	PLUGINS_TRANSPORT=stdio|http    # default: stdio when stdin is not a terminal
//	PLUGINS_SERVER_HOST/PORT/UDS, PLUGINS_SERVER_SSL_* (or the file's server_settings)
//	PLUGINS_PLUGIN_TIMEOUT_S        # the plugins' timeout in seconds (default 30)
//
// Register your own plugin kinds with core.RegisterFactory in an init function (see
// examples/go-service) and they are served the same way.
package main

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/cpex-go/cpex/core"
	_ "github.com/cpex-go/cpex/core/builtins" // builtin/deny_list, builtin/noop, ...
	"github.com/cpex-go/cpex/core/config"
	"github.com/cpex-go/cpex/core/external/mcpserver"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], nil); err != nil {
		fmt.Fprintln(os.Stderr, "mcp-server:", err)
		os.Exit(1)
	}
}

// run serves until ctx ends (HTTP) or the client closes stdin (stdio). listening, when
// set, receives the bound HTTP address.
func run(ctx context.Context, args []string, listening chan<- string) error {
	s, err := config.LoadSettings()
	if err != nil {
		return err
	}
	path := "./resources/plugins/config.yaml"
	if s.ConfigPath != nil && *s.ConfigPath != "" {
		path = *s.ConfigPath
	}
	if len(args) > 0 {
		path = args[0]
	}
	timeout := 30 * time.Second
	if v := os.Getenv("PLUGINS_PLUGIN_TIMEOUT_S"); v != "" {
		secs, err := strconv.ParseFloat(v, 64)
		if err != nil || secs <= 0 {
			return fmt.Errorf("PLUGINS_PLUGIN_TIMEOUT_S: want a positive number of seconds, got %q", v)
		}
		timeout = time.Duration(secs * float64(time.Second))
	}
	logger := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: config.SlogLevel(s.LogLevel)}))
	m, err := core.LoadManager(path, core.WithTimeout(timeout), core.WithLogger(logger))
	if err != nil {
		return err
	}
	defer func() { _ = m.Shutdown(context.Background()) }()
	b, err := mcpserver.NewManagerBackend(m)
	if err != nil {
		return err
	}
	srv := mcpserver.New(b, mcpserver.Options{Logger: logger})
	transport := ""
	if s.Transport != nil {
		transport = strings.ToLower(*s.Transport)
	}
	if transport == "" {
		transport = "http"
		if fi, err := os.Stdin.Stat(); err == nil && fi.Mode()&os.ModeCharDevice == 0 {
			transport = "stdio"
		}
	}
	switch transport {
	case "stdio":
		return srv.RunStdio(ctx)
	case "http":
		h, err := srv.Listen(mcpserver.HTTPConfigFrom(m.Config().ServerSettings, &s))
		if err != nil {
			return err
		}
		logger.Info("plugin server listening", "addr", h.Addr, "health", h.HealthAddr, "plugins", m.PluginNames())
		if listening != nil {
			listening <- h.Addr
		}
		<-ctx.Done()
		sctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		return h.Shutdown(sctx)
	}
	return fmt.Errorf("PLUGINS_TRANSPORT: want stdio or http, got %q", transport)
}
