package builtins

import (
	"context"
	"fmt"

	"github.com/cpex-go/cpex/core"
)

// NoopKind is the kind of the plugin that allows everything and changes nothing: the
// cheapest possible plugin, for tests and for measuring the executor itself.
const NoopKind = core.BuiltinPrefix + "noop"

func init() { core.RegisterFactory(NoopKind, newNoop) }

type noop struct{ ContextFree }

func newNoop(spec core.PluginSpec) (core.Plugin, error) {
	for k := range spec.Config {
		return nil, fmt.Errorf("config key %q: %s takes no configuration", k, NoopKind)
	}
	return noop{}, nil
}

// Invoke allows the call unchanged.
func (noop) Invoke(context.Context, string, *core.Payload, *core.PluginContext) (*core.Result, error) {
	return nil, nil
}
