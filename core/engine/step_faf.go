package engine

import (
	"fmt"

	"github.com/cpex-go/cpex/core/metrics/series"
)

// Fire-and-forget tasks (spec §11.9) run after their run ended, so no step follows
// them: the rules that concern them are answered here, for both hosts. The run's done
// step says which plugins to spawn (Step.FAF) on which payload (always the original one
// the hook was called with: Step.FAFOriginal), and how many may run at once
// (PoolBound); a task that fails is reported once and answered with a FafVerdict.

// FafVerdict is what a host does with a failed fire-and-forget task: log Log, keep
// Message as the task's error, and Disabled says whether on_error disabled the plugin.
type FafVerdict struct {
	Log      LogEntry
	Message  string
	Disabled bool
}

// FireAndForgetFailure applies on_error to a fire-and-forget task of ref that raised
// or timed out (o: its outcome) and answers the log line and error message.
// The message is the failure's own text (a foreign driver's exception text, which names
// the exception class: spec §11.9 quotes upstream's repr); a timeout that has no text
// of its own (the Go host's deadline) reads as the executor's timeout message.
func (e *Executor) FireAndForgetFailure(ref *Ref, o *Outcome) FafVerdict {
	msg := o.Message
	if msg == "" && (o.Status == OutcomeTimeout || o.Status == OutcomeTimeoutRaised) {
		_, text := e.Timeout()
		msg = timeoutMessage(ref.Name, text)
	}
	return FafVerdict{
		// upstream's line names the plugin only; the failure is in the task's result
		Log:      LogEntry{Level: "error", Message: fmt.Sprintf("Plugin %s failed in fire-and-forget mode (ignored)", ref.Name)},
		Message:  msg,
		Disabled: e.FireAndForgetFailed(ref),
	}
}

// FireAndForgetDone counts a finished fire-and-forget task of ref on hook (o: its
// outcome, with the duration its host measured) in the plugin's call series when
// metrics are on: allowed when it returned (its result is ignored, so it neither
// blocks nor modifies), error or timeout when it failed. The task ran after its run
// ended, so the run cannot count it; one registry lookup per task, which runs on a
// task of its own anyway.
func (e *Executor) FireAndForgetDone(ref *Ref, hook string, o *Outcome) {
	reg := e.metrics.Load()
	if reg == nil {
		return
	}
	out := series.Allowed
	if o.Status != OutcomeOK {
		out = failureOutcome(o.Status)
	}
	reg.Call(ref.Name, hook).Observe(out, o.DurationNs)
}

// PoolBound is how many of n tasks may run at once under the caller's pool size: 0
// (no bound) unless 0 < pool < n (a bound at least n never makes a task wait).
func PoolBound(pool, n int) int {
	if pool > 0 && pool < n {
		return pool
	}
	return 0
}
