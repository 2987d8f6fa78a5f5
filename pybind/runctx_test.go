package pybind

import (
	"context"
	"sync"
	"testing"

	"github.com/cpex-go/cpex/core"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// A caller that gives up cancels the Go work it started: the plugin's context ends
// with Canceled, not at its deadline.

// ctxWaitPlugin says when it started, waits for its context to end and reports why.
type ctxWaitPlugin struct{ started, ended chan error }

var ctxWaits = make(chan *ctxWaitPlugin, 4) // the next plugin built

func (p *ctxWaitPlugin) Invoke(ctx context.Context, _ string, _ *core.Payload, _ *core.PluginContext) (*core.Result, error) {
	p.started <- nil
	<-ctx.Done()
	p.ended <- ctx.Err()
	return nil, ctx.Err()
}

func (p *ctxWaitPlugin) Blocking() bool { return true }

func init() {
	core.RegisterFactory("builtin/test_ctx_wait", func(core.PluginSpec) (core.Plugin, error) {
		return <-ctxWaits, nil
	})
}

func ctxWaitPluginNew(t *testing.T) (int, *ctxWaitPlugin) {
	t.Helper()
	p := &ctxWaitPlugin{started: make(chan error, 1), ended: make(chan error, 1)}
	ctxWaits <- p
	id, err := GoPluginNew(`{"name":"wait","kind":"builtin/test_ctx_wait","hooks":["tool_pre_invoke"],"config":{}}`)
	require.NoError(t, err)
	t.Cleanup(func() { _, _ = GoPluginRelease(id) })
	return id, p
}

func TestRunAbortCancelsGoWorkInFlight(t *testing.T) {
	// a short executor timeout: without the cancellation the plugin ends at its deadline
	exec, err := ExecutorNew(`{"timeout": 2, "default_policy": "allow"}`)
	require.NoError(t, err)
	t.Cleanup(func() { _, _ = ExecutorRelease(exec) })
	id, p := ctxWaitPluginNew(t)
	pl := plan(t, exec, "tool_pre_invoke", "null", mustRef(t, "wait", "sequential", "ignore", 1, id))
	run, step := goRun(t, pl)
	assert.Equal(t, float64(0), step["async"])
	r, w := pipe(t)
	_, err = goStart(run, `{"name":"x"}`, int(w.Fd()))
	require.NoError(t, err)
	<-p.started
	n, err := RunAbort(run)
	require.NoError(t, err)
	assert.Equal(t, 1, n)
	assert.ErrorIs(t, <-p.ended, context.Canceled, "RunAbort cancels the plugin's context")
	waitByte(t, r)
}

func TestGoPluginInvokeDropCancelsGoWorkInFlight(t *testing.T) {
	id, p := ctxWaitPluginNew(t)
	r, w := pipe(t)
	job, err := GoPluginInvokeStart(id, "tool_pre_invoke", `{"name":"x"}`, `{"rid":"r","timeout":2}`, int(w.Fd()))
	require.NoError(t, err)
	<-p.started
	n, err := GoPluginInvokeDrop(job)
	require.NoError(t, err)
	assert.Equal(t, 1, n)
	assert.ErrorIs(t, <-p.ended, context.Canceled, "a dropped call's plugin context is cancelled")
	waitByte(t, r)
}

// ctxKeepPlugin keeps the context and the PluginContext of every call.
type ctxKeepPlugin struct {
	mu   sync.Mutex
	ctxs []context.Context
	pcs  []*core.PluginContext
}

var ctxKeeps = make(chan *ctxKeepPlugin, 4)

func (p *ctxKeepPlugin) Invoke(ctx context.Context, _ string, _ *core.Payload, pc *core.PluginContext) (*core.Result, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.ctxs = append(p.ctxs, ctx)
	p.pcs = append(p.pcs, pc)
	return nil, nil
}

func init() {
	core.RegisterFactory("builtin/test_ctx_keep", func(core.PluginSpec) (core.Plugin, error) {
		return <-ctxKeeps, nil
	})
}

// A foreign run's Go plugins get a context (and PluginContext) per call, ended when the
// call returned: the go step of two Go plugins, run twice.
func TestGoStepContextPerCall(t *testing.T) {
	exec := mustExec(t)
	keep := &ctxKeepPlugin{}
	ctxKeeps <- keep
	id, err := GoPluginNew(`{"name":"keep","kind":"builtin/test_ctx_keep","hooks":["tool_pre_invoke"],"config":{}}`)
	require.NoError(t, err)
	t.Cleanup(func() { _, _ = GoPluginRelease(id) })
	p := plan(t, exec, "tool_pre_invoke", "null",
		mustRef(t, "k1", "sequential", "fail", 1, id), mustRef(t, "k2", "sequential", "fail", 2, id))
	for n := 0; n < 2; n++ {
		run, _ := goRun(t, p)
		step := decode(t, must(RunGo(run, `{"name":"x"}`)))
		require.Equal(t, "done", step["op"])
	}
	keep.mu.Lock()
	defer keep.mu.Unlock()
	require.Len(t, keep.ctxs, 4)
	for i, ctx := range keep.ctxs {
		assert.ErrorIs(t, ctx.Err(), context.Canceled, "call %d: ended with its call", i)
		for j := 0; j < i; j++ {
			assert.NotSame(t, keep.pcs[j], keep.pcs[i], "calls %d and %d share a PluginContext", j, i)
			assert.NotEqual(t, keep.ctxs[j], ctx, "calls %d and %d share a context", j, i)
		}
	}
}
