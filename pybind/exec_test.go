package pybind

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Unit tests of the protocol functions: shapes of the answers and the errors that name
// the function, the field and the value. The rules themselves are tested in core and
// through both drivers in tests/go.

func mustExec(t testing.TB) int {
	t.Helper()
	id, err := ExecutorNew(`{"timeout": 30, "default_policy": "allow"}`)
	require.NoError(t, err)
	t.Cleanup(func() { _, _ = ExecutorRelease(id) })
	return id
}

func refInfoDoc(name, mode, onError string, prio int, goID int) string {
	b, _ := json.Marshal(map[string]any{
		"uuid": fmt.Sprintf("%032x", len(name)+prio), "name": name, "kind": "mod.Cls", "mode": mode,
		"priority": prio, "on_error": onError, "conditions": []any{}, "config": []string{"a", "b"}, "go": goID,
	})
	return string(b)
}

func mustRef(t testing.TB, name, mode, onError string, prio, goID int) int {
	t.Helper()
	id, err := RefRegister(refInfoDoc(name, mode, onError, prio, goID))
	require.NoError(t, err)
	t.Cleanup(func() { _, _ = RefRelease(id) })
	return id
}

// decode reads an answer's JSON header; a payload frame after it is checked to be
// JSON and left out (framing_test.go reads it).
func decode(t testing.TB, s string) map[string]any {
	t.Helper()
	head, payload, framed := strings.Cut(s, "\n")
	var m map[string]any
	require.NoError(t, json.Unmarshal([]byte(head), &m), s)
	if framed {
		require.True(t, json.Valid([]byte(payload)), "payload frame of %s", s)
	}
	return m
}

func plan(t testing.TB, exec int, hook string, policy string, refs ...int) map[string]any {
	t.Helper()
	ids := make([]string, len(refs))
	for i, r := range refs {
		ids[i] = fmt.Sprint(r)
	}
	ans, err := PlanGet(exec, hook, strings.Join(ids, ","), policy)
	require.NoError(t, err)
	return decode(t, ans)
}

const plainFacts = `{"rid":"r1","server_id":null,"tenant_id":null,"content_type":null,"user":null,"match":"search","size":null,"pool":10,"vexc":false,"trace":false,"ext":false}`

func TestWorkedExampleTwoSequentialPlugins(t *testing.T) {
	exec := mustExec(t)
	a := mustRef(t, "a", "sequential", "fail", 100, 0)
	b := mustRef(t, "b", "sequential", "fail", 100, 0)
	p := plan(t, exec, "tool_pre_invoke", "null", a, b)
	assert.Equal(t, "name", p["match"])
	assert.Equal(t, []any{[]any{"args", "values"}, []any{"result", "whole"}}, p["size"])
	assert.Equal(t, false, p["isolate"])
	again := plan(t, exec, "tool_pre_invoke", "null", a, b)
	assert.Equal(t, p["plan"], again["plan"], "plans are cached")

	step := decode(t, must(RunStart(int(p["plan"].(float64)), plainFacts)))
	assert.Equal(t, "call", step["op"])
	assert.Equal(t, float64(a), step["ref"])
	assert.Equal(t, float64(0), step["i"])
	assert.Equal(t, float64(30), step["timeout"])
	assert.Equal(t, true, step["merge"])
	assert.Equal(t, true, step["meta"])
	assert.Equal(t, false, step["diff"])
	assert.NotContains(t, step, "commit", "the first step answers no report")
	run := int(step["run"].(float64))

	step = decode(t, must(RunReport(run, `{"i":0,"st":"ok","cont":true,"ret":"payload","ext":0,"viol":null,"retry":0,"dur":1200,"str":"","repr":""}`)))
	assert.Equal(t, true, step["commit"])
	assert.Equal(t, false, step["commit_ext"])
	assert.Equal(t, "call", step["op"])
	assert.Equal(t, float64(b), step["ref"])

	step = decode(t, must(RunReport(run, `{"i":1,"st":"ok","cont":false,"ret":"none","ext":0,"viol":{"reason":"r","code":"C","description":"d"},"retry":0,"dur":900,"str":"","repr":""}`)))
	assert.Equal(t, "done", step["op"])
	assert.Equal(t, false, step["cont"])
	assert.Equal(t, float64(1), step["viol"])
	assert.Nil(t, step["violation"])
	assert.Equal(t, true, step["payload"])
	assert.Equal(t, []any{}, step["faf"])
	recs := step["records"].([]any)
	require.Len(t, recs, 2)
	rec := recs[1].(map[string]any)
	for _, k := range []string{"plugin_id", "plugin_name", "plugin_kind", "hook_name", "mode", "status", "requested_allow", "effective_allow",
		"matched", "applied", "payload_modified", "extensions_modified", "duration_ns", "reason", "error_code", "config_keys"} {
		assert.Contains(t, rec, k)
	}
	assert.Len(t, rec, 16, "exactly the ControlExecutionRecord fields")
	assert.Equal(t, "r", rec["reason"])
	assert.Equal(t, []any{"a", "b"}, rec["config_keys"])

	_, err := RunReport(run, `{"i":1,"st":"ok"}`)
	require.ErrorContains(t, err, "unknown or finished run", "a finished run is forgotten")
}

