package pybind

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/cpex-go/cpex/core/metrics/series"
)

// chainFacts: RunStart's facts of an untraced call (chain rules are never given when tracing).
const chainFacts = `{"rid":"r1","match":"search","pool":10,"vexc":false,"trace":false}`

// chainPlan is the plan of n serial Python plugins (sequential, transform, then audit)
// and its executor.
func chainPlan(t testing.TB, n int) (exec, plan int) {
	exec = mustExec(t)
	modes := []string{"sequential", "transform", "audit"}
	ids := make([]string, n)
	for k := range ids {
		ids[k] = fmt.Sprint(mustRef(t, fmt.Sprintf("p%d", k), modes[k*len(modes)/n], "fail", k+1, 0))
	}
	ans, err := PlanGet(exec, "tool_pre_invoke", strings.Join(ids, ","), "null")
	require.NoError(t, err)
	var p struct{ Plan int }
	require.NoError(t, json.Unmarshal([]byte(ans), &p))
	return exec, p.Plan
}

func mustRule(t testing.TB, plan int, facts string) (int, map[string]any) {
	t.Helper()
	ans := decode(t, must(RunChainRule(plan, facts)))
	id := int(ans["rule"].(float64))
	require.Positive(t, id, "no rule: %v", ans)
	return id, ans
}

func durations(n int) (plain, durs string) {
	pairs, ds := make([]string, n), make([]string, n)
	for k := range pairs {
		pairs[k] = fmt.Sprintf("%d:%d", k, 100+k)
		ds[k] = strconv.Itoa(100 + k)
	}
	return strings.Join(pairs, ","), strings.Join(ds, ",")
}

func TestChainRuleIsWhatRunStartAndRunReportPlainAnswer(t *testing.T) {
	for _, n := range []int{1, 3, 10} {
		t.Run(fmt.Sprint(n), func(t *testing.T) {
			_, p := chainPlan(t, n)
			rule, ans := mustRule(t, p, chainFacts)
			records := ans["records"].([]any)
			// the rule's call step is RunStart's first step
			start := decode(t, must(RunStart(p, chainFacts)))
			startRun := int(start["run"].(float64))
			assert.Equal(t, without(start, "run"), without(ans, "run", "rule", "records"))
			// RunReportPlain's done step carries the rule's records with the durations
			plain, durs := durations(n)
			done := decode(t, must(RunReportPlain(startRun, plain, "")))
			require.Equal(t, "done", done["op"])
			require.Len(t, records, n)
			for k, r := range records {
				r.(map[string]any)["duration_ns"] = float64(100 + k)
			}
			assert.Equal(t, done["records"], records)
			// the rule's path: a run id, then "" (the run ended as the rule says)
			started := must(RunChainStart(rule, "args", 57))
			run, err := strconv.Atoi(started)
			require.NoError(t, err, started)
			assert.Equal(t, "", must(RunChainEnd(rule, run, durs)))
			_, err = RunReportPlain(run, plain, "")
			assert.ErrorContains(t, err, "unknown or finished run")
			// asked again: the same rule id
			again, _ := mustRule(t, p, chainFacts)
			assert.Equal(t, rule, again)
		})
	}
}

func TestChainRuleIsNotGivenWhereFactsOrGoPluginsDecide(t *testing.T) {
	exec := mustExec(t)
	goID, err := GoPluginNew(`{"name":"g","kind":"builtin/noop"}`)
	require.NoError(t, err)
	t.Cleanup(func() { _, _ = GoPluginRelease(goID) })
	py := mustRef(t, "py", "sequential", "fail", 1, 0)
	g := mustRef(t, "g", "sequential", "fail", 2, goID)
	doc := strings.Replace(refInfoDoc("cond", "sequential", "fail", 3, 0), `"conditions":[]`, `"conditions":[{"tools":["search"]}]`, 1)
	cond, err := RefRegister(doc)
	require.NoError(t, err)
	t.Cleanup(func() { _, _ = RefRelease(cond) })
	fafRef := mustRef(t, "faf", "fire_and_forget", "fail", 4, 0)
	cases := []struct {
		name  string
		refs  []int
		facts string
	}{
		{"tracing", []int{py}, `{"rid":"r1","pool":10,"trace":true}`},
		{"a Go plugin", []int{py, g}, chainFacts},
		{"conditions", []int{py, cond}, chainFacts},
		{"a fire-and-forget plugin", []int{py, fafRef}, chainFacts},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			p := int(plan(t, exec, "tool_pre_invoke", "null", tc.refs...)["plan"].(float64))
			assert.Equal(t, noChainRule, must(RunChainRule(p, tc.facts)))
		})
	}
}

