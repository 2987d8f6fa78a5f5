package host

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sort"
	"sync"
	"sync/atomic"
	"time"

	"github.com/cpex-go/cpex/core/config"
	"github.com/cpex-go/cpex/core/engine"
	"github.com/cpex-go/cpex/core/plugin"
)

// Manager runs hooks for Go services: it loads the Go plugins of a configuration
// (kind builtin/<name>) and invokes them with every rule of the cpex 0.1.x executor.
// It is safe for concurrent use; Reload swaps the plugin set atomically while calls
// run (a call finishes on the set it started with).
type Manager struct {
	exec     *engine.Executor
	set      atomic.Pointer[pluginSet]
	observer Observer
	tracer   CallTracer
	logger   *slog.Logger
	pool     int
	policies map[string]*engine.HookPolicy
	lenient  bool
	local    map[string]plugin.Factory
	cfgOpts  []config.Option

	bg     sync.WaitGroup // fire-and-forget tasks and retiring plugin sets
	mu     sync.Mutex     // Reload and Shutdown
	closed atomic.Bool
}

// ErrManagerClosed is returned by calls on a manager after Shutdown.
var ErrManagerClosed = errors.New("cpex: manager is shut down")

// Option configures a Manager.
type Option func(*managerOptions)

type managerOptions struct {
	timeout  time.Duration
	policies map[string]engine.HookPolicy
	def      engine.DefaultPolicy
	observer Observer
	logger   *slog.Logger
	pool     int
	lenient  bool
	local    map[string]plugin.Factory
	cfgOpts  []config.Option
	metrics  *bool // nil: MetricsDefault
	tracer   CallTracer
}

// WithTimeout sets the per-plugin timeout (default 30 s, upstream's one timeout per
// manager).
func WithTimeout(d time.Duration) Option { return func(o *managerOptions) { o.timeout = d } }

// WithHookPolicies sets the payload policies per hook (upstream hook_policies).
func WithHookPolicies(p map[string]engine.HookPolicy) Option {
	return func(o *managerOptions) {
		for k, v := range p {
			o.policies[k] = v
		}
	}
}

// WithHookPolicy sets the writable fields of one hook.
func WithHookPolicy(hook string, writable ...string) Option {
	return func(o *managerOptions) { o.policies[hook] = engine.HookPolicy{WritableFields: writable} }
}

// WithDefaultPolicy sets what happens to modifications of hooks without a policy
// (default PolicyAllow, as PLUGINS_DEFAULT_HOOK_POLICY).
func WithDefaultPolicy(p engine.DefaultPolicy) Option { return func(o *managerOptions) { o.def = p } }

// WithObserver sets the observability hook (spans for calls whose context carries a
// trace id, see WithTraceID).
func WithObserver(obs Observer) Option { return func(o *managerOptions) { o.observer = obs } }

// WithLogger sets where the executor's warnings go (default slog.Default()); nil
// silences them.
func WithLogger(l *slog.Logger) Option { return func(o *managerOptions) { o.logger = l } }

// WithExecutionPool bounds the concurrent and the fire-and-forget phase of each call
// (default 10 as PLUGINS_EXECUTION_POOL; 0 = unbounded).
func WithExecutionPool(n int) Option { return func(o *managerOptions) { o.pool = n } }

// WithLenientLoading skips plugins that cannot be built (a Python kind) with a warning
// instead of failing, as upstream does when PLUGINS_FAIL_ON_PLUGIN_ERROR is false; a Go
// guard, external or isolated plugin that cannot be built still fails the load
// (LoadFailureFailsClosed).
func WithLenientLoading(on bool) Option { return func(o *managerOptions) { o.lenient = on } }

// WithFactory registers a Go plugin kind for this manager only (kind must start with
// BuiltinPrefix); it takes precedence over RegisterFactory.
func WithFactory(kind string, f plugin.Factory) Option {
	return func(o *managerOptions) { o.local[kind] = f }
}

// WithConfigOptions passes options to config.Load (LoadManager only).
func WithConfigOptions(opts ...config.Option) Option {
	return func(o *managerOptions) { o.cfgOpts = append(o.cfgOpts, opts...) }
}