func must(s string, err error) string {
	if err != nil {
		panic(err)
	}
	return s
}

func TestConcurrentWorkedExample(t *testing.T) {
	exec := mustExec(t)
	refs := []int{mustRef(t, "c0", "concurrent", "fail", 1, 0), mustRef(t, "c1", "concurrent", "fail", 2, 0), mustRef(t, "c2", "concurrent", "fail", 3, 0)}
	p := plan(t, exec, "tool_pre_invoke", "null", refs...)
	step := decode(t, must(RunStart(int(p["plan"].(float64)), plainFacts)))
	assert.Equal(t, "concurrent", step["op"])
	assert.Equal(t, []any{float64(0), float64(1), float64(2)}, step["i"])
	assert.Equal(t, float64(0), step["pool"], "a pool of 10 never binds 3 tasks: no bound (core.PoolBound)")
	run := int(step["run"].(float64))
	step = decode(t, must(RunReport(run, `{"i":1,"st":"ok","cont":true,"ret":"none","ext":0,"viol":null,"retry":0,"dur":0,"str":"","repr":""}`)))
	assert.Equal(t, "next", step["op"])
	step = decode(t, must(RunReport(run, `{"i":0,"st":"ok","cont":false,"ret":"none","ext":0,"viol":{"reason":"r","code":"C","description":"d"},"retry":0,"dur":0,"str":"","repr":""}`)))
	assert.Equal(t, "done", step["op"])
	assert.Equal(t, true, step["cancel"])
	assert.Equal(t, float64(0), step["viol"])
}

func TestGoStepsRunGoPluginsInCore(t *testing.T) {
	exec := mustExec(t)
	goID, err := GoPluginNew(`{"name":"g","kind":"builtin/noop","hooks":["tool_pre_invoke"],"config":{}}`)
	require.NoError(t, err)
	defer func() { _, _ = GoPluginRelease(goID) }()
	py := mustRef(t, "py", "sequential", "fail", 1, 0)
	g1 := mustRef(t, "g1", "sequential", "fail", 2, goID)
	g2 := mustRef(t, "g2", "transform", "fail", 1, goID)
	gc := mustRef(t, "gc", "concurrent", "fail", 1, goID)
	pc := mustRef(t, "pc", "concurrent", "fail", 2, 0)
	p := plan(t, exec, "tool_pre_invoke", "null", py, g1, g2, gc, pc)
	step := decode(t, must(RunStart(int(p["plan"].(float64)), plainFacts)))
	run := int(step["run"].(float64))
	assert.Equal(t, "call", step["op"])
	step = decode(t, must(RunReport(run, `{"i":0,"st":"ok","cont":true,"ret":"none","ext":0,"viol":null,"retry":0,"dur":5,"str":"","repr":""}`)))
	assert.Equal(t, "go", step["op"])
	assert.Equal(t, []any{float64(1), float64(2)}, step["i"], "consecutive Go plugins across serial phases")
	assert.Equal(t, false, step["original"])
	_, err = RunReport(run, `{"i":1,"st":"ok","cont":true,"ret":"none","ext":0,"viol":null,"retry":0,"dur":5,"str":"","repr":""}`)
	require.ErrorContains(t, err, "waiting for RunGo")
	_, err = RunGo(run, `{not json`)
	require.ErrorContains(t, err, "RunGo: run")
	step = decode(t, must(RunGo(run, `{"name":"search","args":{}}`)))
	assert.NotContains(t, step, "commit", "a step after a go step carries effects, never commit")
	eff := step["effects"].(map[string]any)
	assert.Equal(t, false, eff["payload"], "no payload frame: the plugins changed nothing")
	assert.Equal(t, []any{float64(1), float64(2)}, eff["ctx"])
	assert.Equal(t, "go", step["op"], "the concurrent phase starts with its Go plugins")
	assert.Equal(t, []any{float64(3)}, step["i"])
	step = decode(t, must(RunGo(run, `{"name":"search","args":{}}`)))
	assert.Equal(t, "concurrent", step["op"])
	assert.Equal(t, []any{float64(4)}, step["i"], "then the Python ones")
	step = decode(t, must(RunReport(run, `{"i":4,"st":"ok","cont":true,"ret":"none","ext":0,"viol":null,"retry":0,"dur":0,"str":"","repr":""}`)))
	assert.Equal(t, "done", step["op"])
	assert.Len(t, step["records"], 5)
}

