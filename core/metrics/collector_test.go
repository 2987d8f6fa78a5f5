package metrics_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	dto "github.com/prometheus/client_model/go"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/cpex-go/cpex/core"
	"github.com/cpex-go/cpex/core/config"
	"github.com/cpex-go/cpex/core/metrics"
)

type fn func(ctx context.Context, hook string, p *core.Payload, pc *core.PluginContext) (*core.Result, error)

func (f fn) Invoke(ctx context.Context, hook string, p *core.Payload, pc *core.PluginContext) (*core.Result, error) {
	return f(ctx, hook, p, pc)
}

// behaviours of the mixed chain, by plugin name
var behaviours = map[string]fn{
	"allow": func(context.Context, string, *core.Payload, *core.PluginContext) (*core.Result, error) {
		return nil, nil
	},
	"modify": func(context.Context, string, *core.Payload, *core.PluginContext) (*core.Result, error) {
		return &core.Result{ModifiedPayload: map[string]any{"name": "t", "args": map[string]any{"x": 2}}}, nil
	},
	"fail": func(context.Context, string, *core.Payload, *core.PluginContext) (*core.Result, error) {
		return nil, errors.New("boom")
	},
	"slow": func(ctx context.Context, _ string, _ *core.Payload, _ *core.PluginContext) (*core.Result, error) {
		<-ctx.Done() // ends at the manager's timeout
		return nil, ctx.Err()
	},
	"cond": func(context.Context, string, *core.Payload, *core.PluginContext) (*core.Result, error) {
		return nil, nil
	},
	"off": func(context.Context, string, *core.Payload, *core.PluginContext) (*core.Result, error) {
		return nil, nil
	},
	"block": func(context.Context, string, *core.Payload, *core.PluginContext) (*core.Result, error) {
		return &core.Result{Block: true, Violation: &core.Violation{Reason: "no", Code: "DENY"}}, nil
	},
	"after": func(context.Context, string, *core.Payload, *core.PluginContext) (*core.Result, error) {
		return nil, nil
	},
	"conc": func(context.Context, string, *core.Payload, *core.PluginContext) (*core.Result, error) {
		return nil, nil
	},
}

// mixedChain: one plugin per outcome, in priority order, the block last but one ("after"
// never runs: the chain halts before it).
const mixedChain = `
plugins:
  - {name: allow,  kind: builtin/t, hooks: [tool_pre_invoke], priority: 1}
  - {name: modify, kind: builtin/t, hooks: [tool_pre_invoke], priority: 2}
  - {name: fail,   kind: builtin/t, hooks: [tool_pre_invoke], priority: 3, on_error: ignore}
  - {name: slow,   kind: builtin/t, hooks: [tool_pre_invoke], priority: 4, on_error: ignore}
  - {name: cond,   kind: builtin/t, hooks: [tool_pre_invoke], priority: 5, conditions: [{tools: [other]}]}
  - {name: off,    kind: builtin/t, hooks: [tool_pre_invoke], priority: 6}
  - {name: block,  kind: builtin/t, hooks: [tool_pre_invoke], priority: 7}
  - {name: after,  kind: builtin/t, hooks: [tool_pre_invoke], priority: 8}
  - {name: conc,   kind: builtin/t, hooks: [tool_post_invoke], mode: concurrent}
`

func newManager(t *testing.T, opts ...core.Option) *core.Manager {
	t.Helper()
	cfg, err := config.Parse([]byte(mixedChain), "mixed.yaml")
	require.NoError(t, err)
	factory := func(spec core.PluginSpec) (core.Plugin, error) { return behaviours[spec.Name], nil }
	opts = append([]core.Option{core.WithFactory("builtin/t", factory), core.WithLogger(nil), core.WithTimeout(20 * time.Millisecond)}, opts...)
	m, err := core.NewManager(cfg, opts...)
	require.NoError(t, err)
	t.Cleanup(func() { _ = m.Shutdown(context.Background()) })
	m.SetRuntimeDisabled("off", true)
	return m
}

