package pybind

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Batched serial calls (docs/protocol.md, Changes 02:00 BATCH): the "next" list of a
// call step and RunReportBatch. Identity with single reports is tested in core
// (TestBatchedReportsMatchSingleReports) and tests/py/test_batch_calls.py.

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

	_, err = RunReportBatch(run, "["+plainOutcome(0)+`,{"i":1,"st":"ok","cont":true,"ret":"payload","ext":0,"viol":null,"retry":0,"dur":5,"str":"","repr":""},`+plainOutcome(2)+"]")
	require.ErrorContains(t, err, "outcome 1 (index 1) is not plain")
	_, err = RunReportBatch(run, "["+plainOutcome(0)+","+plainOutcome(2)+"]")
	require.ErrorContains(t, err, "index 2, expected 1")
	_, err = RunReportBatch(run, `[{"i":0,"st":"bad"}]`)
	require.ErrorContains(t, err, "RunReportBatch: outcome.st")
	require.ErrorContains(t, err, "(outcomes[0])")
	_, err = RunReportBatch(run, `{"i":0}`)
	require.ErrorContains(t, err, "RunReportBatch: outcomes: want a JSON list")

	// after the refusals the run is untouched: a good batch goes through
	step = decode(t, must(RunReportBatch(run, "["+plainOutcome(0)+","+plainOutcome(1)+","+plainOutcome(2)+"]")))
	assert.Equal(t, "go", step["op"])
	assert.Equal(t, false, step["commit"])
	_, err = RunReportBatch(run, "["+plainOutcome(4)+"]")
	require.ErrorContains(t, err, "waiting for RunGo")
	step = decode(t, must(RunGo(run, `{"name":"search","args":{}}`)))
	assert.Equal(t, "call", step["op"])
	assert.Equal(t, float64(4), step["i"])
	assert.NotContains(t, step, "next", "no calls after the last one")
	step = decode(t, must(RunReportBatch(run, "["+plainOutcome(4)+"]")))
	assert.Equal(t, "done", step["op"])
	assert.Len(t, step["records"], 5)
	_, err = RunReportBatch(run, "["+plainOutcome(4)+"]")
	require.ErrorContains(t, err, "RunReportBatch")
}

func FuzzRunReportBatch(f *testing.F) {
	f.Add("[" + plainOutcome(0) + "," + plainOutcome(1) + "]")
	f.Add("[" + plainOutcome(0) + `,{"i":1,"st":"vexc","viol":{"reason":"r"}}]`)
	f.Add(`[{"i":0,"st":"ok","cont":false,"ret":"payload"},{"i":1}]`)
	f.Add(`[]`)
	f.Add(`[1,"x",null]`)
	exec, _ := ExecutorNew(`{"timeout": 1}`)
	ids := make([]string, 4)
	for k, mode := range []string{"sequential", "sequential", "transform", "concurrent"} {
		id, _ := RefRegister(refInfoDoc(fmt.Sprintf("p%d", k), mode, "ignore", k+1, 0))
		ids[k] = fmt.Sprint(id)
	}
	ans, _ := PlanGet(exec, "tool_pre_invoke", strings.Join(ids, ","), "null")
	var p struct{ Plan int }
	_ = json.Unmarshal([]byte(ans), &p)
	f.Fuzz(func(t *testing.T, outcomes string) {
		step, err := RunStart(p.Plan, batchFacts)
		if err != nil {
			t.Fatal(err)
		}
		var s struct{ Run int }
		_ = json.Unmarshal([]byte(step), &s)
		defer func() { _, _ = RunAbort(s.Run) }()
		next, err := RunReportBatch(s.Run, outcomes)
		noInternal(t, err)
		if err == nil {
			if !json.Valid([]byte(next)) {
				t.Fatalf("answer is not JSON: %s", next)
			}
			return
		}
		// a refused batch left the run as it was: the awaited call can still be reported
		if _, err := RunReport(s.Run, plainOutcome(0)); err != nil {
			t.Fatalf("the run was changed by a refused batch %q: %v", outcomes, err)
		}
	})
}

// BenchmarkRunReportBatch10: one run of 10 serial Python plugins reported as a batch.
func BenchmarkRunReportBatch10(b *testing.B) {
	exec := mustExec(b)
	ids := make([]string, 10)
	outs := make([]string, 10)
	for k := range ids {
		ids[k] = fmt.Sprint(mustRef(b, fmt.Sprintf("p%d", k), "sequential", "fail", k+1, 0))
		outs[k] = plainOutcome(k)
	}
	ans, err := PlanGet(exec, "tool_pre_invoke", strings.Join(ids, ","), "null")
	require.NoError(b, err)
	var p struct{ Plan int }
	require.NoError(b, json.Unmarshal([]byte(ans), &p))
	batch := "[" + strings.Join(outs, ",") + "]"
	facts := `{"rid":"r1","match":"search","pool":10,"vexc":false,"trace":false}`
	b.ReportAllocs()
	for b.Loop() {
		step, err := RunStart(p.Plan, facts)
		if err != nil {
			b.Fatal(err)
		}
		var s struct{ Run int }
		_ = json.Unmarshal([]byte(step), &s)
		if _, err := RunReportBatch(s.Run, batch); err != nil {
			b.Fatal(err)
		}
	}
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
	b.ReportAllocs()
	for b.Loop() {
		step, err := RunStart(p.Plan, facts)
		if err != nil {
			b.Fatal(err)
		}
		var s struct{ Run int }
		_ = json.Unmarshal([]byte(step), &s)
		if _, err := RunReportPlain(s.Run, "0:5", ""); err != nil {
			b.Fatal(err)
		}
	}
}
