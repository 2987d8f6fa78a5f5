package plugin

import (
	"fmt"
	"sort"
	"strings"
	"sync"
)

// BuiltinPrefix is the kind prefix that selects a Go plugin in YAML: `kind: builtin/pii_filter`.
// A kind without it is a Python dotted class path (or external / isolated_venv).
const BuiltinPrefix = "builtin/"

var (
	factoriesMu sync.RWMutex
	factories   = map[string]Factory{}
)

// RegisterFactory makes a Go plugin available under kind (which must start with
// BuiltinPrefix). Call it from an init function, Caddy-style. Registering the same kind
// twice panics: it is a programming error that would make configs ambiguous.
func RegisterFactory(kind string, f Factory) {
	if len(kind) <= len(BuiltinPrefix) || kind[:len(BuiltinPrefix)] != BuiltinPrefix {
		panic(fmt.Sprintf("core.RegisterFactory: kind %q must start with %q", kind, BuiltinPrefix))
	}
	factoriesMu.Lock()
	defer factoriesMu.Unlock()
	if _, dup := factories[kind]; dup {
		panic(fmt.Sprintf("core.RegisterFactory: kind %q registered twice", kind))
	}
	factories[kind] = f
}

// LookupFactory returns the factory registered for kind.
func LookupFactory(kind string) (Factory, bool) {
	factoriesMu.RLock()
	defer factoriesMu.RUnlock()
	f, ok := factories[kind]
	return f, ok
}

// IsGoKind reports whether kind names a Go plugin (registered or not).
func IsGoKind(kind string) bool {
	return len(kind) > len(BuiltinPrefix) && kind[:len(BuiltinPrefix)] == BuiltinPrefix
}

// FactoryKinds lists the registered kinds, sorted (for error messages and docs).
func FactoryKinds() []string {
	factoriesMu.RLock()
	defer factoriesMu.RUnlock()
	out := make([]string, 0, len(factories))
	for k := range factories {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// NewPlugin builds a Go plugin for spec, or explains which kinds exist.
func NewPlugin(spec PluginSpec) (Plugin, error) {
	f, ok := LookupFactory(spec.Kind)
	if !ok {
		return nil, fmt.Errorf("plugin %q: unknown Go plugin kind %q (registered: %v)", spec.Name, spec.Kind, FactoryKinds())
	}
	p, err := f(spec)
	if err != nil {
		return nil, fmt.Errorf("plugin %q (kind %s): %w", spec.Name, spec.Kind, err)
	}
	return p, nil
}

// LoadFailureFailsClosed says whether a plugin of kind that cannot be loaded must fail
// the manager's initialisation even when loading is lenient (PLUGINS_FAIL_ON_PLUGIN_ERROR
// false). Upstream skips every failed plugin then, so its hooks run without it: for a Go
// guard (builtin/*), a plugin behind a transport (external) or in another interpreter
// (isolated_venv) that would turn a guard that cannot run into an allow. In-process
// Python plugin classes keep upstream's skip. Cases: tests/cases/loading/fail_closed.yaml
// (also run against cpex.framework.loader.plugin.load_failure_fails_closed).
func LoadFailureFailsClosed(kind string) bool {
	return strings.HasPrefix(kind, BuiltinPrefix) || kind == "external" || kind == "isolated_venv"
}
