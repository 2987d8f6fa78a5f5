package pybind

import (
	"fmt"
	"testing"

	"github.com/cpex-go/cpex/core"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The "async" of a go step follows the expected stall (offloop.go), not a fixed size.

func guardChainPlan(t *testing.T) map[string]any {
	t.Helper()
	exec := mustExec(t)
	var refs []int
	for k, spec := range []string{
		`{"name":"pii","kind":"builtin/pii_filter","hooks":["tool_pre_invoke"],"config":{}}`,
		`{"name":"sec","kind":"builtin/secrets_detection","hooks":["tool_pre_invoke"],"config":{"redact":true}}`,
		`{"name":"rr","kind":"builtin/regex_replace","hooks":["tool_pre_invoke"],"config":{"words":[{"search":"crap","replace":"crud"}]}}`,
		`{"name":"deny","kind":"builtin/deny_list","hooks":["tool_pre_invoke"],"config":{"words":["forbidden"]}}`,
	} {
		id, err := GoPluginNew(spec)
		require.NoError(t, err)
		t.Cleanup(func() { _, _ = GoPluginRelease(id) })
		refs = append(refs, mustRef(t, fmt.Sprint("g", k), "sequential", "fail", k+1, id))
	}
	return plan(t, exec, "tool_pre_invoke", "null", refs...)
}

func TestGoStepOffLoopForALargePayloadOnly(t *testing.T) {
	p := guardChainPlan(t)
	trivial := `{"name":"search","args":{"q":"hello"}}`
	large := `{"name":"search","args":{"q":"` + largeText(1<<20) + `"}}`

	// Nothing measured yet: the prior cost per byte decides.
	_, step := goRun(t, p)
	at := int(step["async"].(float64))
	assert.Greater(t, at, len(trivial), "a trivial payload stays on the loop")
	assert.Less(t, at, len(large), "a 1 MB payload through four guards goes off the loop")
	assert.Less(t, at, 64<<10, "so does 64 KB (a fixed 256 KiB threshold kept it on the loop)")

	// After a measured run on the large payload (off the loop) the estimate is learned:
	// the guards still cannot scan 1 MB within the budget, and a trivial payload is still
	// far below it.
	run, _ := goRun(t, p)
	r, w := pipe(t)
	_, err := goStart(run, large, int(w.Fd()))
	require.NoError(t, err)
	waitByte(t, r)
	_, err = goFinish(run)
	require.NoError(t, err)
	_, step = goRun(t, p)
	at = int(step["async"].(float64))
	assert.Greater(t, at, len(trivial))
	assert.Less(t, at, len(large))
}

func TestOffLoopBudgetFromEnv(t *testing.T) {
	assert.Equal(t, core.LoopStallBudget, budgetFromEnv(""))
	assert.Equal(t, core.LoopStallBudget, budgetFromEnv("x"))
	assert.Equal(t, core.LoopStallBudget, budgetFromEnv("-1"))
	assert.Equal(t, int64(0), int64(budgetFromEnv("0")))
	assert.Equal(t, int64(250_000), int64(budgetFromEnv("250")))
}
