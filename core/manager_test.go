package core_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/cpex-go/cpex/core"
	"github.com/cpex-go/cpex/core/config"
)

// The Go driver: Manager and InvokeHook with Go plugins defined inline.

const fnKind = core.BuiltinPrefix + "test_core_fn"

// fnPlugin runs a Go function; the tests register it with WithFactory.
type fnPlugin struct {
	fn       func(ctx context.Context, hook string, p *core.Payload, pc *core.PluginContext) (*core.Result, error)
	shutdown *atomic.Int32
}

func (f *fnPlugin) Invoke(ctx context.Context, hook string, p *core.Payload, pc *core.PluginContext) (*core.Result, error) {
	if f.fn == nil {
		return nil, nil
	}
	return f.fn(ctx, hook, p, pc)
}

func (f *fnPlugin) Shutdown(context.Context) error {
	if f.shutdown != nil {
		f.shutdown.Add(1)
	}
	return nil
}

type fnDef struct {
	name, mode, onError string
	prio                int
	hooks               string
	extra               string
	fn                  func(ctx context.Context, hook string, p *core.Payload, pc *core.PluginContext) (*core.Result, error)
}

type fixture struct {
	m        *core.Manager
	shutdown atomic.Int32
	logs     *strings.Builder
	mu       *sync.Mutex
}

func (f *fixture) logText() string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.logs.String()
}

type lockedWriter struct {
	mu *sync.Mutex
	b  *strings.Builder
}

func (w lockedWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.b.Write(p)
}

func configFor(t testing.TB, defs []fnDef) *config.Config {
	t.Helper()
	var b strings.Builder
	b.WriteString("plugins:\n")
	for _, d := range defs {
		mode, onErr, prio, hooks := d.mode, d.onError, d.prio, d.hooks
		if mode == "" {
			mode = "sequential"
		}
		if onErr == "" {
			onErr = "fail"
		}
		if prio == 0 {
			prio = 100
		}
		if hooks == "" {
			hooks = "[tool_pre_invoke]"
		}
		fmt.Fprintf(&b, "  - {name: %s, kind: %s, hooks: %s, mode: %s, on_error: %s, priority: %d, config: {fn: %s}", d.name, fnKind, hooks, mode, onErr, prio, d.name)
		if d.extra != "" {
			b.WriteString(", " + d.extra)
		}
		b.WriteString("}\n")
	}
	cfg, err := config.Parse([]byte(b.String()), "test.yaml", config.WithTemplating(false))
	require.NoError(t, err, b.String())
	return cfg
}

func newFixture(t testing.TB, defs []fnDef, opts ...core.Option) *fixture {
	t.Helper()
	f := &fixture{logs: &strings.Builder{}, mu: &sync.Mutex{}}
	fns := map[string]fnDef{}
	for _, d := range defs {
		fns[d.name] = d
	}
	factory := func(spec core.PluginSpec) (core.Plugin, error) {
		return &fnPlugin{fn: fns[spec.Name].fn, shutdown: &f.shutdown}, nil
	}
	logger := slog.New(slog.NewTextHandler(lockedWriter{f.mu, f.logs}, &slog.HandlerOptions{Level: slog.LevelDebug}))
	opts = append([]core.Option{core.WithFactory(fnKind, factory), core.WithLogger(logger)}, opts...)
	m, err := core.NewManager(configFor(t, defs), opts...)
	require.NoError(t, err)
	t.Cleanup(func() { _ = m.Shutdown(context.Background()) })
	f.m = m
	return f
}

func toolPayload(name string) *core.Payload {
	return core.NewPayloadValue(map[string]any{"name": name, "args": map[string]any{"q": "x"}})
}

func set(field string, v any) func(context.Context, string, *core.Payload, *core.PluginContext) (*core.Result, error) {
	return func(_ context.Context, _ string, p *core.Payload, _ *core.PluginContext) (*core.Result, error) {
		in, err := p.Value()
		if err != nil {
			return nil, err
		}
		out := map[string]any{}
		for k, x := range in.(map[string]any) {
			out[k] = x
		}
		out[field] = v
		return &core.Result{ModifiedPayload: out}, nil
	}
}

func payloadField(t *testing.T, p *core.Payload, field string) any {
	t.Helper()
	require.NotNil(t, p)
	return p.Field(field)
}

func TestInvokeWithoutPlugins(t *testing.T) {
	f := newFixture(t, nil)
	res, table, err := f.m.InvokeHook(context.Background(), "tool_pre_invoke", nil, nil, nil)
	require.NoError(t, err)
	assert.True(t, res.ContinueProcessing)
	assert.Nil(t, table, "no plugin for the hook: no table")
	assert.False(t, f.m.HasHooksFor("tool_pre_invoke"))
	assert.Equal(t, 0, f.m.PluginCount())
}