func invoke(t *testing.T, m *core.Manager, hook string) *core.HookResult {
	t.Helper()
	p := core.NewPayloadValue(map[string]any{"name": "t", "args": map[string]any{"x": 1}})
	res, _, err := m.InvokeHook(context.Background(), hook, p, &core.GlobalContext{RequestID: "r"}, nil)
	require.NoError(t, err)
	return res
}

func TestMixedChainCountsEveryOutcome(t *testing.T) {
	m := newManager(t)
	res := invoke(t, m, core.HookToolPreInvoke)
	require.False(t, res.ContinueProcessing)
	invoke(t, m, core.HookToolPostInvoke)

	reg := prometheus.NewPedanticRegistry()
	require.NoError(t, reg.Register(metrics.NewCollector(m)))
	want := `
# HELP cpex_plugin_calls_total Plugin calls by plugin, hook and outcome (allowed, blocked, modified, error, timeout, skipped_condition, disabled).
# TYPE cpex_plugin_calls_total counter
`
	rows := map[string]string{
		"allow/tool_pre_invoke": "allowed", "modify/tool_pre_invoke": "modified", "fail/tool_pre_invoke": "error",
		"slow/tool_pre_invoke": "timeout", "cond/tool_pre_invoke": "skipped_condition", "off/tool_pre_invoke": "disabled",
		"block/tool_pre_invoke": "blocked", "after/tool_pre_invoke": "", "conc/tool_post_invoke": "allowed",
	}
	var lines []string
	for key, got := range rows {
		plugin, hook, _ := strings.Cut(key, "/")
		for _, o := range []string{"allowed", "blocked", "modified", "error", "timeout", "skipped_condition", "disabled"} {
			n := "0"
			if o == got {
				n = "1"
			}
			lines = append(lines, `cpex_plugin_calls_total{hook="`+hook+`",outcome="`+o+`",plugin="`+plugin+`"} `+n)
		}
	}
	want += strings.Join(lines, "\n") + "\n"
	assert.NoError(t, testutil.GatherAndCompare(reg, strings.NewReader(want), metrics.CallsTotal))

	fams := gather(t, reg)
	// Latency: one observation per call that ran, none for a skip or a disabled plugin.
	for key, n := range map[string]uint64{"allow": 1, "modify": 1, "fail": 1, "slow": 1, "block": 1, "cond": 0, "off": 0, "after": 0, "conc": 1} {
		h := histogramOf(t, fams[metrics.PluginDuration], map[string]string{"plugin": key})
		assert.Equal(t, n, h.GetSampleCount(), key)
	}
	// The timed-out call lasted at least the 20 ms timeout: nothing under 10 ms.
	slow := histogramOf(t, fams[metrics.PluginDuration], map[string]string{"plugin": "slow"})
	for _, b := range slow.GetBucket() {
		if b.GetUpperBound() <= 0.01 {
			assert.Zero(t, b.GetCumulativeCount(), "le=%g", b.GetUpperBound())
		}
	}
	assert.GreaterOrEqual(t, slow.GetSampleSum(), 0.02)
	// A concurrent plugin's duration is measured too (its record carries none).
	assert.Greater(t, histogramOf(t, fams[metrics.PluginDuration], map[string]string{"plugin": "conc"}).GetSampleSum(), 0.0)

	// Per hook: one call each; the pre hook executed 5 plugins (allow, modify, fail,
	// slow, block), the post hook 1.
	pre := histogramOf(t, fams[metrics.HookDuration], map[string]string{"hook": "tool_pre_invoke"})
	assert.Equal(t, uint64(1), pre.GetSampleCount())
	assert.GreaterOrEqual(t, pre.GetSampleSum(), 0.02)
	chain := histogramOf(t, fams[metrics.ChainLength], map[string]string{"hook": "tool_pre_invoke"})
	assert.Equal(t, 5.0, chain.GetSampleSum())
	for _, b := range chain.GetBucket() {
		want := uint64(0)
		if b.GetUpperBound() >= 5 {
			want = 1
		}
		assert.Equal(t, want, b.GetCumulativeCount(), "chain le=%g", b.GetUpperBound())
	}
	assert.Equal(t, 1.0, histogramOf(t, fams[metrics.ChainLength], map[string]string{"hook": "tool_post_invoke"}).GetSampleSum())
}

