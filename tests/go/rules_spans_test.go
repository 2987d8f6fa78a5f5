package core_test

// Spec §11.1.5, §11.5.1 and §20: span boundaries for an observability provider.

import (
	"context"
	"fmt"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/cpex-go/cpex/core"
)

type span struct {
	trace, name, kind, resType, resName string
	attrs                               map[string]any
	ended                               bool
	status                              string
	endAttrs                            map[string]any
}

type spanLog struct {
	mu    sync.Mutex
	spans []*span
}

func (l *spanLog) StartSpan(traceID, name, kind, resourceType, resourceName string, attrs map[string]any) string {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.spans = append(l.spans, &span{trace: traceID, name: name, kind: kind, resType: resourceType, resName: resourceName, attrs: attrs})
	return fmt.Sprint(len(l.spans) - 1)
}

func (l *spanLog) EndSpan(spanID, status string, attrs map[string]any) {
	l.mu.Lock()
	defer l.mu.Unlock()
	var i int
	fmt.Sscan(spanID, &i)
	s := l.spans[i]
	s.ended, s.status, s.endAttrs = true, status, attrs
}

func (l *spanLog) byName(name string) *span {
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, s := range l.spans {
		if s.name == name {
			return s
		}
	}
	return nil
}

func (l *spanLog) count() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.spans)
}

// §20: the hook-chain span and one span per plugin, only with a trace id.
func TestRuleSpans(t *testing.T) {
	id, _ := newRecorder()
	obs := &spanLog{}
	m := newManager(t, id, []plugin{
		{name: "mod", priority: 1, script: "set: {name: x}"},
		{name: "skipped", priority: 2, extra: "conditions: [{tools: [other]}]"},
		{name: "viol", mode: "transform", script: "violation: {reason: r, description: d, code: C}"},
	}, core.WithObserver(obs))

	invoke(t, m, "tool_pre_invoke", toolPayload("t", nil), gctx("r"), nil)
	assert.Equal(t, 0, obs.count(), "no trace id, no spans")

	ctx := core.WithTraceID(context.Background(), "trace-1")
	_, _, err := m.InvokeHook(ctx, "tool_pre_invoke", toolPayload("t", nil), gctx("r"), nil)
	require.NoError(t, err)

	chain := obs.byName("plugin.hook.invoke")
	require.NotNil(t, chain)
	assert.Equal(t, "trace-1", chain.trace)
	assert.Equal(t, "internal", chain.kind)
	assert.Equal(t, "tool_pre_invoke", chain.attrs["plugin.hook.type"])
	assert.EqualValues(t, 3, chain.attrs["plugin.chain.length"], "refs before filtering")
	assert.True(t, chain.ended)
	assert.Equal(t, "ok", chain.status)
	assert.EqualValues(t, 2, chain.endAttrs["plugin.executed_count"])
	assert.EqualValues(t, 1, chain.endAttrs["plugin.skipped_count"])
	assert.Equal(t, false, chain.endAttrs["plugin.chain.stopped"])
	assert.Equal(t, "", chain.endAttrs["plugin.chain.stopped_by"])

	mod := obs.byName("plugin.execute.mod")
	require.NotNil(t, mod)
	assert.Equal(t, "plugin", mod.resType)
	assert.Equal(t, "mod", mod.resName)
	assert.Equal(t, "mod", mod.attrs["plugin.name"])
	assert.Equal(t, "sequential", mod.attrs["plugin.mode"])
	assert.EqualValues(t, 1, mod.attrs["plugin.priority"])
	assert.Contains(t, mod.attrs, "plugin.uuid")
	assert.Contains(t, mod.attrs, "plugin.timeout")
	assert.Equal(t, "ok", mod.status)
	assert.Equal(t, true, mod.endAttrs["plugin.modified_payload"])
	assert.Equal(t, false, mod.endAttrs["plugin.had_violation"])

	viol := obs.byName("plugin.execute.viol")
	require.NotNil(t, viol)
	assert.Equal(t, true, viol.endAttrs["plugin.had_violation"])
	assert.Nil(t, obs.byName("plugin.execute.skipped"), "filtered plugins get no span")
}

// §20: a halt ends the chain span with stopped_by; a failing plugin's span ends "error";
// an error that propagates leaves the chain span open (§30.7).
func TestRuleSpansOnHaltAndError(t *testing.T) {
	id, _ := newRecorder()
	obs := &spanLog{}
	m := newManager(t, id, []plugin{{name: "blk", script: "block: true"}}, core.WithObserver(obs))
	ctx := core.WithTraceID(context.Background(), "t")
	_, _, err := m.InvokeHook(ctx, "tool_pre_invoke", toolPayload("t", nil), gctx("r"), nil)
	require.NoError(t, err)
	chain := obs.byName("plugin.hook.invoke")
	require.NotNil(t, chain)
	assert.Equal(t, true, chain.endAttrs["plugin.chain.stopped"])
	assert.Equal(t, "blk", chain.endAttrs["plugin.chain.stopped_by"])

	id2, _ := newRecorder()
	obs2 := &spanLog{}
	m2 := newManager(t, id2, []plugin{{name: "bad", script: `error: "x"`}}, core.WithObserver(obs2))
	_, _, err = m2.InvokeHook(ctx, "tool_pre_invoke", toolPayload("t", nil), gctx("r"), nil)
	require.Error(t, err)
	bad := obs2.byName("plugin.execute.bad")
	require.NotNil(t, bad)
	assert.Equal(t, "error", bad.status)
	chain2 := obs2.byName("plugin.hook.invoke")
	require.NotNil(t, chain2)
	assert.False(t, chain2.ended, "the chain span is not ended when an error propagates")
}
