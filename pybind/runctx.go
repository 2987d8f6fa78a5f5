package pybind

import (
	"context"
	"sync"
)

// runContext is the context of a run's Go work: the parent of every Go plugin call's
// context (core gives each call its own child). RunAbort cancels it, so Go work in
// flight for a Python caller that was cancelled (e.g. a Redis round trip of
// builtin/rate_limiter started by RunGoStart) stops instead of running to its timeout;
// the run's end cancels it too. Made on the first go step only: runs of Python plugins
// never pay for it. It has its own lock because a RunGoStart holds the run's for as long
// as the Go work runs, and that is exactly when RunAbort must get through.
type runContext struct {
	mu     sync.Mutex
	ctx    context.Context
	cancel context.CancelFunc
	ended  bool
}

// get answers the run's context; after end, an already cancelled one.
func (rc *runContext) get() context.Context {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	if rc.ctx == nil {
		rc.ctx, rc.cancel = context.WithCancel(context.Background())
		if rc.ended {
			rc.cancel()
		}
	}
	return rc.ctx
}

// end cancels the run's context (RunAbort, or the run finished).
func (rc *runContext) end() {
	rc.mu.Lock()
	rc.ended = true
	cancel := rc.cancel
	rc.mu.Unlock()
	if cancel != nil {
		cancel()
	}
}
