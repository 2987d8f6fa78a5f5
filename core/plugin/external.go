package plugin

import (
	"context"
	"fmt"
	"sync"

	"github.com/cpex-go/cpex/core/config"
)

// ExternalFactory connects a plugin served by another process (kind: external) and
// returns it with its effective configuration: the remote server's config merged under
// the local entry (local wins). The manager plans hooks from the returned config, since
// an external entry usually names no hooks of its own. Transport packages
// (core/external/mcpclient, ...) register one per transport section in init.
type ExternalFactory func(ctx context.Context, pc *config.PluginConfig) (Plugin, *config.PluginConfig, error)

var (
	externalMu        sync.RWMutex
	externalFactories = map[string]ExternalFactory{}
)

// RegisterExternal makes a transport ("mcp", "grpc", "unix_socket") of kind: external
// available. Registering the same transport twice panics.
func RegisterExternal(transport string, f ExternalFactory) {
	externalMu.Lock()
	defer externalMu.Unlock()
	if _, dup := externalFactories[transport]; dup {
		panic(fmt.Sprintf("core.RegisterExternal: transport %q registered twice", transport))
	}
	externalFactories[transport] = f
}

// externalTransport names the transport section an external entry sets.
func externalTransport(pc *config.PluginConfig) string {
	switch {
	case pc.MCP != nil:
		return "mcp"
	case pc.GRPC != nil:
		return "grpc"
	case pc.UnixSocket != nil:
		return "unix_socket"
	}
	return ""
}

// NewExternalPlugin connects the external plugin of pc through its transport's
// registered factory and returns the plugin and its merged configuration.
func NewExternalPlugin(ctx context.Context, pc *config.PluginConfig) (Plugin, *config.PluginConfig, error) {
	t := externalTransport(pc)
	if t == "" {
		return nil, nil, fmt.Errorf("plugin %q: kind external needs an mcp, grpc or unix_socket section", pc.Name)
	}
	externalMu.RLock()
	f, ok := externalFactories[t]
	externalMu.RUnlock()
	if !ok {
		return nil, nil, fmt.Errorf("plugin %q: external transport %q is not available in this build (import its package, e.g. core/external/mcpclient)", pc.Name, t)
	}
	p, merged, err := f(ctx, pc)
	if err != nil {
		return nil, nil, err
	}
	if p == nil || merged == nil {
		return nil, nil, fmt.Errorf("plugin %q: external %s factory returned no plugin", pc.Name, t)
	}
	return p, merged, nil
}
