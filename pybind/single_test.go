package pybind

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/cpex-go/cpex/core/metrics/series"
)

// without drops the run id: the one-crossing answers start no run.
func without(m map[string]any, keys ...string) map[string]any {
	for _, k := range keys {
		delete(m, k)
	}
	return m
}

func TestSingleRuleAnswersRunSinglesCallStep(t *testing.T) {
	exec := mustExec(t)
	ref := mustRef(t, "s", "sequential", "fail", 1, 0)
	for _, facts := range []string{
		`{"vexc":false,"merge":false,"meta":false,"trace":false,"hook":"tool_pre_invoke"}`,
		`{"vexc":true,"merge":true,"meta":true,"trace":true}`,
	} {
		rule := decode(t, must(SingleRule(exec, ref, facts)))
		general := decode(t, must(RunSingle(exec, ref, facts)))
		_, _ = RunAbort(int(general["run"].(float64)))
		assert.Equal(t, without(general, "run"), without(rule, "run", "rule", "plain_ends"), facts)
	}
	a := decode(t, must(SingleRule(exec, ref, `{"vexc":false}`)))
	b := decode(t, must(SingleRule(exec, ref, `{"vexc":false}`)))
	c := decode(t, must(SingleRule(exec, ref, `{"vexc":true}`)))
	assert.Equal(t, a["rule"], b["rule"], "one rule per (executor, ref, facts)")
	assert.NotEqual(t, a["rule"], c["rule"])
}

func TestPlainEndsFollowsMetrics(t *testing.T) {
	exec := mustExec(t)
	for _, mode := range []string{"sequential", "transform", "audit", "concurrent", "fire_and_forget"} {
		ref := mustRef(t, t.Name()+mode, mode, "fail", 1, 0)
		rule := decode(t, must(SingleRule(exec, ref, `{}`)))
		assert.Equal(t, true, rule["plain_ends"], "metrics off: a plain outcome ends the run alone (%s)", mode)
	}
	_, err := ExecutorMetrics(exec, 1)
	require.NoError(t, err)
	ref := mustRef(t, t.Name(), "sequential", "fail", 1, 0)
	rule := decode(t, must(SingleRule(exec, ref, `{"hook":"tool_pre_invoke"}`)))
	assert.Equal(t, false, rule["plain_ends"], "metrics on: every call is reported")
	if c := callsOf(snapshot(t), t.Name(), "tool_pre_invoke"); c != nil {
		assert.Equal(t, [series.NumOutcomes]uint64{}, c.Calls, "asking for the rule counts no call")
	}
}

func TestRunSinglePlainCountsAndEndsWithThePluginsResult(t *testing.T) {
	exec := mustExec(t)
	name := t.Name()
	ref := mustRef(t, name, "sequential", "fail", 1, 0)
	_, err := ExecutorMetrics(exec, 1)
	require.NoError(t, err)
	rule := int(decode(t, must(SingleRule(exec, ref, `{"hook":"tool_pre_invoke"}`)))["rule"].(float64))
	for range 3 {
		assert.Equal(t, "", must(RunSinglePlain(rule, 1500000)), "the plugin's own result, nothing to do")
	}
	c := callsOf(snapshot(t), name, "tool_pre_invoke")
	require.NotNil(t, c)
	assert.Equal(t, uint64(3), c.Calls[series.Allowed])
	assert.InDelta(t, 0.0045, c.Latency.Sum, 1e-9)
}

func TestRunSingleReportAnswersAsRunSingleThenRunReport(t *testing.T) {
	exec := mustExec(t)
	seq := mustRef(t, "s", "sequential", "fail", 1, 0)
	tr := mustRef(t, "t", "transform", "ignore", 1, 0)
	outcomes := []string{
		`{"i":0,"st":"ok","cont":true}`,
		`{"i":0,"st":"ok","cont":false,"viol":{"reason":"r","code":"C","description":"d"}}`,
		`{"i":0,"st":"ok","cont":true,"ret":"same"}`,
		`{"i":0,"st":"timeout"}`,
		`{"i":0,"st":"perror","str":"no","repr":"PluginError('no')"}`,
		`{"i":0,"st":"error","str":"x","repr":"ValueError('x')"}`,
		`{"i":0,"st":"vexc","str":"v","repr":"PluginViolationError('v')"}`,
		`{"i":0,"st":"traise","str":"TimeoutError()","repr":"TimeoutError()"}`,
	}
	for _, ref := range []int{seq, tr} {
		for _, facts := range []string{`{"vexc":false,"hook":"tool_pre_invoke"}`, `{"vexc":true,"hook":"tool_pre_invoke"}`} {
			for _, o := range outcomes {
				step := decode(t, must(RunSingle(exec, ref, facts)))
				want := decode(t, must(RunReport(int(step["run"].(float64)), o)))
				rule := int(decode(t, must(SingleRule(exec, ref, facts)))["rule"].(float64))
				ans := must(RunSingleReport(rule, o))
				if want["op"] == "done" && want["result"] == "plugin" && want["logs"] == nil {
					assert.Equal(t, "", ans, "the plugin's own result: nothing to carry out (%d %s %s)", ref, facts, o)
					continue
				}
				assert.Equal(t, without(want, "run"), without(decode(t, ans), "run"), "%d %s %s", ref, facts, o)
			}
		}
	}
}

