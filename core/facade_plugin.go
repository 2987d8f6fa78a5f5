package core

// The public names of the plugin model (core/plugin): the Plugin interface, payloads, contexts, results,
// records, errors and the factory registries, importable as core.X as documented
// (README, examples, built-ins, pybind): aliases and one-line forwarders only, the
// behaviour and its documentation live in the package. TestFacadeIsComplete fails when
// the package exports a name this file lacks.

import (
	"context"

	"github.com/cpex-go/cpex/core/config"
	"github.com/cpex-go/cpex/core/plugin"
)

type (
	Blocking         = plugin.Blocking
	ExternalFactory  = plugin.ExternalFactory
	PayloadKindError = plugin.PayloadKindError
	Plugin           = plugin.Plugin
	Shutdowner       = plugin.Shutdowner
	ExtensionsReader = plugin.ExtensionsReader
	Factory          = plugin.Factory
	PluginSpec       = plugin.PluginSpec
	Payload          = plugin.Payload
	PluginContext    = plugin.PluginContext
	Violation        = plugin.Violation
	Result           = plugin.Result
	GlobalContext    = plugin.GlobalContext
	ContextTable     = plugin.ContextTable
	ExecutionStatus  = plugin.ExecutionStatus
	OptBool          = plugin.OptBool
	ExecutionRecord  = plugin.ExecutionRecord
	PluginError      = plugin.PluginError
	ViolationError   = plugin.ViolationError
	PayloadSizeError = plugin.PayloadSizeError
	TimeoutError     = plugin.TimeoutError
)

const (
	BuiltinPrefix     = plugin.BuiltinPrefix
	StatusCompleted   = plugin.StatusCompleted
	StatusError       = plugin.StatusError
	StatusTimeout     = plugin.StatusTimeout
	None              = plugin.None
	False             = plugin.False
	True              = plugin.True
	DecisionPluginKey = plugin.DecisionPluginKey
	MaxPayloadSize    = plugin.MaxPayloadSize
	DefaultTimeout    = plugin.DefaultTimeout
)

// IsBlocking: plugin.IsBlocking.
func IsBlocking(p Plugin) bool { return plugin.IsBlocking(p) }

// ReadsExtensions: plugin.ReadsExtensions.
func ReadsExtensions(p Plugin) bool { return plugin.ReadsExtensions(p) }

// RegisterExternal: plugin.RegisterExternal.
func RegisterExternal(transport string, f ExternalFactory) { plugin.RegisterExternal(transport, f) }

// NewExternalPlugin: plugin.NewExternalPlugin.
func NewExternalPlugin(ctx context.Context, pc *config.PluginConfig) (Plugin, *config.PluginConfig, error) {
	return plugin.NewExternalPlugin(ctx, pc)
}

// RegisterFactory: plugin.RegisterFactory.
func RegisterFactory(kind string, f Factory) { plugin.RegisterFactory(kind, f) }

// LookupFactory: plugin.LookupFactory.
func LookupFactory(kind string) (Factory, bool) { return plugin.LookupFactory(kind) }

// IsGoKind: plugin.IsGoKind.
func IsGoKind(kind string) bool { return plugin.IsGoKind(kind) }

// FactoryKinds: plugin.FactoryKinds.
func FactoryKinds() []string { return plugin.FactoryKinds() }

// NewPlugin: plugin.NewPlugin.
func NewPlugin(spec PluginSpec) (Plugin, error) { return plugin.NewPlugin(spec) }

// LoadFailureFailsClosed: plugin.LoadFailureFailsClosed.
func LoadFailureFailsClosed(kind string) bool { return plugin.LoadFailureFailsClosed(kind) }

// PayloadNotObject: plugin.PayloadNotObject.
func PayloadNotObject(p *Payload) string { return plugin.PayloadNotObject(p) }

// NewPayloadJSON: plugin.NewPayloadJSON.
func NewPayloadJSON(raw []byte) *Payload { return plugin.NewPayloadJSON(raw) }

// NewPayloadText wraps JSON text held in a string without copying it (plugin.NewPayloadText).
func NewPayloadText(s string) *Payload { return plugin.NewPayloadText(s) }

// NewPayloadValue: plugin.NewPayloadValue.
func NewPayloadValue(v any) *Payload { return plugin.NewPayloadValue(v) }

// OptBoolOf: plugin.OptBoolOf.
func OptBoolOf(b bool) OptBool { return plugin.OptBoolOf(b) }
