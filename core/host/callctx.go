package host

import (
	"context"
	"sync"
	"sync/atomic"
	"time"
)

// callCtx is the context of one Go plugin call: a child of the run's context with the
// call's deadline (start + the executor's timeout), cancelled when the call returns, as
// context.WithTimeout + cancel would be. Every call gets a new one: a plugin that keeps
// its ctx sees it Done with Canceled (or DeadlineExceeded) once the call ended, never the
// state of a later call.
//
// Hand-rolled for cost, not semantics: context.WithTimeout arms a runtime timer and
// registers with its parent on every call (several allocations and a lock), which a
// chain of cheap guards would pay per plugin. Here the channel, the timer and the hook on
// the parent are made only when the plugin asks for Done; Err and Deadline are answered
// from the clock and an atomic state word. A callCtx is small and holds no lock, so the
// Go driver keeps one per plan index in the run's slab (never reused by another call).
type callCtx struct {
	// set by init before the plugin sees the context, read-only afterwards
	parent context.Context
	own    int64 // nanotime deadline: call start + the executor's timeout

	state atomic.Uint32            // ctxLive, or why it ended (first cause wins)
	lazy  atomic.Pointer[ctxArmed] // made by the first Done
}

// ctxArmed is what Done needs: made once per context, only when asked for.
type ctxArmed struct {
	mu     sync.Mutex
	done   chan struct{}
	closed bool
	timer  *time.Timer
	stopP  func() bool
}

const (
	ctxLive uint32 = iota
	ctxCanceled
	ctxDeadline
)

func stateOf(err error) uint32 {
	if err == context.DeadlineExceeded {
		return ctxDeadline
	}
	return ctxCanceled
}

func errOf(s uint32) error {
	switch s {
	case ctxCanceled:
		return context.Canceled
	case ctxDeadline:
		return context.DeadlineExceeded
	}
	return nil
}

// newCallCtx starts the context of a call that started at now (nanotime) and may last d.
func newCallCtx(parent context.Context, now int64, d time.Duration) *callCtx {
	c := new(callCtx)
	c.init(parent, now, d)
	return c
}

// init starts c, which must be a zero callCtx no plugin has seen.
func (c *callCtx) init(parent context.Context, now int64, d time.Duration) {
	c.parent, c.own = parent, now+int64(d)
}

// Deadline is the earlier of the call's deadline and the parent's.
func (c *callCtx) Deadline() (time.Time, bool) {
	own := monoToTime(c.own)
	if pd, ok := c.parent.Deadline(); ok && pd.Before(own) {
		return pd, true
	}
	return own, true
}

func (c *callCtx) Value(key any) any { return c.parent.Value(key) }

// Err reports the first cause that ended the call; a cause noticed here (the parent
// ended, the deadline passed) also closes Done, so Err and Done never disagree.
func (c *callCtx) Err() error {
	if s := c.state.Load(); s != ctxLive {
		return errOf(s)
	}
	if err := c.parent.Err(); err != nil {
		return c.cancel(stateOf(err))
	}
	if nanotime() >= c.own {
		return c.cancel(ctxDeadline)
	}
	return nil
}

func (c *callCtx) Done() <-chan struct{} {
	if a := c.lazy.Load(); a != nil {
		return a.done
	}
	a := &ctxArmed{done: make(chan struct{})}
	if !c.lazy.CompareAndSwap(nil, a) {
		return c.lazy.Load().done // another goroutine armed it first
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	switch {
	case a.closed: // a cancel got here first
	case c.state.Load() != ctxLive:
		// A cancel that stored its state before a was visible skipped the close: close
		// it here (the other order is cancel's job).
		a.closeLocked()
	default:
		a.timer = time.AfterFunc(time.Duration(c.own-nanotime()), func() { c.cancel(ctxDeadline) })
		if c.parent.Done() != nil {
			a.stopP = context.AfterFunc(c.parent, func() { c.cancel(stateOf(c.parent.Err())) })
		}
	}
	return a.done
}

// cancel ends the context with state s unless it already ended; answers the cause that
// stands. State first, then the lazy part (Done does the reverse): with sequentially
// consistent atomics one of the two sees the other, so Done is always closed, and
// closed keeps it from being closed twice (or armed after the close).
func (c *callCtx) cancel(s uint32) error {
	if !c.state.CompareAndSwap(ctxLive, s) {
		return errOf(c.state.Load())
	}
	if a := c.lazy.Load(); a != nil {
		a.mu.Lock()
		a.closeLocked()
		a.mu.Unlock()
	}
	return errOf(s)
}

func (a *ctxArmed) closeLocked() {
	if a.closed {
		return
	}
	a.closed = true
	close(a.done)
	if a.timer != nil {
		a.timer.Stop()
	}
	if a.stopP != nil {
		a.stopP()
	}
}

// release ends the context when the call returned (the cancel of context.WithTimeout):
// a plugin that kept it sees Canceled from now on, its timer and parent hook are gone.
// For a call that never asked for Done this is one compare-and-swap.
func (c *callCtx) release() {
	if c.state.CompareAndSwap(ctxLive, ctxCanceled) {
		if a := c.lazy.Load(); a != nil {
			a.mu.Lock()
			a.closeLocked()
			a.mu.Unlock()
		}
	}
}