// NewManager loads the plugins of cfg. Disabled plugins are not built.
func NewManager(cfg *config.Config, opts ...Option) (*Manager, error) {
	o := managerOptions{
		timeout: plugin.DefaultTimeout * time.Second, def: engine.PolicyAllow, logger: slog.Default(), pool: 10,
		policies: map[string]engine.HookPolicy{}, local: map[string]plugin.Factory{},
	}
	for _, opt := range opts {
		if opt != nil {
			opt(&o)
		}
	}
	if o.def != engine.PolicyAllow && o.def != engine.PolicyDeny {
		return nil, fmt.Errorf("cpex: default policy %q: want allow or deny", o.def)
	}
	if o.timeout <= 0 {
		return nil, fmt.Errorf("cpex: timeout %s: must be positive", o.timeout)
	}
	if o.pool < 0 {
		return nil, fmt.Errorf("cpex: execution pool %d: must be ≥ 0", o.pool)
	}
	for k := range o.local {
		if !plugin.IsGoKind(k) {
			return nil, fmt.Errorf("cpex: WithFactory kind %q must start with %q", k, plugin.BuiltinPrefix)
		}
	}
	m := &Manager{
		exec: engine.NewExecutor(o.timeout.Seconds(), o.def), observer: o.observer, tracer: o.tracer, logger: o.logger,
		pool: o.pool, lenient: o.lenient, local: o.local, cfgOpts: o.cfgOpts,
		policies: map[string]*engine.HookPolicy{},
	}
	m.setupMetrics(o.metrics)
	for k, v := range o.policies {
		v := v
		m.policies[k] = &v
	}
	if cfg == nil {
		cfg = config.NewConfig()
	}
	set, err := m.build(context.Background(), cfg)
	if err != nil {
		return nil, err
	}
	m.set.Store(set)
	return m, nil
}

// LoadManager loads the configuration file at path (env templating on, see
// config.Load) and builds a Manager from it.
func LoadManager(path string, opts ...Option) (*Manager, error) {
	var o managerOptions
	o.policies, o.local = map[string]engine.HookPolicy{}, map[string]plugin.Factory{}
	for _, opt := range opts {
		if opt != nil {
			opt(&o)
		}
	}
	cfg, err := config.Load(path, o.cfgOpts...)
	if err != nil {
		return nil, err
	}
	return NewManager(cfg, opts...)
}

// InvokeOption configures one InvokeHook call.
//
// An option takes the options so far and returns them changed, by value: through a
// pointer (func(*invokeOptions)) the options of every call that passed one escaped to
// the heap, the compiler cannot see what an option does with it.
type InvokeOption func(invokeOptions) invokeOptions

type invokeOptions struct {
	vexc      bool
	pool      int
	ext       map[string]any
	noTable   bool
	noRecords bool
	into      *HookResult // InvokeHookInto: the caller's result to fill
}

// WithoutContextTable makes the call return no context table (nil) and build none: for
// a Go service that never passes the plugins' contexts on to a later hook (local), the
// table's keys (request id + plugin uuid) and map were a fifth of a short chain's cost.
// The plugins see the same contexts; a local table passed in is still read.
func WithoutContextTable() InvokeOption {
	return func(o invokeOptions) invokeOptions { o.noTable = true; return o }
}

// WithoutRecords makes the call return no execution records (HookResult.Executions nil):
// for a Go service that does not read them, the records of a chain were a third of the
// bytes a call allocated, and every byte allocated is collector work later. The run
// still writes them, into memory the Manager reuses from call to call: metrics count
// every plugin as ever, and a *ViolationError still carries its records (a copy).
func WithoutRecords() InvokeOption {
	return func(o invokeOptions) invokeOptions { o.noRecords = true; return o }
}

// WithExtensions hands every plugin of the call the request's extensions (their JSON
// form: upstream Extensions.model_dump(mode="json")), in PluginContext.Extensions. The
// caller gives what the plugins may read: the Go host applies no capability filter
// (the Python host filters per plugin, as upstream's filter_extensions).
func WithExtensions(ext map[string]any) InvokeOption {
	return func(o invokeOptions) invokeOptions { o.ext = ext; return o }
}

// ViolationsAsErrors makes a block return a *ViolationError (with the records) instead
// of a halt result (upstream violations_as_exceptions=True).
func ViolationsAsErrors() InvokeOption {
	return func(o invokeOptions) invokeOptions { o.vexc = true; return o }
}

