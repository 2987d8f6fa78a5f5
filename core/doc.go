// Package core is the cpex plugin manager and scheduler: every rule of the cpex 0.1.x
// executor (spec §10–§13, §15), written once and shared by Go services and by the
// Python package through pybind.
//
// # Go services
//
// A [Manager] is built from a configuration ([NewManager], or [LoadManager] for a YAML
// file with env templating) and runs the Go plugins it names (kind builtin/<name>,
// registered with [RegisterFactory] from an init function, or per manager with
// [WithFactory]):
//
//	m, err := core.LoadManager("plugins/config.yaml",
//		core.WithTimeout(5*time.Second),
//		core.WithHookPolicy(core.HookToolPreInvoke, "name", "args", "headers"))
//	res, table, err := m.InvokeHook(ctx, core.HookToolPreInvoke, payload, gctx, nil)
//	// ... later, the post hook of the same request keeps the plugins' state:
//	res, _, err = m.InvokeHook(ctx, core.HookToolPostInvoke, post, gctx, table)
//
// [Manager.InvokeHook] filters the plugins (runtime-disabled, conditions against the
// original payload), orders them (priority, stable), and runs the phases sequential →
// transform → audit → concurrent (goroutines, bounded by the execution pool) →
// fire-and-forget (tracked goroutines; [Manager.Shutdown] drains them). on_error,
// timeouts (context deadlines), the payload-size guard, payload policies, metadata,
// retry delays and execution records follow upstream; docs/semantics.md lists every
// decision where upstream leaves a choice. [Manager.Reload] swaps the plugin set
// atomically while calls run. Panics in plugins are contained and handled as plugin
// errors.
//
// Payloads are JSON trees ([Payload]: raw JSON decoded at most once, or a decoded
// tree); plugins must not mutate them and return a new tree in
// [Result].ModifiedPayload. The typed payloads of the built-in hooks live in
// package core/hooks.
//
// # Foreign drivers
//
// The executor itself is a state machine, [Run]: [Executor.Start] plans a call and
// [Run.Report] folds in each plugin's [Outcome] and answers the next [Step]. The Go
// driver (InvokeHook) and the Python driver (pybind, docs/protocol.md) both consume it,
// so the two cannot diverge; Go plugins in a Python chain run inside core through
// [Run.ExecGo].
package core