func TestChainStateAndContexts(t *testing.T) {
	f := newFixture(t, []fnDef{
		{name: "first", prio: 1, fn: func(_ context.Context, _ string, p *core.Payload, pc *core.PluginContext) (*core.Result, error) {
			pc.SetState("seen", pc.StateValue("seen"))
			pc.SetGlobal("by-first", true)
			pc.SetState("count", 1+intOr(pc.StateValue("count")))
			return &core.Result{Metadata: map[string]any{"who": "first", core.DecisionPluginKey: "forged"}, RetryDelayMs: 3}, nil
		}},
		{name: "second", prio: 2, fn: func(_ context.Context, _ string, p *core.Payload, pc *core.PluginContext) (*core.Result, error) {
			if pc.GlobalState["by-first"] != true {
				return nil, errors.New("did not see the first plugin's write")
			}
			return set("name", "renamed")(nil, "", p, pc)
		}},
		{name: "audit", mode: "audit", fn: func(_ context.Context, _ string, p *core.Payload, pc *core.PluginContext) (*core.Result, error) {
			pc.SetGlobal("by-audit", true)
			if p.Field("name") != "renamed" {
				return nil, errors.New("audit sees the chained payload")
			}
			return &core.Result{Metadata: map[string]any{"audit": 1}, ModifiedPayload: map[string]any{"name": "audit"}}, nil
		}},
	})
	g := &core.GlobalContext{RequestID: "req", State: map[string]any{"pre": 1}}
	res, table, err := f.m.InvokeHook(context.Background(), "tool_pre_invoke", toolPayload("t"), g, nil)
	require.NoError(t, err)
	assert.Equal(t, "renamed", payloadField(t, res.ModifiedPayload, "name"))
	assert.Equal(t, map[string]any{"who": "first", "audit": 1}, res.Metadata)
	assert.Equal(t, 3, res.RetryDelayMs)
	assert.Equal(t, map[string]any{"pre": 1, "by-first": true}, g.State, "audit writes are never merged back")
	require.Len(t, table, 3)
	// The second hook of the request reuses the contexts: private state persists.
	res, table2, err := f.m.InvokeHook(context.Background(), "tool_pre_invoke", toolPayload("t"), g, table)
	require.NoError(t, err)
	assert.True(t, res.ContinueProcessing)
	var firstCtx *core.PluginContext
	for k, pc := range table2 {
		if strings.HasPrefix(k, "req") && pc.State != nil && pc.State["count"] != nil {
			firstCtx = pc
		}
	}
	require.NotNil(t, firstCtx)
	assert.Equal(t, 2, firstCtx.State["count"])
}

func intOr(v any) int {
	n, _ := v.(int)
	return n
}

func TestPolicyDiffAndSameTree(t *testing.T) {
	f := newFixture(t, []fnDef{
		{name: "both", prio: 1, fn: func(ctx context.Context, h string, p *core.Payload, pc *core.PluginContext) (*core.Result, error) {
			return &core.Result{ModifiedPayload: map[string]any{"name": "nope", "args": map[string]any{"q": "y"}}}, nil
		}},
		{name: "name-only", prio: 2, fn: set("name", "nope")},
		{name: "not-a-map", prio: 3, fn: func(context.Context, string, *core.Payload, *core.PluginContext) (*core.Result, error) {
			return &core.Result{ModifiedPayload: []any{1}}, nil
		}},
	}, core.WithHookPolicy("tool_pre_invoke", "args"))
	res, _, err := f.m.InvokeHook(context.Background(), "tool_pre_invoke", toolPayload("t"), nil, nil)
	require.NoError(t, err)
	assert.Equal(t, "t", payloadField(t, res.ModifiedPayload, "name"))
	assert.Equal(t, map[string]any{"q": "y"}, res.ModifiedPayload.Field("args"))
	assert.Equal(t, []bool{true, false, false}, []bool{res.Executions[0].PayloadModified, res.Executions[1].PayloadModified, res.Executions[2].PayloadModified})
	assert.Contains(t, f.logText(), "Policy rejected modifications to non-writable fields: ['name']")
	assert.Contains(t, f.logText(), "unsupported type")

	handBack := func(_ context.Context, _ string, p *core.Payload, _ *core.PluginContext) (*core.Result, error) {
		v, _ := p.Value()
		return &core.Result{ModifiedPayload: v}, nil
	}
	same := newFixture(t, []fnDef{{name: "first", prio: 1, fn: handBack}, {name: "again", prio: 2, fn: handBack}})
	res, _, err = same.m.InvokeHook(context.Background(), "tool_pre_invoke", toolPayload("t"), nil, nil)
	require.NoError(t, err)
	require.NotNil(t, res.ModifiedPayload, "handing the input back is accepted")
	assert.True(t, res.Executions[0].PayloadModified, "the original becomes current: upstream counts that as a modification")
	assert.False(t, res.Executions[1].PayloadModified, "handing the current payload back is not a modification")

	deny := newFixture(t, []fnDef{{name: "p", fn: set("name", "x")}}, core.WithDefaultPolicy(core.PolicyDeny))
	res, _, err = deny.m.InvokeHook(context.Background(), "tool_pre_invoke", toolPayload("t"), nil, nil)
	require.NoError(t, err)
	assert.Nil(t, res.ModifiedPayload)
	assert.Contains(t, deny.logText(), "default hook policy (deny)")
}