func TestChainStartAnswersTheEnginesStepWhenTheRuleDoesNotHold(t *testing.T) {
	cases := []struct {
		name   string
		change func(t *testing.T, exec int)
		size   int
		check  func(t *testing.T, step map[string]any)
	}{
		{"a plugin disabled since", func(t *testing.T, exec int) {
			_, err := ExecutorSetRuntimeDisabled(exec, "add", "p1")
			require.NoError(t, err)
		}, 10, func(t *testing.T, step map[string]any) {
			assert.Equal(t, "call", step["op"])
			var next []float64
			for _, c := range step["next"].([]any) {
				next = append(next, c.(map[string]any)["i"].(float64))
			}
			assert.Equal(t, []float64{2}, next)
		}},
		{"another timeout", func(t *testing.T, exec int) {
			_, err := ExecutorUpdate(exec, `{"timeout": 5, "default_policy": "allow"}`)
			require.NoError(t, err)
		}, 10, func(t *testing.T, step map[string]any) {
			assert.Equal(t, "call", step["op"])
			assert.Equal(t, float64(5), step["timeout"])
		}},
		{"a payload over the size limit", func(*testing.T, int) {}, 1_000_001, func(t *testing.T, step map[string]any) {
			assert.Equal(t, "raise", step["op"])
			assert.Equal(t, "size", step["kind"])
			assert.Contains(t, step["message"], "Payload size 1000001 exceeds limit")
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			exec, p := chainPlan(t, 3)
			rule, _ := mustRule(t, p, chainFacts)
			tc.change(t, exec)
			ans := must(RunChainStart(rule, "args", tc.size))
			require.True(t, strings.HasPrefix(ans, "{"), ans)
			step := decode(t, ans)
			tc.check(t, step)
			if step["op"] == "call" { // an ordinary run: it goes on with the general protocol
				run := int(step["run"].(float64))
				n := 1 + len(step["next"].([]any))
				pairs := make([]string, n)
				for k, c := range append([]any{step}, step["next"].([]any)...) {
					pairs[k] = fmt.Sprintf("%v:1", c.(map[string]any)["i"])
				}
				assert.Equal(t, "done", decode(t, must(RunReportPlain(run, strings.Join(pairs, ","), "")))["op"])
			}
		})
	}
}

func TestChainRunGoesOnAsAnOrdinaryRunAfterAnOutcomeThatIsNotPlain(t *testing.T) {
	_, p := chainPlan(t, 4) // two sequential plugins: the second one blocks
	rule, _ := mustRule(t, p, chainFacts)
	run, err := strconv.Atoi(must(RunChainStart(rule, "", 0)))
	require.NoError(t, err)
	blocked := `{"i":1,"st":"ok","cont":false,"ret":"none","ext":0,"viol":{"reason":"r","code":"c","description":"d"},"retry":0,"dur":7}`
	step := decode(t, must(RunReportPlain(run, "0:5", blocked)))
	assert.Equal(t, "done", step["op"])
	assert.Equal(t, false, step["cont"])
	assert.Len(t, step["records"], 2)
}

func TestChainCallsRefuseBadInputAndLeaveTheRunAsItWas(t *testing.T) {
	_, p := chainPlan(t, 3)
	rule, _ := mustRule(t, p, chainFacts)
	_, other := chainPlan(t, 2)
	otherRule, _ := mustRule(t, other, chainFacts)
	run, err := strconv.Atoi(must(RunChainStart(rule, "", 0)))
	require.NoError(t, err)
	cases := []struct {
		name string
		call func() (string, error)
		err  string
	}{
		{"start: unknown rule", func() (string, error) { return RunChainStart(1<<30, "", 0) }, "RunChainStart: rule: unknown chain rule id"},
		{"start: size attr", func() (string, error) { return RunChainStart(rule, "body", 3) }, `RunChainStart: sizeAttr: want "args", "result" or "", got "body"`},
		{"start: negative size", func() (string, error) { return RunChainStart(rule, "args", -1) }, "RunChainStart: size: want ≥ 0"},
		{"start: a size without attr", func() (string, error) { return RunChainStart(rule, "", 4) }, "RunChainStart: size"},
		{"rule: unknown plan", func() (string, error) { return RunChainRule(1<<30, chainFacts) }, "RunChainRule: plan: unknown plan id"},
		{"rule: bad facts", func() (string, error) { return RunChainRule(p, `{"pool":-1}`) }, "RunChainRule: facts.pool"},
		{"end: unknown run", func() (string, error) { return RunChainEnd(rule, 1<<30, "1,2,3") }, "RunChainEnd: run: unknown or finished run id"},
		{"end: another plan's rule", func() (string, error) { return RunChainEnd(otherRule, run, "1,2") }, "is not a run of rule"},
		{"end: too few", func() (string, error) { return RunChainEnd(rule, run, "1,2") }, "want 3 durations (one per awaited call), got 2"},
		{"end: too many", func() (string, error) { return RunChainEnd(rule, run, "1,2,3,4") }, "want 3 durations"},
		{"end: negative", func() (string, error) { return RunChainEnd(rule, run, "1,-2,3") }, `durs[1]: want a duration ≥ 0 (ns), got "-2"`},
		{"end: not an int", func() (string, error) { return RunChainEnd(rule, run, "1,2,x") }, `durs[2]: want a duration ≥ 0 (ns), got "x"`},
		{"end: empty", func() (string, error) { return RunChainEnd(rule, run, "") }, "durs"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := tc.call()
			assert.ErrorContains(t, err, tc.err)
		})
	}
	// the run was left as it was: it still ends as the rule says
	assert.Equal(t, "", must(RunChainEnd(rule, run, "1,2,3")))
}

