package pybind

import (
	"encoding/json"
	"strconv"
	"strings"
	"testing"

	"github.com/cpex-go/cpex/core"
	"github.com/cpex-go/cpex/internal/ctxprobe"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func init() {
	if _, err := core.NewPlugin(core.PluginSpec{Name: "x", Kind: ctxprobe.Kind}); err != nil {
		core.RegisterFactory(ctxprobe.Kind, ctxprobe.New) // CPEX_TEST_KINDS is not set under go test
	}
}

func probeRef(t *testing.T, name, mode string, prio int, cfg string) int {
	t.Helper()
	id, err := GoPluginNew(`{"name":"` + name + `","kind":"builtin/test_context","hooks":["tool_pre_invoke"],"config":` + cfg + `}`)
	require.NoError(t, err)
	t.Cleanup(func() { _, _ = GoPluginRelease(id) })
	return mustRef(t, name, mode, "fail", prio, id)
}

// The context state of a go step: sent by RunGoContext, seen by each Go plugin as it
// stands before its call (earlier plugins' writes merged), and answered only as the
// keys that changed and the local states that changed.
func TestGoStepContextStateInAndOut(t *testing.T) {
	exec := mustExec(t)
	a := probeRef(t, "a", "sequential", 1, `{"echo":true,"gstate":{"a":1},"gmeta":{"m":"a"},"lstate":{"n":2}}`)
	b := probeRef(t, "b", "sequential", 2, `{"echo":true}`)
	p := plan(t, exec, "tool_pre_invoke", "null", a, b)
	run, step := goRun(t, p)
	require.Equal(t, []any{float64(0), float64(1)}, step["i"])
	_, err := RunGoContext(run, `{"gs":{"keep":{"deep":[1,2]},"a":0},"gm":{"x":true},"local":[[1,{"mine":"b"}]]}`)
	require.NoError(t, err)
	step = decode(t, must(RunGo(run, `{"name":"x"}`)))
	eff := step["effects"].(map[string]any)
	assert.Equal(t, map[string]any{"a": float64(1)}, eff["gs"], "only the changed key comes back")
	assert.Equal(t, map[string]any{"m": "a"}, eff["gm"])
	assert.Equal(t, []any{[]any{float64(0), map[string]any{"n": float64(2)}}}, eff["local"], "b's state is unchanged")
	assert.Equal(t, "done", step["op"])
	assert.Equal(t, map[string]any{"gstate": map[string]any{"keep": map[string]any{"deep": []any{float64(1), float64(2)}}, "a": float64(0)},
		"gmeta": map[string]any{"x": true}, "lstate": map[string]any{}}, eff["meta"].(map[string]any)["a"])
	assert.Equal(t, map[string]any{"gstate": map[string]any{"keep": map[string]any{"deep": []any{float64(1), float64(2)}}, "a": float64(1)},
		"gmeta": map[string]any{"x": true, "m": "a"}, "lstate": map[string]any{"mine": "b"}}, eff["meta"].(map[string]any)["b"],
		"b sees a's writes merged, and its own local state")
}

// Without state sent and with plugins that write none, the effects say nothing more.
func TestGoStepWithoutStateAnswersNone(t *testing.T) {
	exec := mustExec(t)
	a := probeRef(t, "a", "sequential", 1, `{}`)
	run, _ := goRun(t, plan(t, exec, "tool_pre_invoke", "null", a))
	step := decode(t, must(RunGo(run, `{"name":"x"}`)))
	eff := step["effects"].(map[string]any)
	for _, k := range []string{"gs", "gm", "local"} {
		assert.NotContains(t, eff, k)
	}
}

// Concurrent Go plugins all see the state as it stood before the phase; their writes
// are merged.
func TestGoStepConcurrentState(t *testing.T) {
	exec := mustExec(t)
	a := probeRef(t, "a", "concurrent", 1, `{"echo":true,"gstate":{"a":1}}`)
	b := probeRef(t, "b", "concurrent", 2, `{"echo":true,"gstate":{"b":2}}`)
	run, _ := goRun(t, plan(t, exec, "tool_pre_invoke", "null", a, b))
	_, err := RunGoContext(run, `{"gs":{"s":0}}`)
	require.NoError(t, err)
	step := decode(t, must(RunGo(run, `{"name":"x"}`)))
	eff := step["effects"].(map[string]any)
	assert.Equal(t, map[string]any{"a": float64(1), "b": float64(2)}, eff["gs"])
	meta := eff["meta"].(map[string]any)
	for _, n := range []string{"a", "b"} {
		assert.Equal(t, map[string]any{"s": float64(0)}, meta[n].(map[string]any)["gstate"], n)
	}
}

func TestRunGoContextRefusesBadDocuments(t *testing.T) {
	exec := mustExec(t)
	a := probeRef(t, "a", "sequential", 1, `{}`)
	run, _ := goRun(t, plan(t, exec, "tool_pre_invoke", "null", a))
	for doc, want := range map[string]string{
		`{`:                    "RunGoContext: doc: invalid JSON",
		`[]`:                   "want an object",
		`{"gs":[]}`:            "doc.gs: want an object",
		`{"zz":{}}`:            `unknown field "zz"`,
		`{"local":{}}`:         "doc.local: want a list",
		`{"local":[[5,{}]]}`:   "index 5 is not a plugin of the go step",
		`{"local":[[0,[]]]}`:   "doc.local[0]: want an object",
		`{"ext":[[3,{}]]}`:     "doc.ext[0]: index 3",
		`{"local":[[0.5,{}]]}`: "index 0.5",
		`{"local":[["0",{}]]}`: "is not a plugin",
		`{"local":[[0,{},1]]}`: "want [index, object]",
	} {
		_, err := RunGoContext(run, doc)
		assert.ErrorContains(t, err, want, doc)
	}
	step := decode(t, must(RunGo(run, `{"name":"x"}`)))
	assert.Equal(t, "done", step["op"], "a refused document leaves the go step as it was")
	_, err := RunGoContext(run, `{}`)
	assert.Error(t, err, "no go step is pending")
}

// Any context document gives an error or a go step whose answer is readable JSON, never
// a panic; a refused document leaves the go step runnable.
func FuzzRunGoContext(f *testing.F) {
	f.Add(`{"gs":{"a":1},"gm":{"m":[1,{"x":null}]},"local":[[0,{"n":2}]],"ext":[[0,{"security":{"labels":["PII"]}}]]}`)
	f.Add(`{"local":[[0.0,{}]]}`)
	f.Add(`{"gs":null,"gm":null}`)
	f.Add(`{"ext":[[1e300,{}]]}`)
	exec := mustExec(f)
	id, err := GoPluginNew(`{"name":"a","kind":"builtin/test_context","hooks":["tool_pre_invoke"],"config":{"echo":true,"gstate":{"k":1},"lstate":{"l":1}}}`)
	require.NoError(f, err)
	f.Cleanup(func() { _, _ = GoPluginRelease(id) })
	p := plan(f, exec, "tool_pre_invoke", "null", mustRef(f, "a", "sequential", "fail", 1, id))
	f.Fuzz(func(t *testing.T, doc string) {
		step := decode(t, must(RunStart(int(p["plan"].(float64)), plainFacts)))
		run := int(step["run"].(float64))
		defer func() { _, _ = RunAbort(run) }()
		_, err := RunGoContext(run, doc)
		noInternal(t, err)
		ans, err := RunGo(run, `{"name":"x"}`)
		require.NoError(t, err)
		head, _, _ := strings.Cut(ans, "\n")
		require.True(t, json.Valid([]byte(head)), "answer %q", head)
	})
}

// BenchmarkRunGoTenNoopsWithState: BenchmarkRunGoTenNoops with a context state sent
// (five state keys, two metadata keys) that the plugins do not change.
func BenchmarkRunGoTenNoopsWithState(b *testing.B) {
	exec := mustExec(b)
	goID, _ := GoPluginNew(`{"name":"g","kind":"builtin/noop"}`)
	ids := make([]int, 10)
	for i := range ids {
		ids[i] = mustRef(b, "g"+strconv.Itoa(i), "sequential", "fail", i+1, goID)
	}
	p := plan(b, exec, "tool_pre_invoke", "null", ids...)
	doc := `{"gs":{"user_id":"u1","tenant":"t","roles":["a","b"],"n":3,"flags":{"x":true}},"gm":{"a":1,"b":"x"}}`
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		step := must(RunStart(int(p["plan"].(float64)), plainFacts))
		run := runIDOf(step)
		if _, err := RunGoContext(run, doc); err != nil {
			b.Fatal(err)
		}
		if _, err := RunGo(run, `{"name":"search","args":{"q":"x"},"headers":null}`); err != nil {
			b.Fatal(err)
		}
	}
}

