package engine

import (
	"math"
	"sync"
	"time"
)

// Whether a foreign driver runs a piece of Go work on its event loop or off it is decided
// by the stall it would cause (DESIGN.md, "The boundary"; goal: no Go guard call stalls
// the loop for more than 1 ms at p99), estimated from what the same work cost before,
// not by a payload size tuned for one benchmark.

// LoopStallBudget is the longest a Go step may be expected to hold the caller's thread
// and still run there. Half the 1 ms goal: the estimate is of typical runs, and on a
// busy machine a CPU-bound call can take twice its typical time (bench/loopstall.py
// measures the resulting p99).
const LoopStallBudget = 500 * time.Microsecond

// PriorNsPerByte is the cost per payload byte assumed for a Go plugin before any of its
// runs was measured: ~50 MB/s, a few times slower than the slowest built-in guard
// measured here with the payload decode (pii_filter, ~150 MB/s alone), so that the very
// first call of a chain on a large payload already goes off the loop.
const PriorNsPerByte = 20.0

// loopCostMinBytes: runs on smaller payloads teach the fixed cost, larger ones the cost
// per byte (below it the fixed part of a run dominates and would inflate the rate).
const loopCostMinBytes = 4096

// LoopCost is a running estimate of the wall time of one piece of Go work (e.g. a go
// step of a plan) as fixed + perByte × payload bytes. Estimates rise at once toward a
// slower run (half way) and decay slowly toward faster ones (1/16 per run): erring
// toward "off the loop", where a mistake costs tens of microseconds, not milliseconds.
// The zero value knows nothing (OffLoopFrom then uses the prior). Safe for concurrent use.
type LoopCost struct {
	mu      sync.Mutex
	fixed   float64 // ns per run, from runs on small payloads
	perByte float64 // ns per payload byte beyond fixed, from runs on large ones
	learned bool    // perByte was measured
}

func track(cur, x float64) float64 {
	if x > cur {
		return cur + (x-cur)/2
	}
	return cur + (x-cur)/16
}

// Observe records a run of the work on n payload bytes that took ns nanoseconds.
func (c *LoopCost) Observe(n int, ns int64) {
	if ns < 0 || n < 0 {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if n < loopCostMinBytes {
		c.fixed = track(c.fixed, float64(ns))
		return
	}
	rate := math.Max(0, float64(ns)-c.fixed) / float64(n)
	if !c.learned {
		c.perByte, c.learned = rate, true
		return
	}
	c.perByte = track(c.perByte, rate)
}

// OffLoopFrom answers the payload length from which the work is expected to stall the
// loop for more than budget: 0 when even a small payload would; prior is the cost per
// byte to assume until a run on a large payload was measured.
func (c *LoopCost) OffLoopFrom(budget time.Duration, prior float64) int {
	c.mu.Lock()
	fixed, rate := c.fixed, c.perByte
	if !c.learned {
		rate = prior
	}
	c.mu.Unlock()
	room := float64(budget) - fixed
	if room <= 0 {
		return 0
	}
	if rate <= 0 {
		return math.MaxInt32
	}
	return int(math.Min(room/rate, math.MaxInt32))
}
