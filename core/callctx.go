package core

import (
	"context"
	"sync"
	"sync/atomic"
	"time"
)

// callCtx is the context of one Go plugin call: the parent plus the manager's
// deadline. context.WithTimeout costs a timer and two allocations per call, which a
// chain of cheap plugins cannot afford, so the timer here is armed only when the
// plugin asks for Done(); plugins that never block never pay for it. Err and Deadline
// are answered from the clock.
type callCtx struct {
	parent      context.Context
	own         int64 // nanotime deadline: call start + the manager's timeout
	parentDl    time.Time
	hasParentDl bool

	armed atomic.Bool // Done was called: a timer (and maybe a parent hook) is live
	mu    sync.Mutex
	done  chan struct{}
	timer *time.Timer
	stopP func() bool
	err   error
}

func (c *callCtx) init(parent context.Context, now int64, d time.Duration) {
	c.parent, c.own = parent, now+int64(d)
	c.parentDl, c.hasParentDl = parent.Deadline()
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

func (c *callCtx) Err() error {
	c.mu.Lock()
	err := c.err
	c.mu.Unlock()
	if err != nil {
		return err
	}
	if err := c.parent.Err(); err != nil {
		return err
	}
	if nanotime() >= c.own {
		return context.DeadlineExceeded
	}
	return nil
}

func (c *callCtx) Done() <-chan struct{} {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.done == nil {
		c.done = make(chan struct{})
		if c.err != nil {
			close(c.done)
			return c.done
		}
		c.timer = time.AfterFunc(time.Duration(c.own-nanotime()), func() { c.cancel(context.DeadlineExceeded) })
		if c.parent.Done() != nil {
			c.stopP = context.AfterFunc(c.parent, func() { c.cancel(c.parent.Err()) })
		}
		c.armed.Store(true)
	}
	return c.done
}

func (c *callCtx) cancel(err error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.err != nil {
		return
	}
	c.err = err
	if c.done != nil {
		close(c.done)
	}
}

// release stops the timer and marks the context cancelled once the call returned (a
// plugin must not keep using it). A call that never asked for Done has nothing to
// release: that is the common case and costs one atomic load.
func (c *callCtx) release() {
	if !c.armed.Load() {
		return
	}
	c.mu.Lock()
	t, stop := c.timer, c.stopP
	armed := c.done != nil
	c.mu.Unlock()
	if !armed {
		return
	}
	if t != nil {
		t.Stop()
	}
	if stop != nil {
		stop()
	}
	c.cancel(context.Canceled)
}

// reuse readies c for the next call of a chain: only a context that was armed holds
// state the next call must not see (done, timer and err are set only once armed; init
// overwrites the rest).
func (c *callCtx) reuse() {
	if c.armed.Load() {
		*c = callCtx{}
	}
}
