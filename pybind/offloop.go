package pybind

import (
	"math"
	"os"
	"strconv"
	"time"

	"github.com/cpex-go/cpex/core"
)

// Where Go work runs for a Python caller (DESIGN.md, "The boundary"; docs/protocol.md,
// "async"): on the event loop's thread (a plain call, cheapest) unless it is expected to
// stall the loop for longer than the budget, then off it (RunGoStart: a goroutine and a
// pipe the loop watches, ~40–65 µs of the loop's CPU and ~150 µs more latency). The
// expectation is a running estimate of what the same work cost before (core.LoopCost):
// per plan and go step for runs, per plugin for direct calls, measured on both paths. A
// step with a plugin that declares itself I/O-bound (core.Blocking) always goes off it.
// bench/loopstall.py measures the stall a concurrent request sees.

// loopBudget is core.LoopStallBudget unless CPEX_LOOP_STALL_BUDGET_US says otherwise
// (microseconds; 0 sends all Go work off the loop): for measurements, read once.
var loopBudget = budgetFromEnv(os.Getenv("CPEX_LOOP_STALL_BUDGET_US"))

func budgetFromEnv(v string) time.Duration {
	if us, err := strconv.ParseFloat(v, 64); err == nil && us >= 0 && us < 1e9 {
		return time.Duration(us * float64(time.Microsecond))
	}
	return core.LoopStallBudget
}

// offLoopFrom is the "async" value of work with this cost estimate made of n Go plugins.
func offLoopFrom(cost *core.LoopCost, n int, blocking bool) int {
	if blocking || loopBudget <= 0 {
		return 0
	}
	return cost.OffLoopFrom(loopBudget, core.PriorNsPerByte*float64(max(n, 1)))
}

// goStepCost is the estimate of a go step that starts at plan index first (-1: none).
func (re *runEntry) goStepCost(first int) *core.LoopCost {
	if re.plan == nil || first < 0 {
		st.mu.Lock()
		r := st.refs[re.refID]
		st.mu.Unlock()
		if r == nil { // released meanwhile: measure into a throwaway
			return new(core.LoopCost)
		}
		return &r.cost
	}
	return &re.plan.costs[first]
}

// asyncValue is the "async" of a go step of the Go plugins idx: the payload JSON length
// from which Python runs it off the loop.
func (re *runEntry) asyncValue(idx []int) int {
	p := re.run.Plan()
	for _, i := range idx {
		if pl := p.Refs[i].Plugin; pl != nil && core.IsBlocking(pl) {
			return 0
		}
	}
	first := -1
	if len(idx) > 0 {
		first = idx[0]
	}
	return min(offLoopFrom(re.goStepCost(first), len(idx), false), math.MaxInt32)
}
