package host

import (
	"context"
	"sync"

	"github.com/cpex-go/cpex/core/plugin"
)

// HookResult is the outcome of InvokeHook (upstream PluginResult). Every call returns a
// value of its own, which the caller may keep and change (InvokeHookInto writes into
// one the caller hands back instead).
type HookResult struct {
	// ContinueProcessing is false when a sequential or concurrent plugin blocked.
	ContinueProcessing bool
	// ModifiedPayload is the chained payload when at least one modification was
	// accepted, else nil. On a halt it is the payload before the blocker.
	ModifiedPayload *plugin.Payload
	// Violation is the blocker's violation (PluginName stamped), nil otherwise.
	Violation *plugin.Violation
	// Metadata merges the metadata of every plugin that ran (later ones win), without
	// the reserved key _decision_plugin, which the executor sets itself for
	// http_auth_check_permission. Nil when there is none.
	Metadata map[string]any
	// RetryDelayMs is the largest retry_delay_ms asked for; 0 on a halt.
	RetryDelayMs int
	// Executions has one record per evaluated plugin, in execution order.
	Executions []plugin.ExecutionRecord
	// Background tracks the fire-and-forget plugins started by this call (nil when
	// none). Manager.Shutdown waits for them too.
	Background *Background
}

// Background tracks the fire-and-forget plugins one hook call started (upstream
// PluginResult.background_tasks).
type Background struct {
	wg   sync.WaitGroup
	mu   sync.Mutex
	errs []*plugin.PluginError
}

func (b *Background) fail(e *plugin.PluginError) {
	b.mu.Lock()
	b.errs = append(b.errs, e)
	b.mu.Unlock()
}

// Wait waits for the tasks (or ctx) and returns the errors of the tasks that failed or
// timed out (upstream wait_for_background_tasks). A nil Background has none.
func (b *Background) Wait(ctx context.Context) ([]*plugin.PluginError, error) {
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
	return append([]*plugin.PluginError(nil), b.errs...), nil
}