func TestCountsAccumulateAcrossCallsAndReload(t *testing.T) {
	m := newManager(t)
	for i := 0; i < 3; i++ {
		invoke(t, m, core.HookToolPostInvoke)
	}
	cfg, err := config.Parse([]byte(mixedChain), "mixed.yaml")
	require.NoError(t, err)
	require.NoError(t, m.Reload(cfg))
	invoke(t, m, core.HookToolPostInvoke)
	reg := prometheus.NewPedanticRegistry()
	require.NoError(t, reg.Register(metrics.NewCollector(m)))
	fams := gather(t, reg)
	assert.Equal(t, 4.0, counterOf(t, fams[metrics.CallsTotal], map[string]string{"plugin": "conc", "outcome": "allowed"}))
	assert.Equal(t, uint64(4), histogramOf(t, fams[metrics.HookDuration], map[string]string{"hook": "tool_post_invoke"}).GetSampleCount())
}

func TestMetricsOffYieldsNoSeries(t *testing.T) {
	m := newManager(t, core.WithMetrics(false))
	invoke(t, m, core.HookToolPostInvoke)
	assert.Nil(t, m.Metrics())
	reg := prometheus.NewPedanticRegistry()
	require.NoError(t, reg.Register(metrics.NewCollector(m)))
	n, err := testutil.GatherAndCount(reg)
	require.NoError(t, err)
	assert.Zero(t, n)
}

func TestViolationsAsErrorsCountsABlock(t *testing.T) {
	m := newManager(t)
	p := core.NewPayloadValue(map[string]any{"name": "t", "args": map[string]any{}})
	_, _, err := m.InvokeHook(context.Background(), core.HookToolPreInvoke, p, nil, nil, core.ViolationsAsErrors())
	var ve *core.ViolationError
	require.ErrorAs(t, err, &ve)
	reg := prometheus.NewPedanticRegistry()
	require.NoError(t, reg.Register(metrics.NewCollector(m)))
	fams := gather(t, reg)
	assert.Equal(t, 1.0, counterOf(t, fams[metrics.CallsTotal], map[string]string{"plugin": "block", "outcome": "blocked"}))
	// a raise ends the hook call too
	assert.Equal(t, uint64(1), histogramOf(t, fams[metrics.HookDuration], map[string]string{"hook": "tool_pre_invoke"}).GetSampleCount())
}

func gather(t *testing.T, g prometheus.Gatherer) map[string]*dto.MetricFamily {
	t.Helper()
	fams, err := g.Gather()
	require.NoError(t, err)
	out := map[string]*dto.MetricFamily{}
	for _, f := range fams {
		out[f.GetName()] = f
	}
	return out
}

func find(t *testing.T, f *dto.MetricFamily, labels map[string]string) *dto.Metric {
	t.Helper()
	require.NotNil(t, f)
next:
	for _, m := range f.GetMetric() {
		for k, v := range labels {
			ok := false
			for _, lp := range m.GetLabel() {
				if lp.GetName() == k && lp.GetValue() == v {
					ok = true
				}
			}
			if !ok {
				continue next
			}
		}
		return m
	}
	t.Fatalf("%s: no series with %v", f.GetName(), labels)
	return nil
}

func histogramOf(t *testing.T, f *dto.MetricFamily, labels map[string]string) *dto.Histogram {
	return find(t, f, labels).GetHistogram()
}