func TestRunSingleAnswers(t *testing.T) {
	exec := mustExec(t)
	seq := mustRef(t, "s", "sequential", "fail", 1, 0)
	tr := mustRef(t, "t", "transform", "ignore", 1, 0)
	cases := []struct {
		name, facts, outcome string
		ref                  int
		want                 map[string]any
	}{
		{"as is", `{"vexc":false,"merge":true,"meta":true,"trace":false}`, `{"i":0,"st":"ok","cont":true}`, seq, map[string]any{"op": "done", "single": true, "result": "plugin"}},
		{"block", `{"vexc":false,"merge":true,"meta":true,"trace":false}`, `{"i":0,"st":"ok","cont":false,"viol":{"reason":"r","code":"C","description":"d"}}`, seq, map[string]any{"result": "new", "cont": false, "viol": true, "denial": true}},
		{"block raises", `{"vexc":true,"merge":false,"meta":false,"trace":false,"hook":"tool_pre_invoke"}`, `{"i":0,"st":"ok","cont":false,"viol":{"reason":"r","code":"C","description":"d"}}`, seq, map[string]any{"op": "raise", "kind": "violation", "message": "tool_pre_invoke blocked by plugin s: C - r (d)"}},
		{"transform block", `{"vexc":true}`, `{"i":0,"st":"ok","cont":false}`, tr, map[string]any{"result": "new", "cont": true, "payload": true, "viol": false, "denial": false}},
		{"timeout ignored", `{}`, `{"i":0,"st":"timeout"}`, tr, map[string]any{"op": "raise", "kind": "plugin_timeout", "message": "Plugin t exceeded 30s timeout"}},
		{"timeout fail", `{}`, `{"i":0,"st":"timeout"}`, seq, map[string]any{"op": "raise", "kind": "timeout", "own": false, "cause": true}},
		{"plugin error fail", `{}`, `{"i":0,"st":"perror","str":"no","repr":"PluginError('no')"}`, seq, map[string]any{"op": "raise", "kind": "error", "message": "no", "own": true, "cause": false}},
		{"error fail", `{}`, `{"i":0,"st":"error","str":"x","repr":"ValueError('x')"}`, seq, map[string]any{"op": "raise", "kind": "error", "message": "ValueError('x')", "own": false, "cause": true}},
		{"violation error", `{}`, `{"i":0,"st":"vexc","str":"v","repr":"PluginViolationError('v')"}`, seq, map[string]any{"op": "raise", "kind": "violation", "message": "v", "own": true}},
		{"error ignored", `{}`, `{"i":0,"st":"error","str":"E()","repr":"E()"}`, tr, map[string]any{"op": "done", "cont": true, "result": "empty"}},
		{"raised timeout ignored", `{}`, `{"i":0,"st":"traise","str":"TimeoutError()","repr":"TimeoutError()"}`, tr, map[string]any{"op": "raise", "kind": "plugin_timeout", "message": "Plugin t exceeded 30s timeout", "cause": true}},
		{"raised timeout fail", `{}`, `{"i":0,"st":"traise","str":"TimeoutError()","repr":"TimeoutError()"}`, seq, map[string]any{"op": "raise", "kind": "timeout", "message": "Plugin s exceeded 30s timeout"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			step := decode(t, must(RunSingle(exec, tc.ref, tc.facts)))
			assert.Equal(t, "call", step["op"])
			assert.Equal(t, false, step["diff"])
			done := decode(t, must(RunReport(int(step["run"].(float64)), tc.outcome)))
			for k, v := range tc.want {
				assert.Equal(t, v, done[k], k)
			}
		})
	}
}