func TestChainRulesOfForgottenPlansAreDropped(t *testing.T) {
	exec, p := chainPlan(t, 2)
	rule, _ := mustRule(t, p, chainFacts)
	_, err := ExecutorRelease(exec)
	require.NoError(t, err)
	_, p2 := chainPlan(t, 1)
	mustRule(t, p2, chainFacts) // prunes
	_, err = RunChainStart(rule, "", 0)
	assert.ErrorContains(t, err, "unknown chain rule id")
}

func FuzzRunChain(f *testing.F) {
	f.Add("args", 5, "1,2,3")
	f.Add("", 0, "")
	f.Add("result", 2_000_000, "9223372036854775808,1,1")
	f.Add("x", -1, ",,")
	exec, _ := ExecutorNew(`{"timeout": 1}`)
	refs := make([]string, 3)
	for k := range refs {
		id, _ := RefRegister(refInfoDoc(fmt.Sprintf("f%d", k), "sequential", "disable", k+1, 0))
		refs[k] = fmt.Sprint(id)
	}
	ans, _ := PlanGet(exec, "tool_pre_invoke", strings.Join(refs, ","), "null")
	var p struct{ Plan int }
	_ = json.Unmarshal([]byte(ans), &p)
	var r struct{ Rule int }
	_ = json.Unmarshal([]byte(must(RunChainRule(p.Plan, chainFacts))), &r)
	f.Fuzz(func(t *testing.T, sizeAttr string, size int, durs string) {
		started, err := RunChainStart(r.Rule, sizeAttr, size)
		noInternal(t, err)
		if err != nil {
			return
		}
		run, err := strconv.Atoi(started)
		if err != nil {
			var s struct{ Run int }
			if json.Unmarshal([]byte(started), &s) != nil {
				t.Fatalf("answer is neither a run id nor JSON: %s", started)
			}
			_, _ = RunAbort(s.Run)
			return
		}
		defer func() { _, _ = RunAbort(run) }()
		end, err := RunChainEnd(r.Rule, run, durs)
		noInternal(t, err)
		if err == nil && end != "" && !json.Valid([]byte(end)) {
			t.Fatalf("answer is not JSON: %s", end)
		}
	})
}

func TestChainRulesCountAsRunsDoAndTheirProbeNotAtAll(t *testing.T) {
	exec := mustExec(t)
	name := t.Name() // a plugin name of its own: the registry is process-wide
	p := int(plan(t, exec, "tool_pre_invoke", "null", mustRef(t, name, "sequential", "fail", 1, 0))["plan"].(float64))
	_, err := ExecutorMetrics(exec, 1)
	require.NoError(t, err)
	rule, _ := mustRule(t, p, chainFacts)
	assert.Nil(t, callsOf(snapshot(t), name, "tool_pre_invoke"), "the probe was counted")
	for k := 0; k < 2; k++ {
		run, err := strconv.Atoi(must(RunChainStart(rule, "args", 3)))
		require.NoError(t, err)
		require.Equal(t, "", must(RunChainEnd(rule, run, "1500000")))
	}
	c := callsOf(snapshot(t), name, "tool_pre_invoke")
	require.NotNil(t, c)
	assert.Equal(t, uint64(2), c.Calls[series.Allowed])
	assert.Equal(t, uint64(2), c.Latency.Count)
	assert.InDelta(t, 0.003, c.Latency.Sum, 1e-9)
}
