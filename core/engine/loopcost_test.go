package engine

import (
	"math"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
)

func TestLoopCostPriorThenLearned(t *testing.T) {
	var c LoopCost
	assert.Equal(t, 10_000, c.OffLoopFrom(time.Millisecond, 100), "unmeasured: the prior (1 ms at 100 ns/B)")

	c.Observe(1<<20, int64(1<<20)*5) // 1 MiB at 5 ns/B
	assert.Equal(t, 200_000, c.OffLoopFrom(time.Millisecond, 100), "measured: the prior no longer counts")

	c.Observe(1<<20, int64(1<<20)*45) // a slower run: half way up at once
	assert.Equal(t, 40_000, c.OffLoopFrom(time.Millisecond, 100))
	for i := 0; i < 200; i++ {
		c.Observe(1<<20, int64(1<<20)*5)
	}
	assert.InDelta(t, 200_000, c.OffLoopFrom(time.Millisecond, 100), 2_000, "and back down slowly")
}

func TestLoopCostFixedPart(t *testing.T) {
	var c LoopCost
	c.Observe(100, int64(4*time.Millisecond)) // a slow call on a tiny payload
	assert.Equal(t, 0, c.OffLoopFrom(time.Millisecond, 1), "a fixed cost above the budget: always off the loop")

	var d LoopCost
	d.Observe(100, int64(200*time.Microsecond))
	d.Observe(100, int64(200*time.Microsecond))
	d.Observe(100_000, int64(150*time.Microsecond)+100_000*2) // fixed ~150 µs + 2 ns/B
	got := d.OffLoopFrom(time.Millisecond, 100)
	assert.Greater(t, got, 300_000)
	assert.Less(t, got, 500_000)
}

func TestLoopCostEdges(t *testing.T) {
	var c LoopCost
	assert.Equal(t, math.MaxInt32, c.OffLoopFrom(time.Millisecond, 0), "free work never leaves the loop")
	c.Observe(-1, 5)
	c.Observe(5, -1)
	assert.Equal(t, 10, c.OffLoopFrom(1000, 100), "nonsense observations are ignored")
}