// errorCase is a call that must fail with an error naming every part of want (the
// function, the field, the value).
type errorCase struct {
	name string
	call func() error
	want []string
}

func assertErrorsName(t *testing.T, cases []errorCase) {
	t.Helper()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.call()
			require.Error(t, err)
			for _, w := range tc.want {
				assert.Contains(t, err.Error(), w)
			}
		})
	}
}

func TestErrorsNameFunctionFieldAndValue(t *testing.T) {
	exec := mustExec(t)
	ref := mustRef(t, "a", "sequential", "fail", 1, 0)
	cases := []errorCase{
		{"executor opts json", func() error { _, err := ExecutorNew(`{`); return err }, []string{"ExecutorNew", "opts"}},
		{"executor timeout", func() error { _, err := ExecutorNew(`{"timeout": -1}`); return err }, []string{"ExecutorNew", "opts.timeout", "-1"}},
		{"executor policy", func() error { _, err := ExecutorUpdate(exec, `{"default_policy": "maybe"}`); return err }, []string{"ExecutorUpdate", "default_policy", "maybe"}},
		{"unknown executor", func() error { _, err := ExecutorRuntimeDisabled(999999); return err }, []string{"ExecutorRuntimeDisabled", "999999"}},
		{"bad op", func() error { _, err := ExecutorSetRuntimeDisabled(exec, "toggle", "x"); return err }, []string{"op", "toggle"}},
		{"ref mode", func() error { _, err := RefRegister(refInfoDoc("m", "enforce", "fail", 1, 0)); return err }, []string{"RefRegister", "info.mode", "enforce"}},
		{"ref on_error", func() error { _, err := RefRegister(refInfoDoc("m", "audit", "explode", 1, 0)); return err }, []string{"info.on_error", "explode"}},
		{"ref go id", func() error { _, err := RefRegister(refInfoDoc("m", "audit", "fail", 1, 424242)); return err }, []string{"info.go", "424242"}},
		{"ref priority", func() error {
			_, err := RefRegister(`{"uuid":"u","name":"n","kind":"k","mode":"audit","on_error":"fail","priority":1.5}`)
			return err
		}, []string{"info.priority", "1.5"}},
		{"go kind", func() error { _, err := GoPluginNew(`{"name":"g","kind":"mod.Cls"}`); return err }, []string{"GoPluginNew", "spec.kind", "mod.Cls"}},
		{"go unknown kind", func() error { _, err := GoPluginNew(`{"name":"g","kind":"builtin/nope"}`); return err }, []string{"GoPluginNew", "builtin/nope"}},
		{"go config key", func() error {
			_, err := GoPluginNew(`{"name":"g","kind":"builtin/noop","config":{"zap":1}}`)
			return err
		}, []string{"g", "builtin/noop", "zap"}},
		{"plan refs", func() error { _, err := PlanGet(exec, "h", "1,x", "null"); return err }, []string{"PlanGet", "refs[1]", "x"}},
		{"plan unknown ref", func() error { _, err := PlanGet(exec, "h", "777777", "null"); return err }, []string{"refs[0]", "777777"}},
		{"plan policy", func() error { _, err := PlanGet(exec, "h", fmt.Sprint(ref), "{}"); return err }, []string{"PlanGet", "policy"}},
		{"run plan", func() error { _, err := RunStart(888888, plainFacts); return err }, []string{"RunStart", "888888"}},
		{"run facts user", func() error {
			p := plan(t, exec, "tool_pre_invoke", "null", ref)
			_, err := RunStart(int(p["plan"].(float64)), `{"user": 5}`)
			return err
		}, []string{"RunStart", "facts.user", "5"}},
		{"run facts size", func() error {
			p := plan(t, exec, "tool_pre_invoke", "null", ref)
			_, err := RunStart(int(p["plan"].(float64)), `{"size": ["body", 1]}`)
			return err
		}, []string{"facts.size[0]", "body"}},
		{"outcome status", func() error {
			p := plan(t, exec, "tool_pre_invoke", "null", ref)
			step := decode(t, must(RunStart(int(p["plan"].(float64)), plainFacts)))
			_, err := RunReport(int(step["run"].(float64)), `{"i":0,"st":"maybe"}`)
			return err
		}, []string{"RunReport", "outcome.st", "maybe"}},
		{"outcome index", func() error {
			p := plan(t, exec, "tool_pre_invoke", "null", ref)
			step := decode(t, must(RunStart(int(p["plan"].(float64)), plainFacts)))
			_, err := RunReport(int(step["run"].(float64)), `{"i":3,"st":"ok"}`)
			return err
		}, []string{"RunReport", "outcome.i=3"}},
		{"outcome ret", func() error {
			p := plan(t, exec, "tool_pre_invoke", "null", ref)
			step := decode(t, must(RunStart(int(p["plan"].(float64)), plainFacts)))
			_, err := RunReport(int(step["run"].(float64)), `{"i":0,"st":"ok","ret":"maybe"}`)
			return err
		}, []string{"outcome.ret", "maybe"}},
		{"go without go step", func() error {
			p := plan(t, exec, "tool_pre_invoke", "null", ref)
			step := decode(t, must(RunStart(int(p["plan"].(float64)), plainFacts)))
			_, err := RunGo(int(step["run"].(float64)), `{}`)
			return err
		}, []string{"RunGo", "no go step"}},
		{"invoke unknown", func() error { _, err := GoPluginInvoke(555555, "h", "{}", "{}"); return err }, []string{"GoPluginInvoke", "555555"}},
	}
	assertErrorsName(t, cases)
}

