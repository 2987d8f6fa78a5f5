package core

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
// chain of cheap guards would pay per plugin. Here the timer and the hook on the parent
// are armed only when the plugin asks for Done; Err and Deadline are answered from the
// clock and an atomic state word. One allocation per call.
type callCtx struct {
	// set by init before the plugin sees the context, read-only afterwards
	parent      context.Context
	own         int64 // nanotime deadline: call start + the executor's timeout
	parentDl    time.Time
	hasParentDl bool

	state atomic.Uint32 // ctxLive, or why it ended (first cause wins)
	armed atomic.Bool   // Done was called: a channel (and maybe a timer) exists

	mu     sync.Mutex // guards the fields below
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
	c := &callCtx{parent: parent, own: now + int64(d)}
	c.parentDl, c.hasParentDl = parent.Deadline()
	return c
}

// Deadline is the earlier of the call's deadline and the parent's.
func (c *callCtx) Deadline() (time.Time, bool) {
	own := monoToTime(c.own)
	if c.hasParentDl && c.parentDl.Before(own) {
		return c.parentDl, true
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
	if c.armed.Load() {
		return c.done // written before armed was set, never again
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.done != nil {
		return c.done
	}
	c.done = make(chan struct{})
	c.armed.Store(true)
	// A cancel that stored its state before armed became visible may have skipped the
	// close (it saw no channel): close it here (the other order is cancel's job).
	if c.state.Load() != ctxLive {
		c.closeLocked()
		return c.done
	}
	c.timer = time.AfterFunc(time.Duration(c.own-nanotime()), func() { c.cancel(ctxDeadline) })
	if c.parent.Done() != nil {
		c.stopP = context.AfterFunc(c.parent, func() { c.cancel(stateOf(c.parent.Err())) })
	}
	return c.done
}

// cancel ends the context with state s unless it already ended; answers the cause that
// stands. State first, then the armed check (and Done does the reverse): with
// sequentially consistent atomics one of the two sees the other, so Done is always
// closed, and closed is what keeps it from being closed twice.
func (c *callCtx) cancel(s uint32) error {
	if !c.state.CompareAndSwap(ctxLive, s) {
		return errOf(c.state.Load())
	}
	if c.armed.Load() {
		c.mu.Lock()
		c.closeLocked()
		c.mu.Unlock()
	}
	return errOf(s)
}

func (c *callCtx) closeLocked() {
	if c.closed {
		return
	}
	c.closed = true
	close(c.done)
	if c.timer != nil {
		c.timer.Stop()
	}
	if c.stopP != nil {
		c.stopP()
	}
}

// release ends the context when the call returned (the cancel of context.WithTimeout):
// a plugin that kept it sees Canceled from now on, its timer and parent hook are gone.
// For a call that never asked for Done this is one compare-and-swap.
func (c *callCtx) release() { c.cancel(ctxCanceled) }