// WithCallPool overrides the manager's execution pool for this call.
func WithCallPool(n int) InvokeOption {
	return func(o invokeOptions) invokeOptions { o.pool = n; return o }
}

var emptyTable plugin.ContextTable

// allowResult is the result of a call no plugin is registered for. Every caller gets a
// value of its own: a HookResult is a plain struct the caller may change (set Metadata,
// append records), and one shared value would carry one caller's writes into every
// other caller's result, and race. It comes from a chunk of results (newResult).
func allowResult() *HookResult {
	r := newResult()
	r.ContinueProcessing = true
	return r
}

// InvokeHook runs the plugins registered for hook on payload (upstream invoke_hook).
// gctx is the request's global context (nil: an empty one); its State and Metadata
// receive the plugins' merged writes. local is the table returned by an earlier hook of
// the same request (nil for none). With no plugin for the hook the result allows and
// the table is nil; when every plugin was filtered out the table is empty. Every call
// returns a result of its own, which the caller may keep and change.
//
// Errors: *PayloadSizeError, *PluginError (on_error fail), *ViolationError
// (ViolationsAsErrors or a plugin that returned one), ErrManagerClosed, and ctx's
// error when ctx ends between plugins.
func (m *Manager) InvokeHook(ctx context.Context, hook string, payload *plugin.Payload, gctx *plugin.GlobalContext, local plugin.ContextTable, opts ...InvokeOption) (*HookResult, plugin.ContextTable, error) {
	// This frame is kept small for the calls of hooks nobody registered for, which end
	// here (a gateway makes one per request and hook); invoke does the rest.
	if set := m.set.Load(); set != nil && set.byHook[hook] != nil {
		return m.invoke(ctx, hook, payload, gctx, local, opts, nil)
	}
	if m.closed.Load() {
		return nil, nil, ErrManagerClosed
	}
	return allowResult(), emptyTable, nil
}

// InvokeHookInto is InvokeHook writing its result into *res, which the caller hands
// back from call to call, instead of returning a new one: the result and its records
// are then no garbage of the call. *res is overwritten whole; the array of
// res.Executions is reused for this call's records when it has room for one per plugin
// (so records of an earlier call that the caller still reads are overwritten: hand res
// back only when done with them), and kept, with length 0, by a call that writes none
// (no plugin, or an error). On error *res holds nothing else. Everything else is
// InvokeHook's: the plugins get a new PluginContext and context.Context per call (none
// is ever reused), the table is returned as InvokeHook returns it, and options apply
// (WithoutRecords: Executions is nil). res must not be nil, and is the caller's: one
// call at a time.
func (m *Manager) InvokeHookInto(ctx context.Context, res *HookResult, hook string, payload *plugin.Payload, gctx *plugin.GlobalContext, local plugin.ContextTable, opts ...InvokeOption) (plugin.ContextTable, error) {
	if set := m.set.Load(); set != nil && set.byHook[hook] != nil {
		_, table, err := m.invoke(ctx, hook, payload, gctx, local, opts, res)
		if err != nil {
			*res = HookResult{Executions: res.Executions[:0]}
		}
		return table, err
	}
	*res = HookResult{Executions: res.Executions[:0]}
	if m.closed.Load() {
		return nil, ErrManagerClosed
	}
	res.ContinueProcessing = true
	return emptyTable, nil
}

// invoke is InvokeHook of a hook that had plugins when the call came.
// into: InvokeHookInto's result to fill (nil: a new one).
func (m *Manager) invoke(ctx context.Context, hook string, payload *plugin.Payload, gctx *plugin.GlobalContext, local plugin.ContextTable, opts []InvokeOption, into *HookResult) (*HookResult, plugin.ContextTable, error) {
	set := m.acquire()
	if set == nil {
		return nil, nil, ErrManagerClosed
	}
	defer m.release(set)
	plan := set.byHook[hook]
	if plan == nil { // a Reload between the two loads removed the hook
		if into != nil {
			*into = HookResult{ContinueProcessing: true, Executions: into.Executions[:0]}
			return into, emptyTable, nil
		}
		return allowResult(), emptyTable, nil
	}
	io := invokeOptions{pool: -1, into: into}
	if len(opts) > 0 {
		io = collectInvokeOptions(opts)
		io.into = into
	}
	if gctx == nil {
		gctx = &plugin.GlobalContext{}
	}
	if payload == nil {
		payload = plugin.NewPayloadValue(map[string]any{})
	}
	return m.drive(ctx, plan, payload, gctx, local, &io)
}

