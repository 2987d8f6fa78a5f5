package core

// The public names of the Go host (core/host): the Manager, its driver, Go plugin calls and
// the go steps of foreign runs, importable as core.X as documented
// (README, examples, built-ins, pybind): aliases and one-line forwarders only, the
// behaviour and its documentation live in the package. TestFacadeIsComplete fails when
// the package exports a name this file lacks.

import (
	"context"
	"log/slog"
	"time"

	"github.com/cpex-go/cpex/core/config"
	"github.com/cpex-go/cpex/core/engine"
	"github.com/cpex-go/cpex/core/host"
	"github.com/cpex-go/cpex/core/plugin"
)

type (
	Manager      = host.Manager
	Option       = host.Option
	InvokeOption = host.InvokeOption
	GoEffects    = host.GoEffects
	GoState      = host.GoState
	Observer     = host.Observer
	CallTracer   = host.CallTracer
	CallReport   = host.CallReport
	HookResult   = host.HookResult
	Background   = host.Background
)

var (
	ErrManagerClosed = host.ErrManagerClosed
)

// WithTimeout: host.WithTimeout.
func WithTimeout(d time.Duration) Option { return host.WithTimeout(d) }

// WithHookPolicies: host.WithHookPolicies.
func WithHookPolicies(p map[string]engine.HookPolicy) Option { return host.WithHookPolicies(p) }

// WithHookPolicy: host.WithHookPolicy.
func WithHookPolicy(hook string, writable ...string) Option {
	return host.WithHookPolicy(hook, writable...)
}

// WithDefaultPolicy: host.WithDefaultPolicy.
func WithDefaultPolicy(p engine.DefaultPolicy) Option { return host.WithDefaultPolicy(p) }

// WithCallTracer: host.WithCallTracer.
func WithCallTracer(t CallTracer) Option { return host.WithCallTracer(t) }

// WithMetrics: host.WithMetrics.
func WithMetrics(on bool) Option { return host.WithMetrics(on) }

// MetricsDefault: host.MetricsDefault.
const MetricsDefault = host.MetricsDefault

// WithObserver: host.WithObserver.
func WithObserver(obs Observer) Option { return host.WithObserver(obs) }

// WithLogger: host.WithLogger.
func WithLogger(l *slog.Logger) Option { return host.WithLogger(l) }

// WithExecutionPool: host.WithExecutionPool.
func WithExecutionPool(n int) Option { return host.WithExecutionPool(n) }

// WithLenientLoading: host.WithLenientLoading.
func WithLenientLoading(on bool) Option { return host.WithLenientLoading(on) }

// WithFactory: host.WithFactory.
func WithFactory(kind string, f plugin.Factory) Option { return host.WithFactory(kind, f) }

// WithConfigOptions: host.WithConfigOptions.
func WithConfigOptions(opts ...config.Option) Option { return host.WithConfigOptions(opts...) }

// NewManager: host.NewManager.
func NewManager(cfg *config.Config, opts ...Option) (*Manager, error) {
	return host.NewManager(cfg, opts...)
}

// LoadManager: host.LoadManager.
func LoadManager(path string, opts ...Option) (*Manager, error) {
	return host.LoadManager(path, opts...)
}

// ViolationsAsErrors: host.ViolationsAsErrors.
func ViolationsAsErrors() InvokeOption { return host.ViolationsAsErrors() }

// WithExtensions: host.WithExtensions.
func WithExtensions(ext map[string]any) InvokeOption { return host.WithExtensions(ext) }

// WithCallPool: host.WithCallPool.
func WithCallPool(n int) InvokeOption { return host.WithCallPool(n) }

// WithoutContextTable: host.WithoutContextTable.
func WithoutContextTable() InvokeOption { return host.WithoutContextTable() }

// WithoutRecords: host.WithoutRecords.
func WithoutRecords() InvokeOption { return host.WithoutRecords() }

// ExecGo: host.ExecGo.
func ExecGo(ctx context.Context, r *engine.Run, in *plugin.Payload, eff *GoEffects) (*engine.Step, error) {
	return host.ExecGo(ctx, r, in, eff)
}

// CallPlugin: host.CallPlugin.
func CallPlugin(ctx context.Context, p plugin.Plugin, hook string, in *plugin.Payload, pctx *plugin.PluginContext, timeout time.Duration) (*plugin.Result, error) {
	return host.CallPlugin(ctx, p, hook, in, pctx, timeout)
}

// WithTraceID: host.WithTraceID.
func WithTraceID(ctx context.Context, id string) context.Context { return host.WithTraceID(ctx, id) }

// TraceID: host.TraceID.
func TraceID(ctx context.Context) string { return host.TraceID(ctx) }

// PluginSpanAttrs: host.PluginSpanAttrs.
func PluginSpanAttrs(ref *engine.Ref, timeout float64) map[string]any {
	return host.PluginSpanAttrs(ref, timeout)
}
