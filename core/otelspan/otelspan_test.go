package otelspan_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"

	"github.com/cpex-go/cpex/core"
	"github.com/cpex-go/cpex/core/config"
	"github.com/cpex-go/cpex/core/otelspan"
)

type fn func(ctx context.Context) (*core.Result, error)

func (f fn) Invoke(ctx context.Context, _ string, _ *core.Payload, _ *core.PluginContext) (*core.Result, error) {
	return f(ctx)
}

var plugins = map[string]fn{
	"allow": func(context.Context) (*core.Result, error) { return nil, nil },
	"modify": func(context.Context) (*core.Result, error) {
		return &core.Result{ModifiedPayload: map[string]any{"name": "t", "args": map[string]any{"x": 2}}}, nil
	},
	"fail": func(context.Context) (*core.Result, error) { return nil, errors.New("boom") },
	"slow": func(ctx context.Context) (*core.Result, error) { <-ctx.Done(); return nil, ctx.Err() },
	"block": func(context.Context) (*core.Result, error) {
		return &core.Result{Block: true, Violation: &core.Violation{Reason: "no", Code: "DENY"}}, nil
	},
	"conc": func(context.Context) (*core.Result, error) { return nil, nil },
	"faf":  func(context.Context) (*core.Result, error) { return nil, nil },
}

const cfgYAML = `
plugins:
  - {name: allow,  kind: builtin/t, hooks: [tool_pre_invoke], priority: 1}
  - {name: modify, kind: builtin/t, hooks: [tool_pre_invoke], priority: 2}
  - {name: fail,   kind: builtin/t, hooks: [tool_pre_invoke], priority: 3, on_error: ignore}
  - {name: slow,   kind: builtin/t, hooks: [tool_pre_invoke], priority: 4, on_error: ignore}
  - {name: conc,   kind: builtin/t, hooks: [tool_pre_invoke], priority: 5, mode: concurrent}
  - {name: faf,    kind: builtin/t, hooks: [tool_pre_invoke], priority: 6, mode: fire_and_forget}
  - {name: block,  kind: builtin/t, hooks: [tool_post_invoke], priority: 1}
`

func manager(t *testing.T, opts ...core.Option) *core.Manager {
	t.Helper()
	cfg, err := config.Parse([]byte(cfgYAML), "otel.yaml")
	require.NoError(t, err)
	f := func(spec core.PluginSpec) (core.Plugin, error) { return plugins[spec.Name], nil }
	opts = append([]core.Option{core.WithFactory("builtin/t", f), core.WithLogger(nil), core.WithTimeout(20 * time.Millisecond)}, opts...)
	m, err := core.NewManager(cfg, opts...)
	require.NoError(t, err)
	t.Cleanup(func() { _ = m.Shutdown(context.Background()) })
	return m
}

func attrs(s sdktrace.ReadOnlySpan) map[attribute.Key]attribute.Value {
	out := map[attribute.Key]attribute.Value{}
	for _, kv := range s.Attributes() {
		out[kv.Key] = kv.Value
	}
	return out
}

func TestOneSpanPerPluginCallUnderTheCallersSpan(t *testing.T) {
	rec := tracetest.NewSpanRecorder()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(rec))
	m := manager(t, otelspan.Option(tp))

	ctx, parent := tp.Tracer("test").Start(context.Background(), "request")
	p := core.NewPayloadValue(map[string]any{"name": "t", "args": map[string]any{}})
	res, _, err := m.InvokeHook(ctx, core.HookToolPreInvoke, p, nil, nil)
	require.NoError(t, err)
	_, err = res.Background.Wait(context.Background())
	require.NoError(t, err)
	res, _, err = m.InvokeHook(ctx, core.HookToolPostInvoke, p, nil, nil)
	require.NoError(t, err)
	require.False(t, res.ContinueProcessing)
	parent.End()

	byName := map[string]sdktrace.ReadOnlySpan{}
	for _, s := range rec.Ended() {
		byName[s.Name()] = s
	}
	tests := []struct {
		plugin   string
		status   codes.Code
		modified bool
		blocked  bool
		hook     string
	}{
		{"allow", codes.Ok, false, false, "tool_pre_invoke"},
		{"modify", codes.Ok, true, false, "tool_pre_invoke"},
		{"fail", codes.Error, false, false, "tool_pre_invoke"},
		{"slow", codes.Error, false, false, "tool_pre_invoke"},
		{"conc", codes.Ok, false, false, "tool_pre_invoke"},
		{"faf", codes.Ok, false, false, "tool_pre_invoke"},
		{"block", codes.Ok, false, true, "tool_post_invoke"},
	}
	for _, tc := range tests {
		t.Run(tc.plugin, func(t *testing.T) {
			s, ok := byName["plugin.execute."+tc.plugin]
			require.True(t, ok, "no span for %s", tc.plugin)
			assert.Equal(t, parent.SpanContext().SpanID(), s.Parent().SpanID(), "child of the caller's span")
			assert.Equal(t, tc.status, s.Status().Code)
			a := attrs(s)
			assert.Equal(t, tc.plugin, a["plugin.name"].AsString())
			assert.Equal(t, tc.hook, a["plugin.hook.type"].AsString())
			assert.Equal(t, tc.modified, a["plugin.modified_payload"].AsBool())
			assert.Equal(t, tc.blocked, a["plugin.blocked"].AsBool())
			assert.Equal(t, tc.blocked, a["plugin.had_violation"].AsBool())
		})
	}
	assert.Equal(t, "timeout", byName["plugin.execute.slow"].Status().Description)
	require.Len(t, byName["plugin.execute.fail"].Events(), 1, "the error is recorded")
	assert.Equal(t, "exception", byName["plugin.execute.fail"].Events()[0].Name)
	assert.Len(t, rec.Ended(), len(tests)+1) // and the parent
}

func TestNilProviderTracesNothing(t *testing.T) {
	m := manager(t, otelspan.Option(nil))
	p := core.NewPayloadValue(map[string]any{"name": "t", "args": map[string]any{}})
	res, _, err := m.InvokeHook(context.Background(), core.HookToolPostInvoke, p, nil, nil)
	require.NoError(t, err)
	assert.False(t, res.ContinueProcessing)
}
