package isolated

import (
	"context"

	"github.com/cpex-go/cpex/core"
	"github.com/cpex-go/cpex/core/config"
)

// Factory adapts New to a core.Factory, for Go services that load their plugins with
// core.LoadManager: register it under a Go kind,
//
//	core.WithFactory("builtin/isolated", isolated.Factory(isolated.Options{PluginDirs: []string{"plugins"}}))
//
// and give the entry `config: {class_name: ..., requirements_file: ...}`. The factory sees
// only the name, hooks and config of the entry, so the plugin runs with the default
// max_content_size and no capabilities. (`kind: isolated_venv` itself is loaded by the
// Python package; the core's manager has no transport hook for it yet.)
func Factory(o Options) core.Factory {
	return func(spec core.PluginSpec) (core.Plugin, error) {
		pc := config.NewPluginConfig(spec.Name, config.KindIsolatedVenv)
		pc.Hooks = append(pc.Hooks, spec.Hooks...)
		pc.Config = spec.Config
		return New(context.Background(), &pc, o)
	}
}