func TestRuntimeDisabledAndFafFailed(t *testing.T) {
	exec := mustExec(t)
	n, err := ExecutorSetRuntimeDisabled(exec, "add", "b")
	require.NoError(t, err)
	assert.Equal(t, 1, n)
	_, _ = ExecutorSetRuntimeDisabled(exec, "add", "a")
	assert.Equal(t, `["a","b"]`, must(ExecutorRuntimeDisabled(exec)))
	n, _ = ExecutorSetRuntimeDisabled(exec, "discard", "a")
	assert.Equal(t, 1, n)
	_, _ = ExecutorSetRuntimeDisabled(exec, "clear", "")
	assert.Equal(t, `[]`, must(ExecutorRuntimeDisabled(exec)))

	dis := mustRef(t, "faf-d", "fire_and_forget", "disable", 1, 0)
	ign := mustRef(t, "faf-i", "fire_and_forget", "ignore", 1, 0)
	ans, err := ExecutorFafDone(exec, ign, "tool_pre_invoke", `{"i":0,"st":"error","str":"ValueError('x')","repr":"ValueError('x')"}`)
	require.NoError(t, err)
	assert.JSONEq(t, `{"log":["error","Plugin faf-i failed in fire-and-forget mode (ignored)"],`+
		`"message":"ValueError('x')","disabled":false}`, ans)
	ans, err = ExecutorFafDone(exec, dis, "tool_pre_invoke", `{"i":0,"st":"timeout","str":"","repr":"TimeoutError()"}`)
	require.NoError(t, err)
	assert.JSONEq(t, `{"log":["error","Plugin faf-d failed in fire-and-forget mode (ignored)"],`+
		`"message":"TimeoutError()","disabled":true}`, ans)
	assert.Equal(t, `["faf-d"]`, must(ExecutorRuntimeDisabled(exec)))
	_, err = ExecutorFafDone(exec, dis, "tool_pre_invoke", `{"st":"error"}`)
	assert.ErrorContains(t, err, "outcome.i")
}

func TestExecutorUpdateChangesTimeoutText(t *testing.T) {
	exec := mustExec(t)
	ref := mustRef(t, "slow", "sequential", "fail", 1, 0)
	_, err := ExecutorUpdate(exec, `{"timeout": 0.5}`)
	require.NoError(t, err)
	p := plan(t, exec, "tool_pre_invoke", "null", ref)
	step := decode(t, must(RunStart(int(p["plan"].(float64)), plainFacts)))
	assert.Equal(t, 0.5, step["timeout"])
	done := decode(t, must(RunReport(int(step["run"].(float64)), `{"i":0,"st":"timeout"}`)))
	assert.Equal(t, "Plugin slow exceeded 0.5s timeout", done["message"])
}

