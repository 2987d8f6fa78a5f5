package pybind

import (
	"context"
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
	_, err = RunGoStart(run, `{"name":"x"}`, int(w.Fd()))
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