func TestDecisionPluginAndCrossType(t *testing.T) {
	f := newFixture(t, []fnDef{{name: "grant", hooks: "[http_auth_check_permission]", fn: func(context.Context, string, *core.Payload, *core.PluginContext) (*core.Result, error) {
		return &core.Result{ModifiedPayload: map[string]any{"granted": true}}, nil
	}}}, core.WithHookPolicy("http_auth_check_permission", "granted"))
	res, _, err := f.m.InvokeHook(context.Background(), "http_auth_check_permission", core.NewPayloadJSON([]byte(`{"user_email":"a","permission":"p"}`)), nil, nil)
	require.NoError(t, err)
	v, err := res.ModifiedPayload.Value()
	require.NoError(t, err)
	assert.Equal(t, map[string]any{"granted": true}, v)
	assert.Equal(t, "grant", res.Metadata[core.DecisionPluginKey])
}

func TestErrorsOfGoPlugins(t *testing.T) {
	own := &core.PluginError{PluginName: "custom", Message: "own", Code: "X"}
	cases := []struct {
		name  string
		def   fnDef
		opts  []core.InvokeOption
		check func(*testing.T, *core.HookResult, error)
	}{
		{"error wrapped", fnDef{name: "e", fn: func(context.Context, string, *core.Payload, *core.PluginContext) (*core.Result, error) {
			return nil, errors.New("boom")
		}}, nil, func(t *testing.T, _ *core.HookResult, err error) {
			var pe *core.PluginError
			require.ErrorAs(t, err, &pe)
			assert.Equal(t, "e", pe.PluginName)
			assert.Equal(t, "boom", pe.Message)
			assert.EqualError(t, errors.Unwrap(pe), "boom")
		}},
		{"plugin error unchanged", fnDef{name: "e", fn: func(context.Context, string, *core.Payload, *core.PluginContext) (*core.Result, error) {
			return nil, own
		}}, nil, func(t *testing.T, _ *core.HookResult, err error) {
			assert.Same(t, own, err)
		}},
		{"unnamed plugin error gets the trusted name", fnDef{name: "named", fn: func(context.Context, string, *core.Payload, *core.PluginContext) (*core.Result, error) {
			return nil, &core.PluginError{Message: "m"}
		}}, nil, func(t *testing.T, _ *core.HookResult, err error) {
			var pe *core.PluginError
			require.ErrorAs(t, err, &pe)
			assert.Equal(t, "named", pe.PluginName)
		}},
		{"panic is contained", fnDef{name: "p", onError: "ignore", fn: func(context.Context, string, *core.Payload, *core.PluginContext) (*core.Result, error) {
			panic("kaboom")
		}}, nil, func(t *testing.T, res *core.HookResult, err error) {
			require.NoError(t, err)
			assert.True(t, res.ContinueProcessing)
			assert.Equal(t, core.StatusCompleted, res.Executions[0].Status)
		}},
		{"panic under fail", fnDef{name: "p", fn: func(context.Context, string, *core.Payload, *core.PluginContext) (*core.Result, error) {
			panic("kaboom")
		}}, nil, func(t *testing.T, _ *core.HookResult, err error) {
			assert.EqualError(t, err, "panic: kaboom")
		}},
		{"timeout via Done", fnDef{name: "slow", fn: func(ctx context.Context, _ string, _ *core.Payload, _ *core.PluginContext) (*core.Result, error) {
			<-ctx.Done()
			return nil, ctx.Err()
		}}, nil, func(t *testing.T, _ *core.HookResult, err error) {
			var pe *core.PluginError
			require.ErrorAs(t, err, &pe)
			assert.True(t, pe.Timeout)
			assert.Equal(t, "Plugin slow exceeded 0.05s timeout", pe.Message)
		}},
		{"own deadline is the executor timeout", fnDef{name: "own", onError: "ignore", fn: func(context.Context, string, *core.Payload, *core.PluginContext) (*core.Result, error) {
			// not derived from the plugin's ctx: a child of the pooled call context races
			// with its reuse until item 10 of issue 10 (a fresh context per call) lands
			sub, cancel := context.WithTimeout(context.Background(), time.Microsecond)
			defer cancel()
			<-sub.Done()
			return nil, fmt.Errorf("lookup: %w", sub.Err())
		}}, nil, func(t *testing.T, res *core.HookResult, err error) {
			require.NoError(t, err)
			assert.True(t, res.ContinueProcessing)
			require.Len(t, res.Executions, 1)
			assert.Equal(t, core.StatusTimeout, res.Executions[0].Status)
			assert.Equal(t, "Plugin own exceeded 0.05s timeout", *res.Executions[0].Reason)
		}},
		{"own connection deadline under fail", fnDef{name: "conn", fn: func(context.Context, string, *core.Payload, *core.PluginContext) (*core.Result, error) {
			return nil, fmt.Errorf("read: %w", os.ErrDeadlineExceeded)
		}}, nil, func(t *testing.T, _ *core.HookResult, err error) {
			var pe *core.PluginError
			require.ErrorAs(t, err, &pe)
			assert.True(t, pe.Timeout)
			assert.Equal(t, "Plugin conn exceeded 0.05s timeout", pe.Message)
		}},
		{"late return is a timeout", fnDef{name: "late", onError: "ignore", fn: func(ctx context.Context, _ string, _ *core.Payload, _ *core.PluginContext) (*core.Result, error) {
			d, _ := ctx.Deadline()
			time.Sleep(time.Until(d) + time.Millisecond)
			return &core.Result{Block: true}, nil
		}}, nil, func(t *testing.T, res *core.HookResult, err error) {
			require.NoError(t, err)
			assert.True(t, res.ContinueProcessing)
			assert.Equal(t, core.StatusTimeout, res.Executions[0].Status)
		}},
		{"violation error escapes with records", fnDef{name: "v", onError: "ignore", fn: func(context.Context, string, *core.Payload, *core.PluginContext) (*core.Result, error) {
			return nil, &core.ViolationError{Message: "nope", Violation: &core.Violation{Reason: "r", Code: "C"}}
		}}, nil, func(t *testing.T, _ *core.HookResult, err error) {
			var ve *core.ViolationError
			require.ErrorAs(t, err, &ve)
			assert.Equal(t, "nope", ve.Message)
			assert.Equal(t, "v", ve.Violation.PluginName)
			require.Len(t, ve.Executions, 1)
		}},
		{"block as violation error", fnDef{name: "b", fn: func(context.Context, string, *core.Payload, *core.PluginContext) (*core.Result, error) {
			return &core.Result{Block: true, Violation: &core.Violation{Reason: "r", Code: "C", Description: "d"}}, nil
		}}, []core.InvokeOption{core.ViolationsAsErrors()}, func(t *testing.T, _ *core.HookResult, err error) {
			var ve *core.ViolationError
			require.ErrorAs(t, err, &ve)
			assert.Equal(t, "tool_pre_invoke blocked by plugin b: C - r (d)", ve.Error())
			assert.Equal(t, "b", ve.Violation.PluginName)
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t, []fnDef{tc.def}, core.WithTimeout(50*time.Millisecond))
			res, _, err := f.m.InvokeHook(context.Background(), "tool_pre_invoke", toolPayload("t"), nil, nil, tc.opts...)
			tc.check(t, res, err)
		})
	}
}

