// Package host runs Go plugins: the [Manager] (api.go: load, reload, InvokeHook,
// shutdown), its driver of an engine.Run (driver.go: contexts, the concurrent phase on
// goroutines, fire-and-forget tasks), single-plugin calls (single.go), one guarded Go
// plugin call (gocall.go: the call's deadline in callctx.go, panic recovery, the
// outcome's classification), spans (observe.go) and the Go plugins of a foreign run's
// go steps (foreign.go, [ExecGo]). Every decision it acts on comes from package engine.
package host
