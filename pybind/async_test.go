package pybind

import (
	"context"
	"os"
	"testing"

	"github.com/cpex-go/cpex/core"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// gatePlugin blocks each Invoke until its gate channel is closed: it keeps started Go
// work pending for as long as a test needs, without timing. It declares itself
// I/O-bound, so its go steps say "async": 0.
type gatePlugin struct{ gate chan struct{} }

var gates = make(chan chan struct{}, 16) // the gate of the next plugin built

func (g *gatePlugin) Invoke(ctx context.Context, _ string, _ *core.Payload, _ *core.PluginContext) (*core.Result, error) {
	select {
	case <-g.gate:
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	return &core.Result{Metadata: map[string]any{"gate": "passed"}}, nil
}

func (g *gatePlugin) Blocking() bool { return true }

func init() {
	core.RegisterFactory("builtin/test_gate", func(core.PluginSpec) (core.Plugin, error) {
		return &gatePlugin{gate: <-gates}, nil
	})
}

func gatedPlugin(t *testing.T) (goID int, open func()) {
	t.Helper()
	g := make(chan struct{})
	gates <- g
	id, err := GoPluginNew(`{"name":"gate","kind":"builtin/test_gate","hooks":["tool_pre_invoke"],"config":{}}`)
	require.NoError(t, err)
	t.Cleanup(func() { _, _ = GoPluginRelease(id) })
	var opened bool
	return id, func() {
		if !opened {
			opened = true
			close(g)
		}
	}
}

func pipe(t *testing.T) (r, w *os.File) {
	t.Helper()
	r, w, err := os.Pipe()
	require.NoError(t, err)
	t.Cleanup(func() { _ = r.Close(); _ = w.Close() })
	return r, w
}

// waitByte blocks until the Go work wrote its byte (no timing: a read of the pipe).
func waitByte(t *testing.T, r *os.File) {
	t.Helper()
	var b [1]byte
	n, err := r.Read(b[:])
	require.NoError(t, err)
	require.Equal(t, 1, n)
}

// goRun starts a run of p whose first step is a go step; answers the run id and the step.
func goRun(t testing.TB, p map[string]any) (int, map[string]any) {
	t.Helper()
	step := decode(t, must(RunStart(int(p["plan"].(float64)), plainFacts)))
	require.Equal(t, "go", step["op"], step)
	return int(step["run"].(float64)), step
}

// comparable drops what differs between two runs of the same inputs: the run id and
// the measured durations.
func comparable(m map[string]any) map[string]any {
	delete(m, "run")
	if recs, ok := m["records"].([]any); ok {
		for _, r := range recs {
			delete(r.(map[string]any), "duration_ns")
		}
	}
	return m
}

func TestRunGoStartAnswersWhatRunGoAnswers(t *testing.T) {
	exec := mustExec(t)
	rr, err := GoPluginNew(`{"name":"rr","kind":"builtin/regex_replace","hooks":["tool_pre_invoke"],"config":{"words":[{"search":"crap","replace":"crud"}]}}`)
	require.NoError(t, err)
	defer func() { _, _ = GoPluginRelease(rr) }()
	deny, err := GoPluginNew(`{"name":"deny","kind":"builtin/deny_list","hooks":["tool_pre_invoke"],"config":{"words":["forbidden"]}}`)
	require.NoError(t, err)
	defer func() { _, _ = GoPluginRelease(deny) }()
	p := plan(t, exec, "tool_pre_invoke", "null",
		mustRef(t, "rr", "transform", "fail", 1, rr), mustRef(t, "deny", "sequential", "fail", 2, deny))
	for _, tc := range []struct {
		name, payload  string
		cont, modified bool
	}{
		{"unchanged", `{"name":"search","args":{"q":"fine"}}`, true, false},
		{"modified", `{"name":"search","args":{"q":"what crap"}}`, true, true},
		{"blocked", `{"name":"search","args":{"q":"forbidden"}}`, false, false},
		{"large", `{"name":"search","args":{"q":"` + largeText(20000) + `"}}`, true, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			run, step := goRun(t, p)
			// async is measured (the plan's cost per byte, from earlier runs' clocks): under
			// load a descheduled run can read as I/O-bound (0), so only its shape is fixed here.
			assert.GreaterOrEqual(t, step["async"], float64(0))
			want := decode(t, must(RunGo(run, tc.payload)))
			require.Equal(t, "done", want["op"])
			assert.Equal(t, tc.cont, want["cont"])
			assert.Equal(t, tc.modified, want["effects"].(map[string]any)["payload"])

			run, _ = goRun(t, p)
			r, w := pipe(t)
			id, err := goStart(run, tc.payload, int(w.Fd()))
			require.NoError(t, err)
			assert.Equal(t, run, id)
			waitByte(t, r)
			got := decode(t, must(goFinish(run)))
			assert.Equal(t, run, int(got["run"].(float64)))
			assert.Equal(t, comparable(want), comparable(got))
			_, err = goFinish(run)
			require.ErrorContains(t, err, "no started Go work", "an answer is taken once")
		})
	}
}

func largeText(n int) string {
	b := make([]byte, n)
	for i := range b {
		b[i] = "abc crap "[i%9]
	}
	return string(b)
}

func TestRunGoStartErrorsNameTheField(t *testing.T) {
	exec := mustExec(t)
	noop, err := GoPluginNew(`{"name":"n","kind":"builtin/noop","hooks":["tool_pre_invoke"],"config":{}}`)
	require.NoError(t, err)
	defer func() { _, _ = GoPluginRelease(noop) }()
	p := plan(t, exec, "tool_pre_invoke", "null", mustRef(t, "n", "sequential", "fail", 1, noop))
	run, _ := goRun(t, p)
	defer func() { _, _ = RunAbort(run) }()
	r, w := pipe(t)
	for _, tc := range []struct {
		name    string
		run, fd int
		payload string
		want    []string
	}{
		{"negative fd", run, -1, `{}`, []string{"RunGoStart", "fd", "-1"}},
		{"closed fd", run, 1 << 20, `{}`, []string{"RunGoStart", "fd 1048576", "bad file descriptor"}},
		{"read end", run, int(r.Fd()), `{}`, []string{"RunGoStart", "not open for writing"}},
		{"unknown run", 987654321, int(w.Fd()), `{}`, []string{"RunGoStart", "987654321"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := goStart(tc.run, tc.payload, tc.fd)
			require.Error(t, err)
			for _, s := range tc.want {
				assert.ErrorContains(t, err, s)
			}
		})
	}
	assert.False(t, jobPending(run), "a refused start leaves nothing behind")
	// the payload is checked on the goroutine (a large one must not stall the caller)
	_, err = goStart(run, `{nope`, int(w.Fd()))
	require.NoError(t, err)
	waitByte(t, r)
	_, err = goFinish(run)
	require.Error(t, err)
	for _, s := range []string{"RunGoFinish", "payload", "invalid JSON"} {
		assert.ErrorContains(t, err, s)
	}
	_, err = goFinish(run)
	require.ErrorContains(t, err, "RunGoFinish: run")
	// the run is still usable after every refusal
	_, err = goStart(run, `{"name":"x"}`, int(w.Fd()))
	require.NoError(t, err)
	waitByte(t, r)
	step := decode(t, must(goFinish(run)))
	assert.Equal(t, "done", step["op"])
	_, err = goStart(run, `{}`, int(w.Fd()))
	require.ErrorContains(t, err, "unknown or finished run")
}

func TestRunGoStartPendingThenAbort(t *testing.T) {
	exec := mustExec(t)
	gate, open := gatedPlugin(t)
	defer open()
	p := plan(t, exec, "tool_pre_invoke", "null", mustRef(t, "gate", "sequential", "fail", 1, gate))
	run, step := goRun(t, p)
	assert.Equal(t, float64(0), step["async"], "an I/O-bound Go plugin always goes off the loop")
	r, w := pipe(t)
	_, err := goStart(run, `{"name":"x"}`, int(w.Fd()))
	require.NoError(t, err)

	_, err = goFinish(run)
	require.ErrorContains(t, err, "still running")
	_, err = RunGo(run, `{}`)
	require.ErrorContains(t, err, "call RunGoFinish")
	_, err = goStart(run, `{}`, int(w.Fd()))
	require.ErrorContains(t, err, "call RunGoFinish")

	n, err := RunAbort(run)
	require.NoError(t, err)
	assert.Equal(t, 1, n)
	assert.False(t, jobPending(run))
	open() // the Go work ends after the abort: its answer is dropped
	waitByte(t, r)
	_, err = goFinish(run)
	require.ErrorContains(t, err, "no started Go work")
	_, err = RunGo(run, `{}`)
	require.ErrorContains(t, err, "unknown or finished run")
}

func TestRunGoStartSurvivesAClosedPipe(t *testing.T) {
	exec := mustExec(t)
	gate, open := gatedPlugin(t)
	p := plan(t, exec, "tool_pre_invoke", "null", mustRef(t, "gate", "sequential", "fail", 1, gate))
	run, _ := goRun(t, p)
	r, w, err := os.Pipe()
	require.NoError(t, err)
	_, err = goStart(run, `{"name":"x"}`, int(w.Fd()))
	require.NoError(t, err)
	jobs.mu.Lock()
	j := jobs.m[run]
	jobs.mu.Unlock()
	require.NoError(t, r.Close()) // the caller's loop ended: both ends closed
	require.NoError(t, w.Close())
	open()
	<-j.done
	step := decode(t, must(goFinish(run)))
	assert.Equal(t, "done", step["op"])
	assert.Equal(t, map[string]any{"gate": "passed"}, step["effects"].(map[string]any)["meta"])
}

func TestGoPluginInvokeStartAnswersWhatGoPluginInvokeAnswers(t *testing.T) {
	rr, err := GoPluginNew(`{"name":"rr","kind":"builtin/regex_replace","hooks":["tool_pre_invoke"],"config":{"words":[{"search":"crap","replace":"crud"}]}}`)
	require.NoError(t, err)
	defer func() { _, _ = GoPluginRelease(rr) }()
	at, err := GoPluginAsync(rr)
	require.NoError(t, err)
	assert.Greater(t, at, 0)
	const facts = `{"rid":"r1","server_id":null,"tenant_id":null,"content_type":null,"user":null}`
	payload := `{"name":"search","args":{"q":"` + largeText(10000) + `"}}`
	want := must(GoPluginInvoke(rr, "tool_pre_invoke", payload, facts))
	r, w := pipe(t)
	job, err := GoPluginInvokeStart(rr, "tool_pre_invoke", payload, facts, int(w.Fd()))
	require.NoError(t, err)
	waitByte(t, r)
	// the same answer, but for the threshold of the next call (each call is measured)
	got := decode(t, must(GoPluginInvokeFinish(job)))
	wantAns := decode(t, want)
	assert.Greater(t, got["async"], float64(0))
	delete(got, "async")
	delete(wantAns, "async")
	assert.Equal(t, wantAns, got)
	_, err = GoPluginInvokeFinish(job)
	require.ErrorContains(t, err, "GoPluginInvokeFinish: job")

	job, err = GoPluginInvokeStart(rr, "tool_pre_invoke", `{x`, facts, int(w.Fd()))
	require.NoError(t, err, "the payload is checked on the goroutine")
	waitByte(t, r)
	_, err = GoPluginInvokeFinish(job)
	require.ErrorContains(t, err, "GoPluginInvokeFinish: payload: invalid JSON")
	_, err = GoPluginInvokeStart(rr, "tool_pre_invoke", payload, facts, -3)
	require.ErrorContains(t, err, "GoPluginInvokeStart: fd")
	_, err = GoPluginAsync(123456789)
	require.ErrorContains(t, err, "GoPluginAsync: id")
}

func TestGoPluginInvokeDropWhilePending(t *testing.T) {
	gate, open := gatedPlugin(t)
	at, err := GoPluginAsync(gate)
	require.NoError(t, err)
	assert.Equal(t, 0, at)
	r, w := pipe(t)
	job, err := GoPluginInvokeStart(gate, "tool_pre_invoke", `{"name":"x"}`, `{"rid":"r"}`, int(w.Fd()))
	require.NoError(t, err)
	n, err := GoPluginInvokeDrop(job)
	require.NoError(t, err)
	assert.Equal(t, 1, n)
	open()
	waitByte(t, r)
	_, err = GoPluginInvokeFinish(job)
	require.ErrorContains(t, err, "no started Go work")
	n, err = GoPluginInvokeDrop(job)
	require.NoError(t, err)
	assert.Equal(t, 0, n)
}
