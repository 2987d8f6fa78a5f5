package host

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The call context honours the context.Context contract on every path: released,
// expired, parent cancelled; Done asked before or after; Err and Done agree.

func closed(ch <-chan struct{}) bool {
	select {
	case <-ch:
		return true
	default:
		return false
	}
}

func TestCallCtxReleaseCancels(t *testing.T) {
	for _, armFirst := range []bool{false, true} {
		c := newCallCtx(context.Background(), nanotime(), time.Hour)
		if armFirst {
			require.False(t, closed(c.Done()))
		}
		require.NoError(t, c.Err())
		c.release()
		assert.ErrorIs(t, c.Err(), context.Canceled, "armed first: %v", armFirst)
		assert.True(t, closed(c.Done()), "a released context is Done (armed first: %v)", armFirst)
		c.release() // idempotent, as a CancelFunc
		assert.ErrorIs(t, c.Err(), context.Canceled)
	}
}

func TestCallCtxDeadline(t *testing.T) {
	c := newCallCtx(context.Background(), nanotime(), -time.Nanosecond) // already past
	d, ok := c.Deadline()
	assert.True(t, ok)
	assert.False(t, d.After(time.Now()))
	assert.ErrorIs(t, c.Err(), context.DeadlineExceeded)
	assert.True(t, closed(c.Done()), "Err saw the deadline: Done agrees")
	c.release()
	assert.ErrorIs(t, c.Err(), context.DeadlineExceeded, "the first cause stands")

	c = newCallCtx(context.Background(), nanotime(), time.Millisecond)
	<-c.Done() // the lazily armed timer fires
	assert.ErrorIs(t, c.Err(), context.DeadlineExceeded)
}

func TestCallCtxParent(t *testing.T) {
	parent, cancel := context.WithCancel(context.WithValue(context.Background(), ctxKey{}, "v"))
	c := newCallCtx(parent, nanotime(), time.Hour)
	assert.Equal(t, "v", c.Value(ctxKey{}))
	done := c.Done()
	cancel()
	<-done // the parent's cancellation reaches an armed context
	assert.ErrorIs(t, c.Err(), context.Canceled)

	parent, cancel = context.WithCancel(context.Background())
	c = newCallCtx(parent, nanotime(), time.Hour)
	cancel()
	assert.ErrorIs(t, c.Err(), context.Canceled, "an unarmed context asks its parent")
	assert.True(t, closed(c.Done()))

	early, cancelEarly := context.WithTimeout(context.Background(), time.Minute)
	defer cancelEarly()
	c = newCallCtx(early, nanotime(), time.Hour)
	d, _ := c.Deadline()
	pd, _ := early.Deadline()
	assert.Equal(t, pd, d, "the parent's earlier deadline wins")
}

type ctxKey struct{}

// Done, Err and release from several goroutines at once: run with -race; Done must be
// closed exactly once whatever the order.
func TestCallCtxConcurrentDoneAndRelease(t *testing.T) {
	for i := 0; i < 2000; i++ {
		c := newCallCtx(context.Background(), nanotime(), time.Hour)
		var wg sync.WaitGroup
		wg.Add(3)
		go func() { defer wg.Done(); <-c.Done() }()
		go func() { defer wg.Done(); _ = c.Err(); _, _ = c.Deadline() }()
		go func() { defer wg.Done(); c.release() }()
		wg.Wait()
		require.ErrorIs(t, c.Err(), context.Canceled)
	}
}
