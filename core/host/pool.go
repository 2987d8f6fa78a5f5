package host

import (
	"context"

	"github.com/cpex-go/cpex/core/engine"
)

// A pool bounds how many of a phase's plugin goroutines run at once (the caller's
// execution pool, engine.PoolBound): nil when there is no bound.
type pool chan struct{}

func newPool(size, n int) pool {
	if b := engine.PoolBound(size, n); b > 0 {
		return make(pool, b)
	}
	return nil
}

// enter takes a slot unless ctx ends first (a cancelled phase starts nothing more).
func (p pool) enter(ctx context.Context) bool {
	if p == nil {
		return true
	}
	select {
	case p <- struct{}{}:
		return true
	case <-ctx.Done():
		return false
	}
}

// leave gives the slot back.
func (p pool) leave() {
	if p != nil {
		<-p
	}
}
