package pybind

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/cpex-go/cpex/core"
	"github.com/cpex-go/cpex/core/config"
	cgrpc "github.com/cpex-go/cpex/core/external/grpc" // the grpc transport of kind: external
	"github.com/cpex-go/cpex/core/external/mcpclient"  // the mcp transport of kind: external
	"github.com/cpex-go/cpex/core/external/unixsock"   // the unix_socket transport of kind: external
)

// externalConnectTimeout bounds ExternalPluginNew when opts gives no timeout: starting
// a stdio server and its handshake must not hang the host's initialisation.
const externalConnectTimeout = 60 * time.Second

// ExternalPluginNew connects an external plugin (its mcp, grpc or unix_socket section)
// and registers it as a Go plugin.
// entry is the plugin's config entry with only the keys it sets (Python's
// model_dump(mode="json", exclude_unset=True)); opts = {"python": interpreter for .py
// scripts, "timeout": seconds for the connection and handshake, "env": the PLUGINS_*
// environment variables the settings are read from (default: the process's)}. Answer
// {"id": Go plugin id, "config": the remote config merged under the entry}, or
// {"error": PluginErrorModel} when the plugin cannot be reached or configured.
func ExternalPluginNew(entry string, opts string) (_ string, err error) {
	defer guard("ExternalPluginNew", &err)
	pc, mo, timeout, err := externalNewInput(entry, opts)
	if err != nil {
		return "", err
	}
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	p, mergedMap, err := connectExternal(ctx, pc, mo, entry)
	if err != nil {
		return startFailed("ExternalPluginNew", pc.Name, err)
	}
	merged, err := json.Marshal(mergedMap)
	if err != nil {
		_ = p.(core.Shutdowner).Shutdown(context.Background())
		return "", fmt.Errorf("ExternalPluginNew: plugin %q: merged config: %w", pc.Name, err)
	}
	id := registerPlugin(pc, p)
	return fmt.Sprintf(`{"id":%d,"config":%s}`, id, merged), nil
}

// connectExternal connects through the entry's transport. The answer's config is the
// remote config merged under the entry (mcp, grpc) or the entry itself (unix_socket:
// upstream's client only checks that the server knows the plugin).
func connectExternal(ctx context.Context, pc *config.PluginConfig, mo mcpclient.Options, entry string) (core.Plugin, map[string]any, error) {
	switch {
	case pc.GRPC != nil:
		p, err := cgrpc.Connect(ctx, pc, cgrpc.Options{Settings: mo.Settings, SetKeys: mo.SetKeys})
		if err != nil {
			return nil, nil, err
		}
		return p, p.MergedMap, nil
	case pc.UnixSocket != nil:
		p, err := unixsock.Connect(ctx, pc)
		if err != nil {
			return nil, nil, err
		}
		var m map[string]any
		if err := json.Unmarshal([]byte(entry), &m); err != nil {
			_ = p.Shutdown(ctx)
			return nil, nil, err
		}
		return p, m, nil
	}
	p, err := mcpclient.Connect(ctx, pc, mo)
	if err != nil {
		return nil, nil, err
	}
	return p, p.MergedMap, nil
}

func orEmptyMap(m map[string]any) map[string]any {
	if m == nil {
		return map[string]any{}
	}
	return m
}

// externalNewInput checks ExternalPluginNew's arguments (everything but the connection).
func externalNewInput(entry, opts string) (*config.PluginConfig, mcpclient.Options, time.Duration, error) {
	var none mcpclient.Options
	var o struct {
		Python  *string           `json:"python"`
		Timeout *float64          `json:"timeout"`
		Env     map[string]string `json:"env"`
	}
	if err := decodeStrict("ExternalPluginNew", "opts", opts, &o); err != nil {
		return nil, none, 0, err
	}
	timeout, err := seconds("ExternalPluginNew", "timeout", o.Timeout, externalConnectTimeout)
	if err != nil {
		return nil, none, 0, err
	}
	pc, keys, err := oneEntry("ExternalPluginNew", entry, config.KindExternal,
		"one plugin with kind external and an mcp, grpc or unix_socket section")
	if err != nil {
		return nil, none, 0, err
	}
	mo := mcpclient.Options{SetKeys: keys}
	if o.Env != nil {
		// The PLUGINS_* variables as Python sees them now: the Go runtime's copy of the
		// environment is the one of its start, blind to later os.environ changes.
		s, err := config.LoadSettingsFrom(func(k string) (string, bool) { v, ok := o.Env[k]; return v, ok })
		if err != nil {
			return nil, none, 0, fmt.Errorf("ExternalPluginNew: opts.env: %w", err)
		}
		mo.Settings = &s
	}
	if o.Python != nil {
		mo.Python = *o.Python
	}
	return pc, mo, timeout, nil
}