func TestConcurrentPhaseRunsInParallel(t *testing.T) {
	var arrived sync.WaitGroup
	arrived.Add(2)
	meet := func(ctx context.Context, _ string, _ *core.Payload, pc *core.PluginContext) (*core.Result, error) {
		arrived.Done()
		done := make(chan struct{})
		go func() { arrived.Wait(); close(done) }()
		select {
		case <-done:
			pc.SetGlobal(pc.RequestID, true)
			return &core.Result{Metadata: map[string]any{"met": true}}, nil
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
	f := newFixture(t, []fnDef{{name: "a", mode: "concurrent", fn: meet}, {name: "b", mode: "concurrent", fn: meet}}, core.WithTimeout(10*time.Second))
	res, _, err := f.m.InvokeHook(context.Background(), "tool_pre_invoke", toolPayload("t"), &core.GlobalContext{RequestID: "r"}, nil)
	require.NoError(t, err)
	assert.Equal(t, map[string]any{"met": true}, res.Metadata)
	assert.Len(t, res.Executions, 2)
}

func TestConcurrentPoolAndHaltDrain(t *testing.T) {
	var running, peak atomic.Int32
	busy := func(_ context.Context, _ string, _ *core.Payload, pc *core.PluginContext) (*core.Result, error) {
		n := running.Add(1)
		for {
			p := peak.Load()
			if n <= p || peak.CompareAndSwap(p, n) {
				break
			}
		}
		runtime.Gosched()
		running.Add(-1)
		return nil, nil
	}
	f := newFixture(t, []fnDef{{name: "a", mode: "concurrent", fn: busy}, {name: "b", mode: "concurrent", fn: busy}, {name: "c", mode: "concurrent", fn: busy}})
	res, _, err := f.m.InvokeHook(context.Background(), "tool_pre_invoke", toolPayload("t"), nil, nil, core.WithCallPool(1))
	require.NoError(t, err)
	assert.Len(t, res.Executions, 3)
	assert.Equal(t, int32(1), peak.Load(), "a pool of one runs them one at a time")

	blocker := func(context.Context, string, *core.Payload, *core.PluginContext) (*core.Result, error) {
		return &core.Result{Block: true, Violation: &core.Violation{Code: "B"}}, nil
	}
	waiter := func(ctx context.Context, _ string, _ *core.Payload, pc *core.PluginContext) (*core.Result, error) {
		<-ctx.Done()
		return nil, ctx.Err()
	}
	h := newFixture(t, []fnDef{{name: "blk", mode: "concurrent", fn: blocker}, {name: "wait", mode: "concurrent", fn: waiter}, {name: "faf", mode: "fire_and_forget"}}, core.WithTimeout(10*time.Second))
	res, _, err = h.m.InvokeHook(context.Background(), "tool_pre_invoke", toolPayload("t"), nil, nil)
	require.NoError(t, err)
	assert.False(t, res.ContinueProcessing)
	assert.Equal(t, "blk", res.Violation.PluginName)
	assert.Equal(t, []string{"blk", "faf"}, names(res.Executions), "the cancelled sibling gets no record")
	errs, err := res.Background.Wait(context.Background())
	require.NoError(t, err)
	assert.Empty(t, errs)
}

func TestFireAndForgetFailuresAndShutdownDrain(t *testing.T) {
	release := make(chan struct{})
	var finished atomic.Bool
	f := newFixture(t, []fnDef{
		{name: "seq", fn: set("name", "changed")},
		{name: "bad", mode: "fire_and_forget", onError: "disable", fn: func(_ context.Context, _ string, p *core.Payload, _ *core.PluginContext) (*core.Result, error) {
			if p.Field("name") != "orig" {
				return nil, errors.New("fire-and-forget must see the original payload")
			}
			return nil, errors.New("failed")
		}},
		{name: "slow", mode: "fire_and_forget", fn: func(context.Context, string, *core.Payload, *core.PluginContext) (*core.Result, error) {
			<-release
			finished.Store(true)
			return nil, nil
		}},
	})
	res, _, err := f.m.InvokeHook(context.Background(), "tool_pre_invoke", toolPayload("orig"), nil, nil, core.WithCallPool(0))
	require.NoError(t, err)
	require.NotNil(t, res.Background)
	ctx, cancel := context.WithTimeout(context.Background(), time.Millisecond)
	_, err = res.Background.Wait(ctx)
	cancel()
	assert.ErrorIs(t, err, context.DeadlineExceeded, "the slow task is still running")
	close(release)
	require.NoError(t, f.m.Shutdown(context.Background()))
	assert.True(t, finished.Load(), "Shutdown drains fire-and-forget tasks")
	errs, err := res.Background.Wait(context.Background())
	require.NoError(t, err)
	require.Len(t, errs, 1)
	assert.Equal(t, "bad", errs[0].PluginName)
	assert.Equal(t, []string{"bad"}, f.m.RuntimeDisabled())
	_, _, err = f.m.InvokeHook(context.Background(), "tool_pre_invoke", toolPayload("t"), nil, nil)
	assert.ErrorIs(t, err, core.ErrManagerClosed)
	_, _, err = f.m.InvokeHook(context.Background(), "unknown_hook", toolPayload("t"), nil, nil)
	assert.ErrorIs(t, err, core.ErrManagerClosed)
	assert.ErrorIs(t, f.m.Reload(config.NewConfig()), core.ErrManagerClosed)
	assert.NoError(t, f.m.Shutdown(context.Background()), "a second Shutdown is a no-op")
	var nilBG *core.Background
	errs, err = nilBG.Wait(context.Background())
	assert.NoError(t, err)
	assert.Nil(t, errs)
}

func TestCallerCancellationStopsTheRun(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	var second atomic.Bool
	f := newFixture(t, []fnDef{
		{name: "a", prio: 1, fn: func(context.Context, string, *core.Payload, *core.PluginContext) (*core.Result, error) {
			cancel()
			return nil, nil
		}},
		{name: "b", prio: 2, fn: func(context.Context, string, *core.Payload, *core.PluginContext) (*core.Result, error) {
			second.Store(true)
			return nil, nil
		}},
	})
	_, _, err := f.m.InvokeHook(ctx, "tool_pre_invoke", toolPayload("t"), nil, nil)
	assert.ErrorIs(t, err, context.Canceled)
	assert.False(t, second.Load())
}

type spanRec struct {
	mu    sync.Mutex
	spans []string
}

func (s *spanRec) StartSpan(traceID, name, kind, resType, resName string, attrs map[string]any) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.spans = append(s.spans, fmt.Sprintf("start %s %s %s %v", traceID, name, kind, attrs["plugin.hook.type"]))
	if name == "plugin.execute.panics" {
		panic("observer bug")
	}
	return name
}

func (s *spanRec) EndSpan(id, status string, attrs map[string]any) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.spans = append(s.spans, fmt.Sprintf("end %s %s", id, status))
}