func counterOf(t *testing.T, f *dto.MetricFamily, labels map[string]string) float64 {
	return find(t, f, labels).GetCounter().GetValue()
}

// Scrapes while calls run: no race, and once the calls are done the counts are exact.
func TestScrapeDuringCalls(t *testing.T) {
	m := newManager(t)
	reg := prometheus.NewPedanticRegistry()
	require.NoError(t, reg.Register(metrics.NewCollector(m)))
	done := make(chan struct{})
	go func() {
		defer close(done)
		for i := 0; i < 50; i++ {
			_, err := reg.Gather()
			assert.NoError(t, err)
		}
	}()
	const workers, calls = 4, 25
	errs := make(chan error, workers)
	for w := 0; w < workers; w++ {
		go func() {
			for i := 0; i < calls; i++ {
				p := core.NewPayloadValue(map[string]any{"name": "t", "args": map[string]any{}})
				if _, _, err := m.InvokeHook(context.Background(), core.HookToolPostInvoke, p, nil, nil); err != nil {
					errs <- err
					return
				}
			}
			errs <- nil
		}()
	}
	for w := 0; w < workers; w++ {
		require.NoError(t, <-errs)
	}
	<-done
	fams := gather(t, reg)
	assert.Equal(t, float64(workers*calls), counterOf(t, fams[metrics.CallsTotal], map[string]string{"plugin": "conc", "outcome": "allowed"}))
}

// Fire-and-forget tasks end after the hook call: each is counted when it ends, with
// its own duration (a task that times out as a timeout, one that fails as an error).
func TestFireAndForgetTasksAreCounted(t *testing.T) {
	cfg, err := config.Parse([]byte(`
plugins:
  - {name: allow, kind: builtin/t, hooks: [prompt_pre_fetch], mode: fire_and_forget}
  - {name: fail,  kind: builtin/t, hooks: [prompt_pre_fetch], mode: fire_and_forget, on_error: ignore}
  - {name: slow,  kind: builtin/t, hooks: [prompt_pre_fetch], mode: fire_and_forget, on_error: ignore}
`), "faf.yaml")
	require.NoError(t, err)
	factory := func(spec core.PluginSpec) (core.Plugin, error) { return behaviours[spec.Name], nil }
	m, err := core.NewManager(cfg, core.WithFactory("builtin/t", factory), core.WithLogger(nil), core.WithTimeout(20*time.Millisecond))
	require.NoError(t, err)
	t.Cleanup(func() { _ = m.Shutdown(context.Background()) })
	p := core.NewPayloadValue(map[string]any{"prompt_id": "p", "args": map[string]any{}})
	res, _, err := m.InvokeHook(context.Background(), core.HookPromptPreFetch, p, &core.GlobalContext{RequestID: "r"}, nil)
	require.NoError(t, err)
	require.NotNil(t, res.Background)
	failures, err := res.Background.Wait(context.Background())
	require.NoError(t, err)
	require.Len(t, failures, 2)

	reg := prometheus.NewPedanticRegistry()
	require.NoError(t, reg.Register(metrics.NewCollector(m)))
	fams := gather(t, reg)
	for plugin, outcome := range map[string]string{"allow": "allowed", "fail": "error", "slow": "timeout"} {
		labels := map[string]string{"plugin": plugin, "hook": core.HookPromptPreFetch}
		assert.Equal(t, 1.0, counterOf(t, fams[metrics.CallsTotal], map[string]string{"plugin": plugin, "outcome": outcome}), plugin)
		assert.Equal(t, uint64(1), histogramOf(t, fams[metrics.PluginDuration], labels).GetSampleCount(), plugin)
	}
	assert.GreaterOrEqual(t, histogramOf(t, fams[metrics.PluginDuration], map[string]string{"plugin": "slow"}).GetSampleSum(), 0.02)
}
