package host

import (
	"strings"
	"testing"
	"time"

	"github.com/cpex-go/cpex/core/plugin"
	"github.com/stretchr/testify/assert"
)

// The executor's clock: monotonic readings, never 0 (the Go driver's "no reading").
func TestNanotimeIsPositiveAndMonotonic(t *testing.T) {
	prev := nanotime()
	assert.Positive(t, prev)
	for range 1000 {
		now := nanotime()
		assert.GreaterOrEqual(t, now, prev)
		prev = now
	}
}

func TestMonoToTime(t *testing.T) {
	cases := []struct {
		name string
		d    time.Duration
	}{
		{"now", 0},
		{"one nanosecond later", time.Nanosecond},
		{"the default timeout later", plugin.DefaultTimeout * time.Second},
		{"an hour earlier", -time.Hour},
	}
	base := nanotime()
	at := monoToTime(base)
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got := monoToTime(base + int64(tc.d))
			// Differences between two instants are exact: both carry the monotonic reading.
			assert.Equal(t, tc.d, got.Sub(at))
			assert.Contains(t, got.String(), " m=", "a deadline keeps its monotonic reading")
		})
	}
	// A deadline built from the clock orders like one built with time.Now.
	soon := monoToTime(nanotime() + int64(time.Hour))
	assert.True(t, time.Now().Before(soon))
	assert.False(t, strings.HasPrefix(soon.String(), "0001-"), "wall time is set")
}

// BenchmarkNanotime: the executor reads the clock at every plugin boundary.
func BenchmarkNanotime(b *testing.B) {
	var sum int64
	for b.Loop() {
		sum += nanotime()
	}
	_ = sum
}