func TestSingleErrorsNameFunctionFieldAndValue(t *testing.T) {
	exec := mustExec(t)
	ref := mustRef(t, "a", "sequential", "fail", 1, 0)
	rule := int(decode(t, must(SingleRule(exec, ref, `{}`)))["rule"].(float64))
	cases := []errorCase{
		{"rule executor", func() error { _, err := SingleRule(987654, ref, `{}`); return err }, []string{"SingleRule", "exec", "987654"}},
		{"rule ref", func() error { _, err := SingleRule(exec, 876543, `{}`); return err }, []string{"SingleRule", "ref", "876543"}},
		{"rule facts", func() error { _, err := SingleRule(exec, ref, `{"vexc":3}`); return err }, []string{"SingleRule", "vexc"}},
		{"plain rule", func() error { _, err := RunSinglePlain(765432, 1); return err }, []string{"RunSinglePlain", "rule", "765432"}},
		{"plain duration", func() error { _, err := RunSinglePlain(rule, -5); return err }, []string{"RunSinglePlain", "durNs", "-5"}},
		{"report rule", func() error { _, err := RunSingleReport(654321, `{"i":0,"st":"ok"}`); return err }, []string{"RunSingleReport", "rule", "654321"}},
		{"report outcome", func() error { _, err := RunSingleReport(rule, `{"i":0,"st":"maybe"}`); return err }, []string{"RunSingleReport", "outcome.st", "maybe"}},
		{"report index", func() error { _, err := RunSingleReport(rule, `{"i":2,"st":"ok"}`); return err }, []string{"RunSingleReport", "outcome.i=2"}},
	}
	assertErrorsName(t, cases)
}

func TestExecutorReleaseDropsItsSingleRules(t *testing.T) {
	exec, err := ExecutorNew(`{"timeout": 30}`)
	require.NoError(t, err)
	ref := mustRef(t, "a", "sequential", "fail", 1, 0)
	rule := int(decode(t, must(SingleRule(exec, ref, `{}`)))["rule"].(float64))
	_, err = ExecutorRelease(exec)
	require.NoError(t, err)
	_, err = RunSinglePlain(rule, 1)
	require.ErrorContains(t, err, "unknown single rule")
}

// FuzzRunSingleReport: whatever facts and outcome arrive, the one-crossing single run
// answers or errors (never panics) and leaves no run behind.
func FuzzRunSingleReport(f *testing.F) {
	f.Add(`{"vexc":true,"hook":"h"}`, `{"i":0,"st":"ok","cont":false,"viol":{"reason":"r","code":"C","description":"d"}}`)
	f.Add(`{}`, `{"i":0,"st":"error","str":"x","repr":"y"}`)
	f.Add(`{"user":{"keys":["a"]}}`, `{"i":-1}`)
	f.Add(`[`, `{`)
	exec, _ := ExecutorNew(`{"timeout": 1}`)
	ref, _ := RefRegister(refInfoDoc("py", "sequential", "ignore", 1, 0))
	f.Fuzz(func(t *testing.T, facts, outcome string) {
		st.mu.Lock()
		before := len(st.runs)
		st.mu.Unlock()
		ans, err := SingleRule(exec, ref, facts)
		noInternal(t, err)
		if err == nil {
			var r struct{ Rule int }
			if json.Unmarshal([]byte(ans), &r) != nil {
				t.Fatalf("answer is not JSON: %s", ans)
			}
			ans, err = RunSingleReport(r.Rule, outcome)
			noInternal(t, err)
			if err == nil && ans != "" && !strings.HasPrefix(ans, `{"run":0`) {
				t.Fatalf("a one-crossing answer names a run: %s", ans)
			}
			_, err = RunSinglePlain(r.Rule, 0)
			noInternal(t, err)
		}
		st.mu.Lock()
		after := len(st.runs)
		st.mu.Unlock()
		if after > before {
			t.Fatalf("runs left behind: %d -> %d", before, after)
		}
	})
}
