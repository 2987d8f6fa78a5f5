package series

import (
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestObserveFillsTheBucketOfEachBound(t *testing.T) {
	tests := []struct {
		name   string
		ns     int64
		bucket int // index of the first bound it falls under; len(DurationBounds) = +Inf
	}{
		{"zero", 0, 0},
		{"negative clamps to zero", -5, 0},
		{"on the first bound", 5_000, 0},
		{"just above it", 5_001, 1},
		{"one millisecond", 1_000_000, 7},
		{"one second", 1_000_000_000, 16},
		{"above the last bound", 31_000_000_000, len(DurationBounds)},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := NewRegistry()
			r.Call("p", "h").Observe(Allowed, tc.ns)
			s := r.Snapshot()
			require.Len(t, s.Calls, 1)
			h := s.Calls[0].Latency
			assert.Equal(t, uint64(1), h.Count)
			for i, c := range h.Counts {
				want := uint64(0)
				if i >= tc.bucket {
					want = 1
				}
				assert.Equal(t, want, c, "bucket le=%g", DurationBounds[i])
			}
		})
	}
}

func TestSnapshotIsSortedAndCountsOutcomes(t *testing.T) {
	r := NewRegistry()
	r.Call("b", "h1").Observe(Blocked, 10)
	r.Call("a", "h2").Observe(Modified, 20)
	r.Call("a", "h1").Count(SkippedCondition)
	r.Call("a", "h1").Count(Disabled)
	r.Hook("h1").Observe(1500, 3)
	s := r.Snapshot()
	require.Len(t, s.Calls, 3)
	assert.Equal(t, [][2]string{{"a", "h1"}, {"a", "h2"}, {"b", "h1"}},
		[][2]string{{s.Calls[0].Plugin, s.Calls[0].Hook}, {s.Calls[1].Plugin, s.Calls[1].Hook}, {s.Calls[2].Plugin, s.Calls[2].Hook}})
	assert.Equal(t, uint64(1), s.Calls[0].Calls[SkippedCondition])
	assert.Equal(t, uint64(1), s.Calls[0].Calls[Disabled])
	assert.Equal(t, uint64(0), s.Calls[0].Latency.Count, "a skip has no latency")
	assert.Equal(t, uint64(1), s.Calls[2].Calls[Blocked])
	assert.InDelta(t, 20e-9, s.Calls[1].Latency.Sum, 1e-15)
	require.Len(t, s.Hooks, 1)
	assert.Equal(t, uint64(1), s.Hooks[0].Duration.Count)
	// chain of 3: not under le=0,1,2; under le=3 and above
	assert.Equal(t, []uint64{0, 0, 0, 1, 1, 1, 1, 1}, s.Hooks[0].Chain.Counts)
	assert.Equal(t, float64(3), s.Hooks[0].Chain.Sum)
	assert.Equal(t, []string{"allowed", "blocked", "modified", "error", "timeout", "skipped_condition", "disabled"}, s.Outcomes)
}

func TestSameKeySameSeries(t *testing.T) {
	r := NewRegistry()
	assert.Same(t, r.Call("p", "h"), r.Call("p", "h"))
	assert.NotSame(t, r.Call("p", "h"), r.Call("p", "h2"))
	assert.Same(t, r.Hook("h"), r.Hook("h"))
}

func TestConcurrentObserversLoseNothing(t *testing.T) {
	r := NewRegistry()
	c := r.Call("p", "h")
	var wg sync.WaitGroup
	for g := 0; g < 8; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 1000; i++ {
				c.Observe(Allowed, int64(i))
			}
		}()
	}
	wg.Wait()
	s := r.Snapshot()
	assert.Equal(t, uint64(8000), s.Calls[0].Calls[Allowed])
	assert.Equal(t, uint64(8000), s.Calls[0].Latency.Count)
}

func TestOutcomeString(t *testing.T) {
	assert.Equal(t, "skipped_condition", SkippedCondition.String())
	assert.Equal(t, "unknown", Outcome(200).String())
	assert.Len(t, Outcomes(), NumOutcomes)
}

// BenchmarkS6Counting: what metrics add to one S6 hook call (10 plugins): ten call
// observations and one hook observation (the run's two clock reads are not included).
func BenchmarkS6Counting(b *testing.B) {
	r := NewRegistry()
	calls := make([]*Call, 10)
	for i := range calls {
		calls[i] = r.Call(string(rune('a'+i)), "tool_pre_invoke")
	}
	h := r.Hook("tool_pre_invoke")
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		for _, c := range calls {
			c.Observe(Allowed, 120)
		}
		h.Observe(3500, 10)
	}
}

// FuzzObserve: durations come from outside (a Python driver's "dur"); whatever they
// are, a snapshot stays a valid Prometheus histogram: cumulative buckets never
// decrease, the +Inf count equals the calls that ran, the chain count the hook calls.
func FuzzObserve(f *testing.F) {
	f.Add(int64(0), int64(1500), 3, uint8(0))
	f.Add(int64(-1), int64(1<<62), 70, uint8(6))
	f.Fuzz(func(t *testing.T, a, b int64, n int, o uint8) {
		r := NewRegistry()
		c := r.Call("p", "h")
		out := Outcome(o % NumOutcomes)
		c.Observe(out, a)
		c.Observe(Allowed, b)
		r.Hook("h").Observe(a, n)
		s := r.Snapshot()
		cs := s.Calls[0]
		var total uint64
		for _, k := range cs.Calls {
			total += k
		}
		require.Equal(t, uint64(2), total)
		ran := uint64(1)
		if int(out) < timedOutcomes {
			ran = 2
		}
		require.Equal(t, ran, cs.Latency.Count)
		for _, h := range []HistogramSnapshot{cs.Latency, s.Hooks[0].Duration, s.Hooks[0].Chain} {
			prev := uint64(0)
			for _, k := range h.Counts {
				require.GreaterOrEqual(t, k, prev)
				prev = k
			}
			require.GreaterOrEqual(t, h.Count, prev)
		}
		require.Equal(t, uint64(1), s.Hooks[0].Chain.Count)
		require.GreaterOrEqual(t, cs.Latency.Sum, 0.0, "no overflow")
		require.LessOrEqual(t, cs.Latency.Sum, 2*float64(maxNs)*1e-9)
	})
}