func TestObserverSpans(t *testing.T) {
	obs := &spanRec{}
	f := newFixture(t, []fnDef{
		{name: "ok", prio: 1},
		{name: "panics", prio: 2, onError: "ignore", fn: func(context.Context, string, *core.Payload, *core.PluginContext) (*core.Result, error) {
			return nil, errors.New("x")
		}},
		{name: "conc", mode: "concurrent"},
	}, core.WithObserver(obs))
	_, _, err := f.m.InvokeHook(context.Background(), "tool_pre_invoke", toolPayload("t"), nil, nil)
	require.NoError(t, err)
	assert.Empty(t, obs.spans, "no trace id: no spans")
	_, _, err = f.m.InvokeHook(core.WithTraceID(context.Background(), "trace-1"), "tool_pre_invoke", toolPayload("t"), nil, nil)
	require.NoError(t, err)
	assert.Equal(t, []string{
		"start trace-1 plugin.hook.invoke internal tool_pre_invoke",
		"start trace-1 plugin.execute.ok internal <nil>", "end plugin.execute.ok ok",
		"start trace-1 plugin.execute.panics internal <nil>", "end  error",
		"start trace-1 plugin.execute.conc internal <nil>", "end plugin.execute.conc ok",
		"end plugin.hook.invoke ok",
	}, obs.spans)
	assert.Equal(t, "trace-1", core.TraceID(core.WithTraceID(context.Background(), "trace-1")))
	assert.Equal(t, "", core.TraceID(context.Background()))
}

