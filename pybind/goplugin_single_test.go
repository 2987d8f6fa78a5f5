package pybind

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/cpex-go/cpex/core"
	"github.com/cpex-go/cpex/core/metrics/series"
)

// pythonOutcome is the outcome the driver reports for the result it builds from
// GoPluginInvoke's answer ans (run.py _outcome / _outcome_fields, single.py).
func pythonOutcome(ans map[string]any) string {
	ret := `"none"`
	if ans["payload"] == true {
		ret = `"same","cur":false`
	}
	viol := "null"
	if v, ok := ans["violation"].(map[string]any); ok {
		viol = fmt.Sprintf(`{"reason":%q,"code":%q,"description":%q}`, v["reason"], v["code"], v["description"])
	}
	return fmt.Sprintf(`{"i":0,"st":"ok","cont":%t,"ret":%s,"ext":0,"viol":%s,"retry":%v,"dur":1000}`, ans["cont"], ret, viol, ans["retry"])
}

func TestGoPluginSingleAnswersAsInvokeThenReport(t *testing.T) {
	plugins := []struct{ name, spec, payload string }{
		{"plain", `{"name":"plain","kind":"builtin/noop","hooks":["tool_pre_invoke"]}`, `{"name":"t","args":{}}`},
		{"modified", `{"name":"modified","kind":"builtin/pii_filter","hooks":["tool_pre_invoke"],"config":{"detect_email":true}}`,
			`{"name":"t","args":{"q":"mail user@example.com"}}`},
		{"blocked", `{"name":"blocked","kind":"builtin/deny_list","hooks":["tool_pre_invoke"],"config":{"words":["forbidden"]}}`,
			`{"name":"t","args":{"q":"forbidden"}}`},
	}
	exec := mustExec(t)
	steps, own := 0, 0
	for _, p := range plugins {
		goID, err := GoPluginNew(p.spec)
		require.NoError(t, err)
		t.Cleanup(func() { _, _ = GoPluginRelease(goID) })
		for _, mode := range []string{"sequential", "transform", "audit"} {
			for _, onError := range []string{"fail", "ignore"} {
				ref := mustRef(t, p.name+mode+onError, mode, onError, 1, goID)
				for _, vexc := range []bool{false, true} {
					facts := fmt.Sprintf(`{"vexc":%t,"hook":"tool_pre_invoke"}`, vexc)
					rule := int(decode(t, must(SingleRule(exec, ref, facts)))["rule"].(float64))
					ctx := `{"rid":"r","user":{"keys":["email"],"values":{"email":"a@b"}},"timeout":30}`
					invoked := must(GoPluginInvoke(goID, "tool_pre_invoke", p.payload, ctx))
					want := must(RunSingleReport(rule, pythonOutcome(decode(t, invoked))))
					single := must(GoPluginSingle(rule, goID, "tool_pre_invoke", p.payload, ctx))
					got := decode(t, single)
					step := got["step"]
					delete(got, "step")
					name := fmt.Sprintf("%s %s %s %s", p.name, mode, onError, facts)
					assert.Equal(t, without(decode(t, invoked), "async"), without(got, "async"), name)
					_, wantFrame, _ := strings.Cut(invoked, "\n")
					_, gotFrame, _ := strings.Cut(single, "\n")
					assert.Equal(t, wantFrame, gotFrame, "the modified payload frame: %s", name)
					if got["payload"] == true {
						// the driver validates the payload, then reports the call itself
						// (RunSingleReport: want)
						assert.Equal(t, false, step, "a modified payload: no run yet: %s", name)
						continue
					}
					if want == "" {
						own++
						assert.Nil(t, step, "the plugin's own result: %s", name)
						continue
					}
					steps++
					require.IsType(t, map[string]any{}, step, name)
					assert.Equal(t, without(decode(t, want), "run"), without(step.(map[string]any), "run"), name)
				}
			}
		}
	}
	assert.Positive(t, steps, "some runs end with a step of the core's")
	assert.Positive(t, own, "some with the plugin's own result")
}

func TestGoPluginSingleCountsEveryCallOnce(t *testing.T) {
	exec := mustExec(t)
	_, err := ExecutorMetrics(exec, 1)
	require.NoError(t, err)
	goID, err := GoPluginNew(`{"name":"deny","kind":"builtin/deny_list","hooks":["tool_pre_invoke"],"config":{"words":["forbidden"]}}`)
	require.NoError(t, err)
	t.Cleanup(func() { _, _ = GoPluginRelease(goID) })
	name := t.Name()
	ref := mustRef(t, name, "sequential", "fail", 1, goID)
	rule := int(decode(t, must(SingleRule(exec, ref, `{"hook":"tool_pre_invoke"}`)))["rule"].(float64))
	for _, q := range []string{"fine", "fine", "forbidden"} {
		_, err := GoPluginSingle(rule, goID, "tool_pre_invoke", fmt.Sprintf(`{"name":"t","args":{"q":%q}}`, q), `{"timeout":30}`)
		require.NoError(t, err)
	}
	c := callsOf(snapshot(t), name, "tool_pre_invoke")
	require.NotNil(t, c)
	assert.Equal(t, uint64(2), c.Calls[series.Allowed])
	assert.Equal(t, uint64(1), c.Calls[series.Blocked])
	// a call that fails is not counted here: the driver reports it (RunSingleReport)
	_, err = GoPluginSingle(rule, goID, "tool_pre_invoke", `{"name":`, `{}`)
	require.Error(t, err)
	assert.Equal(t, c.Calls, callsOf(snapshot(t), name, "tool_pre_invoke").Calls)
}

