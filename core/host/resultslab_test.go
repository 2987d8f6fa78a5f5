package host

import (
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Results come from shared chunks: each must still be a zero value of the caller's own,
// also when many goroutines take results at once (run with -race).
func TestNewResultIsZeroAndDistinct(t *testing.T) {
	const goroutines, each = 8, 3 * resultChunkLen
	got := make([][]*HookResult, goroutines)
	var wg sync.WaitGroup
	for g := range goroutines {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range each {
				r := newResult()
				require.Equal(t, HookResult{}, *r)
				r.RetryDelayMs = g // the caller may write it: nobody else sees the write
				got[g] = append(got[g], r)
			}
		}()
	}
	wg.Wait()
	seen := map[*HookResult]bool{}
	for g, rs := range got {
		for _, r := range rs {
			assert.False(t, seen[r], "a result handed out twice")
			seen[r] = true
			assert.Equal(t, g, r.RetryDelayMs, "another caller's write reached this result")
		}
	}
}

func TestAllowResultsAreNotShared(t *testing.T) {
	a, b := allowResult(), allowResult()
	require.NotSame(t, a, b)
	a.Metadata = map[string]any{"k": 1}
	assert.True(t, b.ContinueProcessing)
	assert.Nil(t, b.Metadata)
}