func collectInvokeOptions(opts []InvokeOption) invokeOptions {
	io := invokeOptions{pool: -1}
	for _, opt := range opts {
		if opt != nil {
			io = opt(io)
		}
	}
	return io
}

// HasHooksFor reports whether some plugin is registered for hook.
func (m *Manager) HasHooksFor(hook string) bool {
	s := m.set.Load()
	return s != nil && s.byHook[hook] != nil
}

// PluginCount is the number of loaded plugins (disabled ones are never loaded).
func (m *Manager) PluginCount() int {
	if s := m.set.Load(); s != nil {
		return len(s.refs)
	}
	return 0
}

// PluginNames lists the loaded plugins in configuration order.
func (m *Manager) PluginNames() []string {
	s := m.set.Load()
	if s == nil {
		return nil
	}
	out := make([]string, len(s.refs))
	for i, r := range s.refs {
		out[i] = r.Name
	}
	return out
}

// Config returns the configuration of the current plugin set.
func (m *Manager) Config() *config.Config {
	if s := m.set.Load(); s != nil {
		return s.cfg
	}
	return nil
}

// RuntimeDisabled lists the plugins on_error: disable switched off (sorted). The set
// survives Reload, as upstream's survives shutdown/initialize.
func (m *Manager) RuntimeDisabled() []string { return m.exec.RuntimeDisabled() }

// SetRuntimeDisabled switches one plugin off (or back on) by name, as on_error: disable
// does (upstream callers edit executor._runtime_disabled).
func (m *Manager) SetRuntimeDisabled(name string, off bool) {
	if off {
		m.exec.Disable(name)
	} else {
		m.exec.Enable(name)
	}
}

// ResetRuntimeDisabled re-enables them.
func (m *Manager) ResetRuntimeDisabled() { m.exec.ResetRuntimeDisabled() }

// Reload builds the plugins of cfg and swaps them in atomically. Calls already running
// finish on the old set, whose plugins are shut down once the last such call ends. On
// error the old set stays.
func (m *Manager) Reload(cfg *config.Config) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.closed.Load() {
		return ErrManagerClosed
	}
	set, err := m.build(context.Background(), cfg)
	if err != nil {
		return err
	}
	old := m.set.Swap(set)
	if old != nil {
		m.retire(old)
	}
	return nil
}

// Shutdown stops the manager: later calls return ErrManagerClosed, fire-and-forget
// tasks are drained (until ctx ends) and every plugin that implements Shutdowner is
// shut down in reverse configuration order.
func (m *Manager) Shutdown(ctx context.Context) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.closed.Swap(true) {
		return nil
	}
	old := m.set.Swap(nil)
	if old != nil {
		m.retire(old)
	}
	done := make(chan struct{})
	go func() { m.bg.Wait(); close(done) }()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("cpex: shutdown: %w", ctx.Err())
	}
}

// pluginSet is one generation of loaded plugins.
type pluginSet struct {
	cfg      *config.Config
	refs     []*engine.Ref
	hooks    map[string]map[string]bool // plugin name → its hooks
	byHook   map[string]*engine.Plan
	inflight atomic.Int64
	retired  atomic.Bool
	stopOnce sync.Once
	m        *Manager
}

func (m *Manager) acquire() *pluginSet {
	for {
		s := m.set.Load()
		if s == nil {
			return nil
		}
		s.inflight.Add(1)
		if m.set.Load() == s {
			return s
		}
		m.release(s)
	}
}

func (m *Manager) release(s *pluginSet) {
	if s.inflight.Add(-1) == 0 && s.retired.Load() {
		s.stop()
	}
}

// retire marks s as replaced; its plugins stop when its last call ends.
func (m *Manager) retire(s *pluginSet) {
	m.bg.Add(1)
	s.retired.Store(true)
	if s.inflight.Load() == 0 {
		s.stop()
	}
}

func (s *pluginSet) stop() {
	s.stopOnce.Do(func() {
		go func() {
			defer s.m.bg.Done()
			ctx, cancel := context.WithTimeout(context.Background(), plugin.DefaultTimeout*time.Second)
			defer cancel()
			for i := len(s.refs) - 1; i >= 0; i-- {
				if sd, ok := s.refs[i].Plugin.(plugin.Shutdowner); ok {
					if err := safeShutdown(ctx, sd); err != nil {
						s.m.emit([]engine.LogEntry{{Level: "warning", Message: "Plugin " + s.refs[i].Name + " shutdown failed: " + err.Error()}})
					}
				}
			}
		}()
	})
}

