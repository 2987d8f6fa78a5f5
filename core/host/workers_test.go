package host

import (
	"sync"
	"testing"

	"github.com/stretchr/testify/require"
)

// A burst never waits for a worker: every call of it runs at once, each on a worker of
// its own (the calls below only return when all of them have started).
func TestGoWorkRunsABurstAtOnce(t *testing.T) {
	const n = 64
	var started, done sync.WaitGroup
	started.Add(n)
	done.Add(n)
	release := make(chan struct{})
	for i := 0; i < n; i++ {
		goWork(func() {
			defer done.Done()
			started.Done()
			<-release
		})
	}
	started.Wait()
	close(release)
	done.Wait()
}

// Workers are reused: calls made one after another all run, in order, on whatever
// worker is idle, and each sees its own values.
func TestGoWorkRunsCallsOneAfterAnother(t *testing.T) {
	got := make([]int, 0, 100)
	var mu sync.Mutex
	for i := 0; i < 100; i++ {
		ran := make(chan struct{})
		goWork(func() {
			mu.Lock()
			got = append(got, i)
			mu.Unlock()
			close(ran)
		})
		<-ran
	}
	want := make([]int, 100)
	for i := range want {
		want[i] = i
	}
	require.Equal(t, want, got)
}
