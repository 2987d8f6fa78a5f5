package host

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"

	"github.com/cpex-go/cpex/core/config"
	"github.com/cpex-go/cpex/core/engine"
	"github.com/cpex-go/cpex/core/plugin"
)

type pluginFn func(ctx context.Context, hook string, p *plugin.Payload, pc *plugin.PluginContext) (*plugin.Result, error)

func (f pluginFn) Invoke(ctx context.Context, hook string, p *plugin.Payload, pc *plugin.PluginContext) (*plugin.Result, error) {
	return f(ctx, hook, p, pc)
}

// Each part of callChain, seen through the outcome callGo classifies.
func TestCallChainParts(t *testing.T) {
	ref := func(f pluginFn) *engine.Ref {
		return engine.NewRef(engine.RefSpec{Name: "p", Kind: "builtin/x", Mode: config.ModeSequential, OnError: config.OnErrorFail, Plugin: f})
	}
	obj := plugin.NewPayloadValue(map[string]any{"a": 1.0})

	_, o := callGo(context.Background(), nil, ref(func(context.Context, string, *plugin.Payload, *plugin.PluginContext) (*plugin.Result, error) {
		panic("boom")
	}), "h", obj, &plugin.PluginContext{}, time.Minute)
	assert.Equal(t, engine.OutcomeError, o.Status, "a panic is the plugin's error")
	assert.Equal(t, "panic: boom", o.Message)

	called := false
	_, o = callGo(context.Background(), nil, ref(func(context.Context, string, *plugin.Payload, *plugin.PluginContext) (*plugin.Result, error) {
		called = true
		return nil, nil
	}), "h", plugin.NewPayloadJSON([]byte(`[1]`)), &plugin.PluginContext{}, time.Minute)
	assert.False(t, called, "the plugin never sees a payload that is not an object")
	assert.Equal(t, engine.OutcomeError, o.Status)

	var deadline time.Time
	_, o = callGo(context.Background(), nil, ref(func(ctx context.Context, _ string, _ *plugin.Payload, _ *plugin.PluginContext) (*plugin.Result, error) {
		deadline, _ = ctx.Deadline()
		return nil, nil
	}), "h", obj, &plugin.PluginContext{}, time.Hour)
	assert.Equal(t, engine.OutcomeOK, o.Status)
	assert.WithinDuration(t, time.Now().Add(time.Hour), deadline, time.Minute, "the call's context carries the timeout")
	assert.GreaterOrEqual(t, o.DurationNs, int64(0), "the duration comes from its clock readings")

	_, o = callGo(context.Background(), nil, ref(func(ctx context.Context, _ string, _ *plugin.Payload, _ *plugin.PluginContext) (*plugin.Result, error) {
		<-ctx.Done()
		return nil, ctx.Err()
	}), "h", obj, &plugin.PluginContext{}, time.Nanosecond)
	assert.Equal(t, engine.OutcomeTimeout, o.Status, "a call past its deadline is a timeout")
}

type spanLog struct{ ends []string }

func (s *spanLog) StartSpan(string, string, string, string, string, map[string]any) string {
	return "id"
}
func (s *spanLog) EndSpan(_ string, status string, _ map[string]any) { s.ends = append(s.ends, status) }

func TestCallSpanEndsWithTheCallsStatus(t *testing.T) {
	log := &spanLog{}
	ok := engine.NewRef(engine.RefSpec{Name: "ok", Kind: "builtin/x", Mode: config.ModeSequential, Plugin: pluginFn(func(context.Context, string, *plugin.Payload, *plugin.PluginContext) (*plugin.Result, error) {
		return nil, nil
	})})
	bad := engine.NewRef(engine.RefSpec{Name: "bad", Kind: "builtin/x", Mode: config.ModeSequential, Plugin: pluginFn(func(context.Context, string, *plugin.Payload, *plugin.PluginContext) (*plugin.Result, error) {
		panic("x")
	})})
	for _, r := range []*engine.Ref{ok, bad} {
		c := newCall(r, "h", plugin.NewPayloadValue(map[string]any{}), &plugin.PluginContext{}, time.Minute)
		c.span = &callSpan{trace: "trace", observer: log, secs: 60}
		callGoAt(context.Background(), c, new(engine.Outcome))
	}
	untraced := newCall(ok, "h", plugin.NewPayloadValue(map[string]any{}), &plugin.PluginContext{}, time.Minute)
	callGoAt(context.Background(), untraced, new(engine.Outcome))
	assert.Equal(t, []string{"ok", "error"}, log.ends, "one span per traced call, none for an untraced one")
}