func TestGoPluginSingleLeavesAModifiedPayloadToTheDriver(t *testing.T) {
	exec := mustExec(t)
	_, err := ExecutorMetrics(exec, 1)
	require.NoError(t, err)
	goID, err := GoPluginNew(`{"name":"pii","kind":"builtin/pii_filter","hooks":["tool_pre_invoke"],"config":{"detect_email":true}}`)
	require.NoError(t, err)
	t.Cleanup(func() { _, _ = GoPluginRelease(goID) })
	name := t.Name()
	ref := mustRef(t, name, "sequential", "fail", 1, goID)
	rule := int(decode(t, must(SingleRule(exec, ref, `{"hook":"tool_pre_invoke"}`)))["rule"].(float64))
	ans := must(GoPluginSingle(rule, goID, "tool_pre_invoke", `{"name":"t","args":{"q":"mail user@example.com"}}`, `{"timeout":30}`))
	head, frame, ok := strings.Cut(ans, "\n")
	require.True(t, ok, "the modified payload frame follows")
	assert.Contains(t, frame, "[REDACTED]")
	got := decode(t, head)
	assert.Equal(t, true, got["payload"])
	assert.Equal(t, false, got["step"], "no run: the driver validates the payload first")
	total := func() uint64 {
		var n uint64
		if c := callsOf(snapshot(t), name, "tool_pre_invoke"); c != nil {
			for _, k := range c.Calls {
				n += k
			}
		}
		return n
	}
	assert.Zero(t, total(), "nothing counted before the driver's report")
	// the driver's report of the validated result is the one count
	_, err = RunSingleReport(rule, pythonOutcome(got))
	require.NoError(t, err)
	assert.Equal(t, uint64(1), total())
}

func TestGoPluginSingleErrorsAreGoPluginInvokes(t *testing.T) {
	exec := mustExec(t)
	goID, err := GoPluginNew(`{"name":"g","kind":"builtin/noop","hooks":["tool_pre_invoke"]}`)
	require.NoError(t, err)
	t.Cleanup(func() { _, _ = GoPluginRelease(goID) })
	ref := mustRef(t, t.Name(), "sequential", "fail", 1, goID)
	rule := int(decode(t, must(SingleRule(exec, ref, `{}`)))["rule"].(float64))
	for _, tc := range []struct{ payload, facts string }{
		{`{"name":`, `{}`},
		{`{}`, `{"timeout": -1}`},
		{`{}`, `{"user": 5}`},
		{`{}`, `not json`},
	} {
		_, want := GoPluginInvoke(goID, "tool_pre_invoke", tc.payload, tc.facts)
		_, got := GoPluginSingle(rule, goID, "tool_pre_invoke", tc.payload, tc.facts)
		require.Error(t, want)
		assert.EqualError(t, got, want.Error(), "%s %s", tc.payload, tc.facts)
	}
	_, err = GoPluginSingle(rule, goID+1000, "tool_pre_invoke", `{}`, `{}`)
	assert.ErrorContains(t, err, "unknown Go plugin id")
	_, err = GoPluginSingle(-1, goID, "tool_pre_invoke", `{}`, `{}`)
	assert.ErrorContains(t, err, "GoPluginSingle: rule: unknown single rule id -1")
}

// factsCases are documents the driver sends and ones it never does; the fast reader
// must answer as the reference for all of them.
var factsCases = []string{
	`{"rid":"r","server_id":"s","tenant_id":null,"content_type":null,"user":{"keys":["email","is_admin"],"values":{"email":"a@b","is_admin":true}},"timeout":30}`,
	`{"rid":"r","server_id":null,"tenant_id":"t","content_type":"c","user":"alice"}`,
	`{"rid":"r","user":null,"timeout":0.5}`,
	`{"user":{"keys":[]}}`,
	`{"user":{"keys":["a"],"values":{"a":{"json":"[1, 2]"},"b":1}}}`,
	`{"user":{"keys":["a","b"],"values":{"a":12345678901234567890,"b":1.5}}}`,
	`{"user":{"keys":["a"],"values":null}}`,
	`{"user":{"keys":null}}`,
	`{"user":{"keys":["a"],"keys":["b"]}}`,
	`{"user":{"keys":["a"],"values":{"a":1},"values":{"a":2}}}`,
	`{"user":{"values":{}}}`,
	`{"user":5}`,
	`{"rid":"a","rid":null}`,
	`{"RID":"x"}`,
	`{"other":1,"rid":"x"}`,
	`{"rid":"\ud800 lone"}`,
	`{"user":"\ud800 lone"}`,
	`{"timeout":0}`, `{"timeout":-1}`, `{"timeout":1e10}`, `{"timeout":1e999}`, `{"timeout":"5"}`, `{"timeout":null}`,
	`{"timeout":30,"timeout":null}`,
	`{}`, `[]`, `null`, ``, `{"rid":"r"} x`, `{"rid":"r",}`,
}

