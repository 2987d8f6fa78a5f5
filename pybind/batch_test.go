package pybind

import (
	"encoding/json"
	"fmt"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Batched serial calls (docs/protocol.md, "Batches"): the "next" list of a call step and
// RunReportPlain. Identity with single reports is tested in core
// (TestBatchedReportsMatchSingleReports), in plain_test.go and in
// tests/py/test_batch_calls.py.

const batchFacts = `{"rid":"r1","match":"search","pool":10,"vexc":false,"trace":true}`

func plainOutcome(i int) string {
	return fmt.Sprintf(`{"i":%d,"st":"ok","cont":true,"ret":"none","ext":0,"viol":null,"retry":0,"dur":5,"str":"","repr":""}`, i)
}

func TestCallStepsListTheNextCallsAndBatchesReplay(t *testing.T) {
	exec := mustExec(t)
	goID, err := GoPluginNew(`{"name":"g","kind":"builtin/noop","hooks":["tool_pre_invoke"],"config":{}}`)
	require.NoError(t, err)
	defer func() { _, _ = GoPluginRelease(goID) }()
	a := mustRef(t, "a", "sequential", "fail", 1, 0)
	b := mustRef(t, "b", "transform", "fail", 2, 0)
	c := mustRef(t, "c", "audit", "fail", 3, 0)
	g := mustRef(t, "g", "audit", "fail", 4, goID)
	d := mustRef(t, "d", "audit", "fail", 5, 0)
	p := plan(t, exec, "tool_pre_invoke", "null", a, b, c, g, d)
	pid := int(p["plan"].(float64))

	step := decode(t, must(RunStart(pid, batchFacts)))
	run := int(step["run"].(float64))
	assert.Equal(t, "call", step["op"])
	assert.Equal(t, []any{
		map[string]any{"ref": float64(b), "i": float64(1), "timeout": float64(30), "merge": true, "meta": true, "diff": false, "span": true},
		map[string]any{"ref": float64(c), "i": float64(2), "timeout": float64(30), "merge": false, "meta": true, "diff": false, "span": true},
	}, step["next"], "the serial Python calls up to the Go plugin, each with its phase's fields")

	_, err = RunReportPlain(run, "0:5,2:5", "")
	require.ErrorContains(t, err, "index 2, expected 1")
	_, err = RunReportPlain(run, "", `{"i":0,"st":"bad"}`)
	require.ErrorContains(t, err, "RunReportPlain: outcome.st")
	require.ErrorContains(t, err, "(last)")

	// after the refusals the run is untouched: a good batch goes through
	step = decode(t, must(RunReportPlain(run, "0:5,1:5,2:5", "")))
	assert.Equal(t, "go", step["op"])
	assert.Equal(t, false, step["commit"])
	_, err = RunReportPlain(run, "4:5", "")
	require.ErrorContains(t, err, "waiting for RunGo")
	step = decode(t, must(RunGo(run, `{"name":"search","args":{}}`)))
	assert.Equal(t, "call", step["op"])
	assert.Equal(t, float64(4), step["i"])
	assert.NotContains(t, step, "next", "no calls after the last one")
	step = decode(t, must(RunReportPlain(run, "4:5", "")))
	assert.Equal(t, "done", step["op"])
	assert.Len(t, step["records"], 5)
	_, err = RunReportPlain(run, "4:5", "")
	require.ErrorContains(t, err, "RunReportPlain")
}

// BenchmarkRunOnePython: one run of a lone Python plugin (S1's shape) as the driver
// makes it: RunStart, then the plain outcome as RunReportPlain.
func BenchmarkRunOnePython(b *testing.B) {
	exec := mustExec(b)
	id := mustRef(b, "p0", "sequential", "fail", 1, 0)
	ans, err := PlanGet(exec, "tool_pre_invoke", fmt.Sprint(id), "null")
	require.NoError(b, err)
	var p struct{ Plan int }
	require.NoError(b, json.Unmarshal([]byte(ans), &p))
	facts := `{"rid":"r1","server_id":null,"tenant_id":null,"content_type":null,"user":null,"match":"search","size":["args",20],"pool":0,"vexc":true,"trace":false,"ext":false}`
	benchPlainRuns(b, p.Plan, facts, "0:5")
}