func TestPayloadSizeGuardForGoPayloads(t *testing.T) {
	f := newFixture(t, []fnDef{{name: "a"}})
	big := strings.Repeat("é", core.MaxPayloadSize/2+1)
	res, _, err := f.m.InvokeHook(context.Background(), "tool_pre_invoke", core.NewPayloadValue(map[string]any{"name": "t", "args": map[string]any{"a": big[:len(big)/2], "b": big[len(big)/2:]}}), nil, nil)
	require.NoError(t, err, "code points are counted, not bytes")
	assert.True(t, res.ContinueProcessing)
	huge := strings.Repeat("x", core.MaxPayloadSize+1)
	_, _, err = f.m.InvokeHook(context.Background(), "tool_pre_invoke", core.NewPayloadJSON([]byte(`{"name":"t","args":{"a":"`+huge+`"}}`)), nil, nil)
	var se *core.PayloadSizeError
	require.ErrorAs(t, err, &se)
	assert.Equal(t, "Payload size 1000001 exceeds limit of 1000000 bytes", se.Error())
	_, _, err = f.m.InvokeHook(context.Background(), "tool_pre_invoke", core.NewPayloadValue(map[string]any{"name": "t", "args": map[string]any{}, "result": []any{huge}}), nil, nil)
	require.ErrorAs(t, err, &se)
	assert.Equal(t, "Result size 1000005 exceeds limit of 1000000 bytes", se.Error())
}

func TestManagerOptionsAndLoading(t *testing.T) {
	noop := func(core.PluginSpec) (core.Plugin, error) { return &fnPlugin{}, nil }
	cases := []struct {
		name string
		yaml string
		opts []core.Option
		want string
	}{
		{"bad default policy", "", []core.Option{core.WithDefaultPolicy("maybe")}, `default policy "maybe"`},
		{"bad timeout", "", []core.Option{core.WithTimeout(0)}, "timeout"},
		{"bad pool", "", []core.Option{core.WithExecutionPool(-1)}, "execution pool -1"},
		{"bad local kind", "", []core.Option{core.WithFactory("mine", noop)}, `kind "mine"`},
		{"python kind", "plugins: [{name: p, kind: mod.Cls, hooks: [h]}]", nil, `kind "mod.Cls" is not a Go plugin`},
		{"unknown go kind", "plugins: [{name: p, kind: builtin/zzz, hooks: [h]}]", nil, `unknown Go plugin kind "builtin/zzz"`},
		{"factory error", "plugins: [{name: p, kind: builtin/fails, hooks: [h]}]", []core.Option{core.WithFactory("builtin/fails", func(core.PluginSpec) (core.Plugin, error) {
			return nil, errors.New("config key x: bad")
		})}, "config key x: bad"},
		{"factory nil", "plugins: [{name: p, kind: builtin/nil, hooks: [h]}]", []core.Option{core.WithFactory("builtin/nil", func(core.PluginSpec) (core.Plugin, error) { return nil, nil })}, "factory returned no plugin"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			cfg, err := config.Parse([]byte(tc.yaml), "t.yaml", config.WithTemplating(false))
			require.NoError(t, err)
			_, err = core.NewManager(cfg, tc.opts...)
			require.ErrorContains(t, err, tc.want)
		})
	}
	dup := config.NewConfig()
	dup.Plugins = append(dup.Plugins, config.NewPluginConfig("p", "builtin/ok"), config.NewPluginConfig("p", "builtin/ok"))
	_, err := core.NewManager(dup, core.WithFactory("builtin/ok", noop))
	require.ErrorContains(t, err, "duplicate plugin name", "configs built in Go are checked too")

	cfg, err := config.Parse([]byte("plugins: [{name: p, kind: mod.Cls, hooks: [h]}, {name: off, kind: builtin/never, mode: disabled, hooks: [h]}, {name: ok, kind: builtin/ok2, hooks: [h]}]"), "t.yaml", config.WithTemplating(false))
	require.NoError(t, err)
	m, err := core.NewManager(cfg, core.WithLenientLoading(true), core.WithLogger(slog.New(slog.NewTextHandler(io.Discard, nil))),
		core.WithFactory("builtin/ok2", noop), core.WithHookPolicies(map[string]core.HookPolicy{"h": {WritableFields: []string{"a"}}}), core.WithExecutionPool(0))
	require.NoError(t, err)
	assert.Equal(t, []string{"ok"}, m.PluginNames(), "the Python plugin is skipped, the disabled one never built")
	assert.Equal(t, 1, m.PluginCount())
	assert.Same(t, cfg, m.Config())
	m2, err := core.NewManager(nil)
	require.NoError(t, err)
	assert.Equal(t, 0, m2.PluginCount())

	dir := t.TempDir()
	path := filepath.Join(dir, "plugins.yaml")
	require.NoError(t, os.WriteFile(path, []byte("plugins:\n  - name: n\n    kind: builtin/noop_{{ env.SUFFIX | default('x') }}\n    hooks: [tool_pre_invoke]\n"), 0o600))
	lm, err := core.LoadManager(path, core.WithFactory("builtin/noop_y", noop), core.WithConfigOptions(config.WithEnv(map[string]string{"SUFFIX": "y"})))
	require.NoError(t, err)
	assert.True(t, lm.HasHooksFor("tool_pre_invoke"))
	_, err = core.LoadManager(filepath.Join(dir, "missing.yaml"))
	require.NoError(t, err, "a missing file is the empty configuration")
	require.NoError(t, os.WriteFile(path, []byte("plugins: [{name: n}]"), 0o600))
	_, err = core.LoadManager(path)
	require.Error(t, err)
}

