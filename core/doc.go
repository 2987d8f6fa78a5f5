// Package core is the cpex plugin manager and scheduler: every rule of the cpex 0.1.x
// executor (spec §10–§13, §15), written once and shared by Go services and by the
// Python package through pybind. It is the public facade of four packages, each in its
// own directory; every public name of theirs is importable as core.X (facade_*.go):
//
//   - core/plugin: the plugin model. The [Plugin] interface, [Payload], [PluginContext],
//     [Result], [Violation], execution records, the errors a call can end with, and the
//     registries of Go plugin factories and external transports.
//   - core/engine: the rules. A hook call is a [Run], a state machine with no goroutines
//     and no I/O: [Executor.Start] plans it and answers the first [Step], [Run.Report]
//     folds in each plugin's [Outcome] and answers the next. A Step is one operation
//     (call, concurrent, next, go, done, raise) with its own part (Step.Call, Step.Done,
//     ...). Plans, policies, conditions, hook types and records are decided here.
//   - core/host: the Go host. [Manager] (load, reload, shutdown, InvokeHook) and its
//     driver, which runs Go plugins with timeouts, panic recovery, spans and timing;
//     [ExecGo] runs the Go plugins of a go step for a foreign driver.
//   - core/config, core/hooks, core/builtins, core/external: the config model, the typed
//     payloads of the built-in hooks, the built-in guards, the external transports.
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
// decision where upstream leaves a choice. Payloads are JSON trees ([Payload]: raw JSON
// decoded at most once, or a decoded tree); plugins must not mutate them and return a
// new tree in [Result].ModifiedPayload.
//
// # Calls that allocate less
//
// By default every call returns a result of its own, one execution record per plugin
// and a context table, all new: for a chain of cheap Go guards the bytes they take are
// most of the collector's work, which is as large as the call path itself
// (docs/performance.md, "The Go API"). A service that needs less can ask for less, per
// call; the plugins see the same thing either way (a new [PluginContext] and
// context.Context per plugin call, never reused):
//
//   - [WithoutContextTable]: no table (a service that never passes one to a later hook).
//   - [WithoutRecords]: no records in the result (metrics still count every plugin; a
//     [ViolationError] still carries its records).
//   - [Manager.InvokeHookInto]: the result is written into one the caller hands back
//     from call to call, its records into the array of the previous call's records
//     (which the caller must be done reading).
//
// InvokeHookInto with WithoutContextTable allocates only the plugins' contexts (10 Go
// plugins: one allocation of 1.5 KB, against 4 KB and 7 allocations by default).
//
// # One invoke_hook from Python, file by file
//
// The Python manager and the Go Manager drive the same Run, so their rules cannot
// diverge. Following `await manager.invoke_hook(...)` in the Python package:
//
//  1. python/cpex/framework/manager.py invoke_hook → _engine/executor.py _run: gets the
//     plan (wire.plan_get → pybind PlanGet → engine Executor.Plan, cached in
//     core/engine/executor.go), gathers the call's facts (conditions, size, pool) and
//     calls wire.run_start.
//  2. python/cpex/framework/_engine/wire.py is the only caller of the extension; its
//     TypedDicts are the steps and outcomes of docs/protocol.md.
//  3. pybind/exec.go RunStart parses the facts (pybind/parse.go) and calls
//     engine.Executor.Start (core/engine/run.go), which filters and orders the plugins
//     and answers the first step; pybind/encode.go writes it as JSON, one function per
//     operation.
//  4. python/cpex/framework/_engine/run.py _Run.drive acts on each step: call → await
//     the plugin (_engine/invoke.py), report its facts (wire.run_report → pybind
//     RunReport → engine Run.Report, whose rules are in core/engine/run.go, with
//     policies in step_returned.go and fire-and-forget in step_faf.go); go → send the
//     context state when there is some (_engine/gostate.py → pybind RunGoContext,
//     pybind/gostate.go), then the payload JSON (wire.run_go → pybind RunGo →
//     host.ExecGo in core/host/foreign.go, which runs the Go plugins through
//     core/host/gocall.go with the state rules of core/host/foreign_state.go and
//     reports each outcome to the same Run); done/raise → build the result or the
//     exception core described.
//
// A Go caller's [Manager.InvokeHook] (core/host/api.go) takes the same path from step
// 3 on, with core/host/driver.go in place of pybind and the Python driver: it starts
// the Run with Executor.StartInto and runs every plugin itself, so it never gets a go
// step.
package core
