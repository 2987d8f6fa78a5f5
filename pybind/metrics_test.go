package pybind

import (
	"encoding/json"
	"fmt"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/cpex-go/cpex/core/metrics/series"
)

func snapshot(t *testing.T) series.Snapshot {
	t.Helper()
	ans, err := MetricsSnapshot()
	require.NoError(t, err)
	var s series.Snapshot
	require.NoError(t, json.Unmarshal([]byte(ans), &s))
	return s
}

func callsOf(s series.Snapshot, plugin, hook string) *series.CallSnapshot {
	for i := range s.Calls {
		if s.Calls[i].Plugin == plugin && s.Calls[i].Hook == hook {
			return &s.Calls[i]
		}
	}
	return nil
}

func TestExecutorMetricsCountsForeignReports(t *testing.T) {
	exec := mustExec(t)
	name := t.Name() // a plugin name of its own: the registry is process-wide
	ref := mustRef(t, name, "sequential", "fail", 1, 0)
	p := plan(t, exec, "tool_pre_invoke", "null", ref)
	pid := int(p["plan"].(float64))
	run := func() {
		ans, err := RunStart(pid, plainFacts)
		require.NoError(t, err)
		var step map[string]any
		require.NoError(t, json.Unmarshal([]byte(ans), &step))
		_, err = RunReport(int(step["run"].(float64)), `{"i":0,"st":"ok","cont":true,"ret":"none","ext":0,"viol":null,"retry":0,"dur":1500000,"str":"","repr":""}`)
		require.NoError(t, err)
	}
	run() // metrics off: not counted
	_, err := ExecutorMetrics(exec, 1)
	require.NoError(t, err)
	run()
	run()
	c := callsOf(snapshot(t), name, "tool_pre_invoke")
	require.NotNil(t, c)
	assert.Equal(t, uint64(2), c.Calls[series.Allowed])
	assert.Equal(t, uint64(2), c.Latency.Count)
	assert.InDelta(t, 0.003, c.Latency.Sum, 1e-9)
	// 1.5 ms: above the 1 ms bound, within 2.5 ms
	bounds := snapshot(t).DurationBounds
	for i, b := range bounds {
		if b == 1e-3 {
			assert.Equal(t, uint64(0), c.Latency.Counts[i])
		}
		if b == 2.5e-3 {
			assert.Equal(t, uint64(2), c.Latency.Counts[i])
		}
	}
	_, err = ExecutorMetrics(exec, 0)
	require.NoError(t, err)
	run()
	assert.Equal(t, uint64(2), callsOf(snapshot(t), name, "tool_pre_invoke").Calls[series.Allowed])
}

func TestExecutorMetricsRejectsBadInput(t *testing.T) {
	_, err := ExecutorMetrics(-1, 1)
	assert.ErrorContains(t, err, "ExecutorMetrics: id: unknown executor id -1")
	exec := mustExec(t)
	_, err = ExecutorMetrics(exec, 2)
	assert.ErrorContains(t, err, fmt.Sprintf("ExecutorMetrics: on: want 0 or 1, got %d", 2))
}

// A fire-and-forget task ends after its run: the done step says whether to report
// returns too (faf_count), and ExecutorFafDone counts each task the driver reports.
func TestExecutorMetricsCountsFireAndForgetTasks(t *testing.T) {
	exec := mustExec(t)
	name := t.Name()
	ref := mustRef(t, name, "fire_and_forget", "ignore", 1, 0)
	p := plan(t, exec, "tool_pre_invoke", "null", ref)
	pid := int(p["plan"].(float64))
	start := func() map[string]any {
		ans, err := RunStart(pid, plainFacts)
		require.NoError(t, err)
		var step map[string]any
		require.NoError(t, json.Unmarshal([]byte(ans), &step))
		require.Equal(t, "done", step["op"], ans)
		return step
	}
	assert.Equal(t, false, start()["faf_count"], "metrics off: only failures are reported")
	ans, err := ExecutorFafDone(exec, ref, "tool_pre_invoke", `{"i":0,"st":"ok","cont":true,"dur":2000000}`)
	require.NoError(t, err)
	assert.Equal(t, "null", ans)
	assert.Nil(t, callsOf(snapshot(t), name, "tool_pre_invoke"), "metrics off: nothing counted")

	_, err = ExecutorMetrics(exec, 1)
	require.NoError(t, err)
	assert.Equal(t, true, start()["faf_count"])
	_, err = ExecutorFafDone(exec, ref, "tool_pre_invoke", `{"i":0,"st":"ok","cont":true,"dur":2000000}`)
	require.NoError(t, err)
	ans, err = ExecutorFafDone(exec, ref, "tool_pre_invoke", `{"i":0,"st":"timeout","str":"","repr":"TimeoutError()","dur":3000000}`)
	require.NoError(t, err)
	assert.Contains(t, ans, `"message":"TimeoutError()"`)
	c := callsOf(snapshot(t), name, "tool_pre_invoke")
	require.NotNil(t, c)
	assert.Equal(t, uint64(1), c.Calls[series.Allowed])
	assert.Equal(t, uint64(1), c.Calls[series.Timeout])
	assert.Equal(t, uint64(2), c.Latency.Count)
	assert.InDelta(t, 0.005, c.Latency.Sum, 1e-9)
}