func TestReloadSwapsAndRetires(t *testing.T) {
	var shut atomic.Int32
	entered := make(chan struct{})
	release := make(chan struct{})
	mk := func(name string, block bool) core.Factory {
		return func(core.PluginSpec) (core.Plugin, error) {
			return &fnPlugin{shutdown: &shut, fn: func(context.Context, string, *core.Payload, *core.PluginContext) (*core.Result, error) {
				if block {
					entered <- struct{}{}
					<-release
				}
				return &core.Result{Metadata: map[string]any{"gen": name}}, nil
			}}, nil
		}
	}
	cfg := func(kind string) *config.Config {
		c, err := config.Parse([]byte("plugins: [{name: p, kind: "+kind+", hooks: [tool_pre_invoke]}]"), "t.yaml", config.WithTemplating(false))
		require.NoError(t, err)
		return c
	}
	m, err := core.NewManager(cfg("builtin/gen1"), core.WithFactory("builtin/gen1", mk("1", true)), core.WithFactory("builtin/gen2", mk("2", false)))
	require.NoError(t, err)
	done := make(chan *core.HookResult)
	go func() {
		res, _, _ := m.InvokeHook(context.Background(), "tool_pre_invoke", toolPayload("t"), nil, nil)
		done <- res
	}()
	<-entered
	m.SetRuntimeDisabled("p", true)
	m.SetRuntimeDisabled("p", false)
	require.NoError(t, m.Reload(cfg("builtin/gen2")))
	assert.Equal(t, int32(0), shut.Load(), "the old set is busy: not shut down yet")
	res, _, err := m.InvokeHook(context.Background(), "tool_pre_invoke", toolPayload("t"), nil, nil)
	require.NoError(t, err)
	assert.Equal(t, "2", res.Metadata["gen"])
	close(release)
	assert.Equal(t, "1", (<-done).Metadata["gen"], "a call finishes on the set it started with")
	require.Error(t, m.Reload(cfg("builtin/unknown")), "a bad config keeps the current set")
	require.Error(t, m.Reload(nil))
	require.NoError(t, m.Shutdown(context.Background()))
	assert.Equal(t, int32(2), shut.Load(), "both generations were shut down")
	m.ResetRuntimeDisabled()
}

func TestFilteredOutGivesEmptyTable(t *testing.T) {
	f := newFixture(t, []fnDef{{name: "x", extra: "conditions: [{tools: [other]}]"}})
	res, table, err := f.m.InvokeHook(context.Background(), "tool_pre_invoke", toolPayload("t"), &core.GlobalContext{User: map[string]any{"k": 1}, ServerID: "s", TenantID: "t", ContentType: "text/plain"}, nil)
	require.NoError(t, err)
	assert.NotNil(t, table)
	assert.Empty(t, table)
	assert.Empty(t, res.Executions)
	_, table, err = f.m.InvokeHook(context.Background(), "tool_pre_invoke", core.NewPayloadValue(map[string]any{"name": 5.0}), &core.GlobalContext{User: 42}, nil)
	require.NoError(t, err)
	assert.Empty(t, table, "a non-string match value is compared as text")
}

