package pybind

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// plainPlan is the plan of n serial Python plugins (sequential, transform, then audit).
func plainPlan(t testing.TB, n int) int {
	_, plan := chainPlan(t, n)
	return plan
}

// startRun starts a run of plan and returns its id.
func startRun(t testing.TB, plan int) int {
	step := decode(t, must(RunStart(plan, batchFacts)))
	return int(step["run"].(float64))
}

func TestRunReportPlainAnswersAsReportsOneByOne(t *testing.T) {
	blocked := `{"i":2,"st":"ok","cont":false,"ret":"none","ext":0,"viol":{"reason":"r","code":"c","description":"d"},"retry":0,"dur":7,"str":"","repr":""}`
	cases := []struct {
		name        string
		plain, last string
		batch       []string // the same outcomes as documents, reported one by one
	}{
		{"all plain", "0:5,1:6,2:7,3:8", "", []string{plainOutcome(0), plainOutcome(1), plainOutcome(2), plainOutcome(3)}},
		{"one plain", "0:5", "", []string{plainOutcome(0)}},
		{"plain then a block", "0:5,1:6", blocked, []string{plainOutcome(0), plainOutcome(1), blocked}},
		{"only the last", "", `{"i":0,"st":"error","cont":true,"ret":"none","ext":0,"viol":null,"retry":0,"dur":3,"str":"boom","repr":"E('boom')"}`,
			[]string{`{"i":0,"st":"error","cont":true,"ret":"none","ext":0,"viol":null,"retry":0,"dur":3,"str":"boom","repr":"E('boom')"}`}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			p := plainPlan(t, 4)
			a := decode(t, must(RunReportPlain(startRun(t, p), tc.plain, tc.last)))
			run := startRun(t, p)
			var b map[string]any
			for _, o := range tc.batch {
				b = decode(t, must(RunReport(run, o)))
			}
			delete(a, "run")
			delete(b, "run")
			// the records' durations are the reported ones: plainOutcome says 5 for every call
			for _, step := range []map[string]any{a, b} {
				if recs, ok := step["records"].([]any); ok {
					for _, r := range recs {
						delete(r.(map[string]any), "duration_ns")
					}
				}
			}
			assert.Equal(t, b, a)
		})
	}
}

func TestRunReportPlainRefusesBadInputAndLeavesTheRunAsItWas(t *testing.T) {
	run := startRun(t, plainPlan(t, 3))
	cases := []struct {
		plain, last, err string
	}{
		{"", "", "plain and last are both empty"},
		{"0", "", "plain[0]: want index:duration, got \"0\""},
		{"0:5,x:1", "", "plain[1]: index: want a non-negative integer, got \"x\""},
		{"0:5,-1:1", "", "plain[1]: index"},
		{"0:5,1:1.5", "", "plain[1]: duration: want an integer (ns), got \"1.5\""},
		{"0:5,", "", "plain[1]: want index:duration"},
		{"1:5", "", "index 1, expected 0"},
		{"0:5,2:5", "", "index 2, expected 1"},
		{"0:5,1:5,2:5,3:5", "", "at most 3 calls were listed"},
		{"0:5", `{"i":1,"st":"bad"}`, "RunReportPlain: outcome.st"},
		{"0:5", `{"i":1`, "(last)"},
	}
	for _, tc := range cases {
		_, err := RunReportPlain(run, tc.plain, tc.last)
		require.ErrorContains(t, err, tc.err, "plain %q last %q", tc.plain, tc.last)
	}
	_, err := RunReportPlain(1<<40, "0:5", "")
	require.ErrorContains(t, err, "RunReportPlain")
	// after every refusal the run is untouched: the whole batch still goes through
	step := decode(t, must(RunReportPlain(run, "0:5,1:5,2:5", "")))
	assert.Equal(t, "done", step["op"])
	assert.Len(t, step["records"], 3)
	_, err = RunReportPlain(run, "0:5", "")
	require.ErrorContains(t, err, "RunReportPlain", "the run ended")
}

func FuzzRunReportPlain(f *testing.F) {
	f.Add("0:5,1:6", "")
	f.Add("0:5", `{"i":1,"st":"vexc","viol":{"reason":"r"}}`)
	f.Add("", `{"i":0,"st":"ok","cont":false}`)
	f.Add("0:1:2,,", "")
	f.Add("99999999999999999999:1", "")
	plan := plainPlan(f, 3)
	f.Fuzz(func(t *testing.T, plain, last string) {
		run := startRun(t, plan)
		defer func() { _, _ = RunAbort(run) }()
		next, err := RunReportPlain(run, plain, last)
		noInternal(t, err)
		if err == nil {
			if !json.Valid([]byte(next)) {
				t.Fatalf("answer is not JSON: %s", next)
			}
			return
		}
		// a refused batch left the run as it was: the awaited call can still be reported
		if _, err := RunReport(run, plainOutcome(0)); err != nil {
			t.Fatalf("the run was changed by a refused batch %q %q: %v", plain, last, err)
		}
	})
}

// BenchmarkRunReportPlain10: one run of 10 serial Python plugins, reported as one batch of
// plain outcomes.
func BenchmarkRunReportPlain10(b *testing.B) {
	exec := mustExec(b)
	ids := make([]string, 10)
	pairs := make([]string, 10)
	for k := range ids {
		ids[k] = fmt.Sprint(mustRef(b, fmt.Sprintf("p%d", k), "sequential", "fail", k+1, 0))
		pairs[k] = fmt.Sprintf("%d:5", k)
	}
	ans, err := PlanGet(exec, "tool_pre_invoke", strings.Join(ids, ","), "null")
	require.NoError(b, err)
	var p struct{ Plan int }
	require.NoError(b, json.Unmarshal([]byte(ans), &p))
	benchPlainRuns(b, p.Plan, `{"rid":"r1","match":"search","pool":10,"vexc":false,"trace":false}`, strings.Join(pairs, ","))
}

// benchPlainRuns measures runs of plan started with facts whose calls all end plain,
// reported as the driver reports them: RunStart, then one RunReportPlain of plain.
func benchPlainRuns(b *testing.B, plan int, facts, plain string) {
	b.ReportAllocs()
	for b.Loop() {
		step, err := RunStart(plan, facts)
		if err != nil {
			b.Fatal(err)
		}
		var s struct{ Run int }
		_ = json.Unmarshal([]byte(step), &s)
		if _, err := RunReportPlain(s.Run, plain, ""); err != nil {
			b.Fatal(err)
		}
	}
}
