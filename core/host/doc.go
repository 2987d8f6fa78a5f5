// Package host runs Go plugins: the [Manager] (api.go: load, reload, InvokeHook,
// shutdown), its driver of an engine.Run (driver.go: contexts, the concurrent phase on
// goroutines, fire-and-forget tasks), single-plugin calls (single.go), one Go plugin
// call (gocall.go: it runs through the parts of callchain.go, a span, the deadline of
// callctx.go and the timing, panic recovery, the payload-kind check, and classifies how
// it ended), spans (observe.go) and the Go plugins of a foreign run's go
// steps (foreign.go, [ExecGo]). Every decision it acts on comes from package engine.
package host