func TestParseContextFactsAgreesWithTheReference(t *testing.T) {
	for _, doc := range factsCases {
		sameFacts(t, doc)
	}
}

func sameFacts(t *testing.T, doc string) {
	t.Helper()
	pc, timeout, err := parseContextFacts("F", doc)
	rpc, rtimeout, rerr := parseContextFactsJSON("F", doc)
	if rerr != nil {
		require.Error(t, err, doc)
		assert.Equal(t, rerr.Error(), err.Error(), doc)
		return
	}
	require.NoError(t, err, doc)
	assert.Equal(t, rpc, pc, doc)
	assert.Equal(t, rtimeout, timeout, doc)
}

// FuzzParseContextFacts: the fast reader of a Go plugin call's facts answers exactly as
// the encoding/json reference for every document it reads itself, and never panics.
func FuzzParseContextFacts(f *testing.F) {
	for _, doc := range factsCases {
		f.Add(doc)
	}
	f.Fuzz(func(t *testing.T, doc string) {
		pc, timeout, ok := parseContextFactsFast([]byte(doc))
		if !ok {
			return
		}
		rpc, rtimeout, rerr := parseContextFactsJSON("F", doc)
		if rerr != nil {
			t.Fatalf("fast reader accepted %q, the reference refused it: %v", doc, rerr)
		}
		assert.Equal(t, rpc, pc, doc)
		assert.Equal(t, rtimeout, timeout, doc)
	})
}

// A direct call that took long on the wall clock but little CPU on its thread (the
// thread was descheduled) does not move the plugin's next calls off the loop; without a
// CPU reading its wall time counts.
func TestObserveOnLoopCountsCPUTimeOfSlowWallCalls(t *testing.T) {
	if threadCPU() < 0 {
		t.Skip("no per-thread CPU clock on this platform")
	}
	for _, tc := range []struct {
		name    string
		cpu0    func() int64
		offLoop bool
	}{
		{"cpu time read", threadCPU, false},
		{"no cpu clock", func() int64 { return -1 }, true},
	} {
		p := &goPluginEntry{name: tc.name}
		for range 4 {
			observeOnLoop(p, 100, tc.cpu0(), time.Now().Add(-20*loopBudget))
		}
		from := offLoopFrom(&p.cost, 1, false)
		if tc.offLoop {
			assert.Equal(t, 0, from, tc.name)
		} else {
			assert.Greater(t, from, 100, tc.name)
		}
	}
}

// BenchmarkGoPluginSinglePII: invoke_hook_for_plugin's one crossing for the PII filter
// on the gateway profile's tool_pre_invoke sample (the call, the core's single run and
// the answer), next to BenchmarkGoPluginInvokePII (the call alone, as the hook method)
// and BenchmarkPIIPluginAlone (the plugin's own work through core.CallPlugin).
func BenchmarkGoPluginSinglePII(b *testing.B) {
	id, payload, facts := piiBench(b)
	exec, _ := ExecutorNew(`{"timeout": 30}`)
	_, _ = ExecutorMetrics(exec, 1)
	ref, _ := RefRegister(refInfoDoc("PIIFilterPlugin", "sequential", "ignore", 1, id))
	rule := int(decode(b, must(SingleRule(exec, ref, `{"hook":"tool_pre_invoke"}`)))["rule"].(float64))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := GoPluginSingle(rule, id, "tool_pre_invoke", payload, facts); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkPIIPluginAlone(b *testing.B) {
	id, payload, _ := piiBench(b)
	st.mu.Lock()
	p := st.plugins[id]
	st.mu.Unlock()
	pc := &core.PluginContext{RequestID: "r"}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := core.CallPlugin(context.Background(), p.plugin, "tool_pre_invoke", core.NewPayloadJSON([]byte(payload)), pc, 30*time.Second); err != nil {
			b.Fatal(err)
		}
	}
}

func piiBench(b *testing.B) (int, string, string) {
	id, err := GoPluginNew(`{"name":"PIIFilterPlugin","kind":"builtin/pii_filter","hooks":["tool_pre_invoke"],"config":{"detect_ssn":true,"detect_credit_card":true,"detect_email":true,"detect_phone":false,"detect_ip_address":false,"default_mask_strategy":"partial","redaction_text":"[PII_REDACTED]","block_on_detection":false,"log_detections":false,"include_detection_details":true,"whitelist_patterns":["test@example.com","555-555-5555"]}}`)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _, _ = GoPluginRelease(id) })
	return id, `{"name":"search_tool","args":{"query":"search for crap information","limit":10,"filter":"type:document","user_email":"user@example.com"},"headers":null}`,
		`{"rid":"perf-test-request","server_id":"perf-test-server","tenant_id":null,"content_type":null,"user":{"keys":["email","is_admin"],"values":{"email":"admin@example.com","is_admin":true}},"timeout":30}`
}
