package core

import (
	"context"
	"sync"
)

// Background tracks the fire-and-forget plugins one hook call started (upstream
// PluginResult.background_tasks).
type Background struct {
	wg   sync.WaitGroup
	mu   sync.Mutex
	errs []*PluginError
}

func (b *Background) fail(e *PluginError) {
	b.mu.Lock()
	b.errs = append(b.errs, e)
	b.mu.Unlock()
}

// Wait waits for the tasks (or ctx) and returns the errors of the tasks that failed or
// timed out (upstream wait_for_background_tasks). A nil Background has none.
func (b *Background) Wait(ctx context.Context) ([]*PluginError, error) {
	if b == nil {
		return nil, nil
	}
	done := make(chan struct{})
	go func() { b.wg.Wait(); close(done) }()
	select {
	case <-done:
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	return append([]*PluginError(nil), b.errs...), nil
}