func safeShutdown(ctx context.Context, sd plugin.Shutdowner) (err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("panic: %v", p)
		}
	}()
	return sd.Shutdown(ctx)
}

// build loads every enabled plugin of cfg and plans each hook.
func (m *Manager) build(ctx context.Context, cfg *config.Config) (*pluginSet, error) {
	if cfg == nil {
		return nil, fmt.Errorf("cpex: nil config")
	}
	s := &pluginSet{cfg: cfg, byHook: map[string]*engine.Plan{}, hooks: map[string]map[string]bool{}, m: m}
	seen := map[string]bool{}
	byHook := map[string][]*engine.Ref{}
	var hookOrder []string
	for i := range cfg.Plugins {
		pc := &cfg.Plugins[i]
		if pc.Mode == config.ModeDisabled {
			continue
		}
		if seen[pc.Name] {
			return nil, fmt.Errorf("cpex: plugins[%d] (name %q): duplicate plugin name", i, pc.Name)
		}
		p, err := m.newPlugin(ctx, &pc)
		if err != nil {
			if m.lenient && !plugin.LoadFailureFailsClosed(pc.Kind) {
				m.emit([]engine.LogEntry{{Level: "warning", Message: "cpex: skipping plugin: " + err.Error()}})
				continue
			}
			for _, r := range s.refs {
				if sd, ok := r.Plugin.(plugin.Shutdowner); ok {
					_ = safeShutdown(ctx, sd)
				}
			}
			return nil, err
		}
		seen[pc.Name] = true
		ref := engine.RefFromConfig(pc, p)
		s.refs = append(s.refs, ref)
		s.hooks[pc.Name] = map[string]bool{}
		for _, h := range pc.Hooks {
			s.hooks[pc.Name][h] = true
			if _, ok := byHook[h]; !ok {
				hookOrder = append(hookOrder, h)
			}
			byHook[h] = append(byHook[h], ref)
		}
	}
	deny := m.exec.DefaultPolicy() == engine.PolicyDeny
	for _, h := range hookOrder {
		refs := byHook[h]
		// The registry keeps hook refs sorted by priority, stably (quirk §30.31).
		sort.SliceStable(refs, func(a, b int) bool { return refs[a].Priority < refs[b].Priority })
		pol := m.policies[h]
		var fields []string
		if pol != nil {
			fields = pol.WritableFields
		}
		s.byHook[h] = engine.NewPlan(h, refs, fields, pol != nil, deny)
	}
	return s, nil
}

// newPlugin builds the plugin of *pc. An external plugin replaces *pc with its merged
// configuration (the remote config under the local entry), which the plan then uses.
func (m *Manager) newPlugin(ctx context.Context, pcp **config.PluginConfig) (plugin.Plugin, error) {
	pc := *pcp
	if pc.Kind == config.KindExternal {
		p, merged, err := plugin.NewExternalPlugin(ctx, pc)
		if err != nil {
			return nil, err
		}
		*pcp = merged
		return p, nil
	}
	spec := plugin.PluginSpec{Name: pc.Name, Kind: pc.Kind, Hooks: pc.Hooks, Config: pc.Config}
	if f, ok := m.local[pc.Kind]; ok {
		p, err := f(spec)
		if err != nil {
			return nil, fmt.Errorf("plugin %q (kind %s): %w", pc.Name, pc.Kind, err)
		}
		if p == nil {
			return nil, fmt.Errorf("plugin %q (kind %s): factory returned no plugin", pc.Name, pc.Kind)
		}
		return p, nil
	}
	if !plugin.IsGoKind(pc.Kind) {
		return nil, fmt.Errorf("plugin %q: kind %q is not a Go plugin (a Go Manager runs %s<name> kinds only)", pc.Name, pc.Kind, plugin.BuiltinPrefix)
	}
	p, err := plugin.NewPlugin(spec)
	if err != nil {
		return nil, err
	}
	if p == nil {
		return nil, fmt.Errorf("plugin %q (kind %s): factory returned no plugin", pc.Name, pc.Kind)
	}
	return p, nil
}
