// Package engine holds the executor's rules, once, for every host: a hook call is a
// [Run] (run.go), a state machine that answers each reported [Outcome] with the next
// [Step] (step.go: one part per operation). It plans calls (plan.go, executor.go, the
// plan cache), decides payload policies and cross-type results (step_returned.go,
// policy.go), matches conditions (conditions.go, condition_facts.go), measures the
// size guard (size.go), answers fire-and-forget failures (step_faf.go), replays batches
// of plain outcomes (batch.go) and tells a foreign driver where core runs Go plugins
// itself (gostep.go). It starts no goroutine and does no I/O: the hosts (core/host for
// Go callers, pybind for Python) run the plugins and report what happened.
package engine
