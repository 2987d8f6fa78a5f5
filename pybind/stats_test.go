package pybind

import (
	"strconv"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func stats(t *testing.T) map[string]any {
	t.Helper()
	ans, err := Stats()
	require.NoError(t, err)
	return decode(t, ans)
}

// Stats counts the live handles: each table's count follows what tests create and free.
// Other tests of the package may leave handles behind, so the test compares deltas.
func TestStatsCountsLiveHandles(t *testing.T) {
	before := stats(t)
	for _, k := range []string{"executors", "refs", "plugins", "plans", "runs", "goroutines", "heap_alloc", "heap_objects", "heap_inuse", "sys"} {
		require.Contains(t, before, k)
		assert.GreaterOrEqual(t, before[k].(float64), 0.0, k)
	}
	assert.Len(t, before, 10)
	assert.GreaterOrEqual(t, before["sys"].(float64), before["heap_inuse"].(float64))
	assert.Positive(t, before["goroutines"].(float64))
	assert.Positive(t, before["heap_alloc"].(float64))
	assert.Positive(t, before["heap_objects"].(float64))

	exec, err := ExecutorNew(`{"timeout": 30, "default_policy": "allow"}`)
	require.NoError(t, err)
	goID, err := GoPluginNew(`{"name":"g","kind":"builtin/noop"}`)
	require.NoError(t, err)
	ref, err := RefRegister(refInfoDoc("g", "sequential", "fail", 1, goID))
	require.NoError(t, err)
	ans, err := PlanGet(exec, "tool_pre_invoke", strconv.Itoa(ref), "null")
	require.NoError(t, err)
	planID := int(decode(t, ans)["plan"].(float64))
	step, err := RunStart(planID, plainFacts)
	require.NoError(t, err)
	run := runIDOf(step)

	during := stats(t)
	for k, want := range map[string]float64{"executors": 1, "refs": 1, "plugins": 1, "plans": 1, "runs": 1} {
		assert.Equal(t, before[k].(float64)+want, during[k].(float64), k)
	}

	_, err = RunGo(run, `{"name":"search","args":{},"headers":null}`) // the run ends
	require.NoError(t, err)
	_, err = RefRelease(ref) // drops the plan too
	require.NoError(t, err)
	_, err = GoPluginRelease(goID)
	require.NoError(t, err)
	_, err = ExecutorRelease(exec)
	require.NoError(t, err)
	after := stats(t)
	for _, k := range []string{"executors", "refs", "plugins", "plans", "runs"} {
		assert.Equal(t, before[k], after[k], k)
	}
}