func TestGoPluginInvokeAnswer(t *testing.T) {
	goID, err := GoPluginNew(`{"name":"g","kind":"builtin/noop","hooks":["tool_pre_invoke"],"config":null}`)
	require.NoError(t, err)
	before, err := GoPluginAsync(goID)
	require.NoError(t, err)
	ans := decode(t, must(GoPluginInvoke(goID, "tool_pre_invoke", `{"name":"x"}`, `{"rid":"r","user":{"keys":["email"],"values":{"email":"a"}}}`)))
	// async: the off-loop threshold for the next call, from the cost measured before this
	// one; ctx: false, the noop never reads its context (builtins.ContextFree)
	assert.Equal(t, map[string]any{"cont": true, "payload": false, "violation": nil, "metadata": map[string]any{}, "retry": float64(0), "async": float64(before), "ctx": false}, ans)
	_, err = GoPluginInvoke(goID, "tool_pre_invoke", `{"name":`, `{}`)
	require.ErrorContains(t, err, "payload: invalid JSON")
	_, err = GoPluginInvoke(goID, "tool_pre_invoke", `{}`, `{"timeout": 0.5}`)
	require.NoError(t, err)
	_, err = GoPluginInvoke(goID, "tool_pre_invoke", `{}`, `{"timeout": -1}`)
	require.ErrorContains(t, err, "facts.timeout")
	_, err = GoPluginRelease(goID)
	require.NoError(t, err)
	_, err = GoPluginRelease(goID)
	require.ErrorContains(t, err, "unknown Go plugin id")
}

func TestReleasingARefDropsItsPlans(t *testing.T) {
	exec := mustExec(t)
	ref, err := RefRegister(refInfoDoc("gone", "sequential", "fail", 1, 0))
	require.NoError(t, err)
	p := plan(t, exec, "tool_pre_invoke", "null", ref)
	_, err = RefRelease(ref)
	require.NoError(t, err)
	_, err = RunStart(int(p["plan"].(float64)), plainFacts)
	require.ErrorContains(t, err, "unknown plan id")
	n, err := RunAbort(123456789)
	require.NoError(t, err)
	assert.Equal(t, 0, n)
}

func TestSizeGuardAndTracing(t *testing.T) {
	exec := mustExec(t)
	ref := mustRef(t, "a", "sequential", "fail", 1, 0)
	p := plan(t, exec, "tool_post_invoke", `["result"]`, ref)
	assert.Equal(t, true, p["isolate"])
	step := decode(t, must(RunStart(int(p["plan"].(float64)), `{"rid":"r","size":["result",1000001]}`)))
	assert.Equal(t, "raise", step["op"])
	assert.Equal(t, "size", step["kind"])
	assert.Equal(t, "Result size 1000001 exceeds limit of 1000000 bytes", step["message"])

	step = decode(t, must(RunStart(int(p["plan"].(float64)), `{"rid":"r","trace":true,"user":{"keys":["a"]}}`)))
	assert.Equal(t, map[string]any{"plugin.hook.type": "tool_post_invoke", "plugin.chain.length": float64(1)}, step["chain_span"])
	assert.Equal(t, true, step["span"])
	assert.Equal(t, true, step["diff"])
	done := decode(t, must(RunReport(int(step["run"].(float64)), `{"i":0,"st":"ok","cont":true,"ret":"payload"}`)))
	assert.Equal(t, map[string]any{"plugin.executed_count": float64(1), "plugin.skipped_count": float64(0),
		"plugin.chain.stopped": false, "plugin.chain.stopped_by": ""}, done["chain_end"])
}

func TestGuardTurnsPanicsIntoErrors(t *testing.T) {
	f := func() (err error) {
		defer guard("Fn", &err)
		var m map[string]int
		m["x"] = 1 // panics
		return nil
	}
	require.ErrorContains(t, f(), "Fn: internal error")
}

func TestDefaultPolicyChangeMakesANewPlan(t *testing.T) {
	exec := mustExec(t)
	ref := mustRef(t, "a", "sequential", "fail", 1, 0)
	allow := plan(t, exec, "tool_pre_invoke", "null", ref)
	_, err := ExecutorUpdate(exec, `{"default_policy": "deny"}`)
	require.NoError(t, err)
	deny := plan(t, exec, "tool_pre_invoke", "null", ref)
	assert.NotEqual(t, allow["plan"], deny["plan"])
	assert.Equal(t, true, deny["isolate"])
	step := decode(t, must(RunStart(int(deny["plan"].(float64)), plainFacts)))
	assert.Equal(t, false, step["diff"])
	done := decode(t, must(RunReport(int(step["run"].(float64)), `{"i":0,"st":"ok","cont":true,"ret":"foreign"}`)))
	assert.Equal(t, false, done["commit"])
	assert.Contains(t, fmt.Sprint(done["logs"]), "default hook policy (deny)")
}