func TestInvokePlugin(t *testing.T) {
	viol := &core.Violation{Reason: "r", Code: "C", Description: "d"}
	f := newFixture(t, []fnDef{
		{name: "mod", mode: "transform", fn: func(_ context.Context, _ string, p *core.Payload, _ *core.PluginContext) (*core.Result, error) {
			return &core.Result{Block: true, Violation: viol, ModifiedPayload: map[string]any{"name": "m"}, RetryDelayMs: 5}, nil
		}},
		{name: "blk", fn: func(context.Context, string, *core.Payload, *core.PluginContext) (*core.Result, error) {
			return &core.Result{Block: true, Violation: viol}, nil
		}},
		{name: "ok", fn: func(context.Context, string, *core.Payload, *core.PluginContext) (*core.Result, error) {
			return &core.Result{RetryDelayMs: 3}, nil
		}},
		{name: "slow", onError: "ignore", fn: func(ctx context.Context, _ string, _ *core.Payload, _ *core.PluginContext) (*core.Result, error) {
			<-ctx.Done()
			return nil, ctx.Err()
		}},
		{name: "slowfail", fn: func(ctx context.Context, _ string, _ *core.Payload, _ *core.PluginContext) (*core.Result, error) {
			<-ctx.Done()
			return nil, ctx.Err()
		}},
		{name: "err", fn: func(context.Context, string, *core.Payload, *core.PluginContext) (*core.Result, error) {
			return nil, errors.New("boom")
		}},
		{name: "raise", fn: func(context.Context, string, *core.Payload, *core.PluginContext) (*core.Result, error) {
			return nil, &core.ViolationError{Message: "raised"}
		}},
	}, core.WithTimeout(20*time.Millisecond))
	ctx := context.Background()
	res, err := f.m.InvokePlugin(ctx, "ok", "tool_pre_invoke", nil, nil)
	require.NoError(t, err)
	assert.Equal(t, 3, res.RetryDelayMs, "an allowed result comes back as is")
	res, err = f.m.InvokePlugin(ctx, "mod", "tool_pre_invoke", toolPayload("t"), nil)
	require.NoError(t, err)
	assert.False(t, res.Block, "a transform block is suppressed")
	assert.Nil(t, res.Violation)
	assert.Equal(t, map[string]any{"name": "m"}, res.ModifiedPayload)
	assert.Equal(t, 0, res.RetryDelayMs)
	res, err = f.m.InvokePlugin(ctx, "blk", "tool_pre_invoke", toolPayload("t"), nil)
	require.NoError(t, err)
	assert.True(t, res.Block)
	assert.Equal(t, "blk", res.Violation.PluginName)
	_, err = f.m.InvokePlugin(ctx, "blk", "tool_pre_invoke", toolPayload("t"), nil, core.ViolationsAsErrors())
	assert.EqualError(t, err, "tool_pre_invoke blocked by plugin blk: C - r (d)")
	_, err = f.m.InvokePlugin(ctx, "slow", "tool_pre_invoke", toolPayload("t"), nil)
	var te *core.TimeoutError
	require.ErrorAs(t, err, &te)
	assert.Equal(t, "Plugin slow exceeded 0.02s timeout", te.Error())
	_, err = f.m.InvokePlugin(ctx, "slowfail", "tool_pre_invoke", toolPayload("t"), nil)
	var pe *core.PluginError
	require.ErrorAs(t, err, &pe)
	assert.True(t, pe.Timeout)
	_, err = f.m.InvokePlugin(ctx, "err", "tool_pre_invoke", toolPayload("t"), nil)
	assert.EqualError(t, err, "boom")
	_, err = f.m.InvokePlugin(ctx, "raise", "tool_pre_invoke", toolPayload("t"), nil)
	assert.EqualError(t, err, "raised")
	_, err = f.m.InvokePlugin(ctx, "ok", "tool_post_invoke", toolPayload("t"), nil)
	assert.EqualError(t, err, "Unable to find tool_post_invoke for plugin ok.  Make sure the plugin is registered.")
	_, err = f.m.InvokePlugin(ctx, "nobody", "tool_pre_invoke", toolPayload("t"), nil)
	assert.Error(t, err)
	require.NoError(t, f.m.Shutdown(ctx))
	_, err = f.m.InvokePlugin(ctx, "ok", "tool_pre_invoke", nil, nil)
	assert.ErrorIs(t, err, core.ErrManagerClosed)
}

func TestConcurrentPluginsShareARawPayload(t *testing.T) {
	read := func(_ context.Context, _ string, p *core.Payload, _ *core.PluginContext) (*core.Result, error) {
		if p.Field("name") != "t" {
			return nil, errors.New("payload not decoded")
		}
		return nil, nil
	}
	f := newFixture(t, []fnDef{{name: "a", mode: "concurrent", fn: read}, {name: "b", mode: "concurrent", fn: read}, {name: "c", mode: "concurrent", fn: read}})
	for i := 0; i < 20; i++ {
		res, _, err := f.m.InvokeHook(context.Background(), "tool_pre_invoke", core.NewPayloadJSON([]byte(`{"name":"t","args":{}}`)), nil, nil)
		require.NoError(t, err)
		require.Len(t, res.Executions, 3)
	}
}
