package host

import "time"

// Plugin calls that run on goroutines of their own (the concurrent phase, fire-and-forget
// tasks, the Go plugins of a foreign run's concurrent step) run on workers that are kept
// after their call. A fresh goroutine starts on the smallest stack, a plugin call's
// frames outgrow it, and the runtime then copies the stack: that copy was a fifth of
// InvokeAllModes. A worker has already grown its stack for the calls before. An idle
// worker waits workerIdle for the next call and then exits: nothing stays behind when
// nothing runs, and a burst makes as many workers as it needs.

// workerIdle is how long an idle worker waits for a call before it exits.
const workerIdle = 5 * time.Second

// handoff passes a call to an idle worker; unbuffered, so a send succeeds only when a
// worker is waiting for it.
var handoff = make(chan func())

// goWork runs f on an idle worker, or on a new one when none is idle. f must not panic
// (the callers' calls recover their plugin's panics).
func goWork(f func()) {
	select {
	case handoff <- f:
	default:
		go work(f)
	}
}

func work(f func()) {
	f()
	idle := time.NewTimer(workerIdle)
	defer idle.Stop()
	for {
		select {
		case f = <-handoff:
			f()
			idle.Reset(workerIdle)
		case <-idle.C:
			return
		}
	}
}