// A plugin that fails after writing (on_error ignore) changes nothing: its writes are not
// merged and its snapshot is not handed on; an untouched snapshot is.
func TestGoStepFailedPluginsWritesStayOut(t *testing.T) {
	exec := mustExec(t)
	quiet := probeRef(t, "quiet", "sequential", 1, `{}`)
	id, err := GoPluginNew(`{"name":"bad","kind":"builtin/test_context","hooks":["tool_pre_invoke"],"config":{"gstate":{"x":1},"gmeta":{"y":2},"fail":"no"}}`)
	require.NoError(t, err)
	t.Cleanup(func() { _, _ = GoPluginRelease(id) })
	bad := mustRef(t, "bad", "sequential", "ignore", 2, id)
	echo := probeRef(t, "echo", "sequential", 3, `{"echo":true}`)
	run, _ := goRun(t, plan(t, exec, "tool_pre_invoke", "null", quiet, bad, echo))
	_, err = RunGoContext(run, `{"gs":{"s":0},"gm":{"m":0}}`)
	require.NoError(t, err)
	step := decode(t, must(RunGo(run, `{"name":"x"}`)))
	eff := step["effects"].(map[string]any)
	assert.NotContains(t, eff, "gs")
	assert.NotContains(t, eff, "gm")
	assert.Equal(t, map[string]any{"gstate": map[string]any{"s": float64(0)}, "gmeta": map[string]any{"m": float64(0)},
		"lstate": map[string]any{}}, eff["meta"].(map[string]any)["echo"])
}

// The go step names the plugins that read extensions ("ext"), and only those get them.
func TestGoStepNamesTheExtensionReaders(t *testing.T) {
	exec := mustExec(t)
	plain := probeRef(t, "plain", "sequential", 1, `{"echo":true}`)
	reader := probeRef(t, "reader", "sequential", 2, `{"echo":true,"ext":true}`)
	run, step := goRun(t, plan(t, exec, "tool_pre_invoke", "null", plain, reader))
	assert.Equal(t, []any{float64(1)}, step["ext"])
	_, err := RunGoContext(run, `{"ext":[[1,{"request":{"environment":"prod"}}]]}`)
	require.NoError(t, err)
	step = decode(t, must(RunGo(run, `{"name":"x"}`)))
	meta := step["effects"].(map[string]any)["meta"].(map[string]any)
	assert.Equal(t, map[string]any{"request": map[string]any{"environment": "prod"}}, meta["reader"].(map[string]any)["ext"])
	assert.NotContains(t, meta["plain"], "ext")
	run, step = goRun(t, plan(t, exec, "tool_pre_invoke", "null", plain))
	assert.NotContains(t, step, "ext", "no reader, no field")
	_, _ = RunAbort(run)
}
