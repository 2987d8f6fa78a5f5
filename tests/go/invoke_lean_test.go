package core_test

// The options a Go service can choose to make a call allocate less (WithoutRecords,
// InvokeHookInto): what they leave out, what they keep, and that the plugins' contexts
// stay fresh per call.

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"sort"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/cpex-go/cpex/core"
	"github.com/cpex-go/cpex/core/config"
	"github.com/cpex-go/cpex/core/metrics/series"
)

type leanFn func(ctx context.Context, p *core.Payload, pc *core.PluginContext) (*core.Result, error)

type leanPlugin struct{ fn leanFn }

func (p *leanPlugin) Invoke(ctx context.Context, _ string, in *core.Payload, pc *core.PluginContext) (*core.Result, error) {
	if p.fn == nil {
		return nil, nil
	}
	return p.fn(ctx, in, pc)
}

const leanKind = "builtin/lean_test"

// leanManager runs fns (by name, in priority order of their position) on tool_pre_invoke.
func leanManager(t *testing.T, names []string, fns map[string]leanFn) *core.Manager {
	t.Helper()
	var sb strings.Builder
	sb.WriteString("plugins:\n")
	for i, n := range names {
		fmt.Fprintf(&sb, "  - {name: %s, kind: %s, hooks: [tool_pre_invoke], mode: sequential, priority: %d}\n", n, leanKind, i+1)
	}
	cfg, err := config.Parse([]byte(sb.String()), "lean.yaml", config.WithTemplating(false))
	require.NoError(t, err)
	m, err := core.NewManager(cfg, core.WithLogger(slog.New(slog.NewTextHandler(io.Discard, nil))),
		core.WithFactory(leanKind, func(spec core.PluginSpec) (core.Plugin, error) { return &leanPlugin{fn: fns[spec.Name]}, nil }))
	require.NoError(t, err)
	t.Cleanup(func() { _ = m.Shutdown(context.Background()) })
	return m
}

func leanPayload() *core.Payload {
	return core.NewPayloadValue(map[string]any{"name": "search", "args": map[string]any{"q": "x"}})
}

func block(_ context.Context, _ *core.Payload, _ *core.PluginContext) (*core.Result, error) {
	return &core.Result{Block: true, Violation: &core.Violation{Reason: "no", Code: "DENY"}}, nil
}

func withMeta(k string, v any) leanFn {
	return func(_ context.Context, _ *core.Payload, _ *core.PluginContext) (*core.Result, error) {
		return &core.Result{Metadata: map[string]any{k: v}}, nil
	}
}

func rename(_ context.Context, p *core.Payload, _ *core.PluginContext) (*core.Result, error) {
	v, err := p.Value()
	if err != nil {
		return nil, err
	}
	out := map[string]any{}
	for k, x := range v.(map[string]any) {
		out[k] = x
	}
	out["name"] = "renamed"
	return &core.Result{ModifiedPayload: out}, nil
}

// comparable strips what differs between two runs of the same call (durations).
func comparable(t *testing.T, res *core.HookResult, table core.ContextTable) map[string]any {
	t.Helper()
	recs := append([]core.ExecutionRecord(nil), res.Executions...)
	for i := range recs {
		recs[i].DurationNs = 0
	}
	var payload any
	if res.ModifiedPayload != nil {
		v, err := res.ModifiedPayload.Value()
		require.NoError(t, err)
		payload = v
	}
	keys := make([]string, 0, len(table))
	for k := range table {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return map[string]any{"continue": res.ContinueProcessing, "violation": res.Violation, "metadata": res.Metadata,
		"retry": res.RetryDelayMs, "payload": payload, "records": recs, "table": keys}
}

var leanChains = []struct {
	name  string
	names []string
	fns   map[string]leanFn
}{
	{"allow", []string{"a", "b", "c"}, nil},
	{"block", []string{"a", "deny", "c"}, map[string]leanFn{"deny": block}},
	{"metadata", []string{"a", "m1", "m2"}, map[string]leanFn{"m1": withMeta("k", 1), "m2": withMeta("k", 2)}},
	{"modify", []string{"a", "mod"}, map[string]leanFn{"mod": rename}},
}

// InvokeHookInto answers what InvokeHook answers, call after call into the same result,
// and reuses the records' array it was handed back.
func TestInvokeHookIntoMatchesInvokeHook(t *testing.T) {
	for _, c := range leanChains {
		t.Run(c.name, func(t *testing.T) {
			m := leanManager(t, c.names, c.fns)
			var res core.HookResult
			for call := 0; call < 3; call++ {
				want, wantTable, err := m.InvokeHook(context.Background(), "tool_pre_invoke", leanPayload(), &core.GlobalContext{RequestID: "r"}, nil)
				require.NoError(t, err)
				table, err := m.InvokeHookInto(context.Background(), &res, "tool_pre_invoke", leanPayload(), &core.GlobalContext{RequestID: "r"}, nil)
				require.NoError(t, err)
				assert.Equal(t, comparable(t, want, wantTable), comparable(t, &res, table), "call %d", call)
				require.NotEmpty(t, res.Executions)
			}
			first := &res.Executions[0]
			_, err := m.InvokeHookInto(context.Background(), &res, "tool_pre_invoke", leanPayload(), &core.GlobalContext{RequestID: "r"}, nil)
			require.NoError(t, err)
			assert.Same(t, first, &res.Executions[0], "the records are written into the array handed back")
		})
	}
}

// A result handed back is overwritten whole: nothing of the earlier call stays.
func TestInvokeHookIntoOverwritesWhole(t *testing.T) {
	var flip bool
	m := leanManager(t, []string{"m", "x"}, map[string]leanFn{
		"m": func(ctx context.Context, p *core.Payload, pc *core.PluginContext) (*core.Result, error) {
			if flip {
				return nil, nil
			}
			return block(ctx, p, pc)
		},
	})
	res := core.HookResult{Metadata: map[string]any{"stale": true}, RetryDelayMs: 7}
	_, err := m.InvokeHookInto(context.Background(), &res, "tool_pre_invoke", leanPayload(), &core.GlobalContext{RequestID: "r"}, nil)
	require.NoError(t, err)
	assert.False(t, res.ContinueProcessing)
	require.NotNil(t, res.Violation)
	assert.Equal(t, "m", res.Violation.PluginName)
	assert.Nil(t, res.Metadata)
	assert.Zero(t, res.RetryDelayMs)
	require.Len(t, res.Executions, 1)

	flip = true
	_, err = m.InvokeHookInto(context.Background(), &res, "tool_pre_invoke", leanPayload(), &core.GlobalContext{RequestID: "r"}, nil)
	require.NoError(t, err)
	assert.True(t, res.ContinueProcessing)
	assert.Nil(t, res.Violation, "the earlier call's violation is gone")
	assert.Len(t, res.Executions, 2)
}

// Errors, no plugin, a closed manager: *res holds nothing but the kept records array.
func TestInvokeHookIntoWithoutAResult(t *testing.T) {
	m := leanManager(t, []string{"deny", "b"}, map[string]leanFn{"deny": block})
	var res core.HookResult
	_, err := m.InvokeHookInto(context.Background(), &res, "tool_pre_invoke", leanPayload(), &core.GlobalContext{RequestID: "r"}, nil)
	require.NoError(t, err)
	require.Len(t, res.Executions, 1)
	kept := cap(res.Executions)

	_, err = m.InvokeHookInto(context.Background(), &res, "tool_pre_invoke", leanPayload(), &core.GlobalContext{RequestID: "r"}, nil, core.ViolationsAsErrors())
	var ve *core.ViolationError
	require.ErrorAs(t, err, &ve)
	require.Len(t, ve.Executions, 1, "the error carries its records")
	assert.Equal(t, "deny", ve.Executions[0].PluginName)
	assert.Equal(t, core.HookResult{Executions: res.Executions}, res, "on error the result holds nothing")
	assert.Empty(t, res.Executions)
	assert.Equal(t, kept, cap(res.Executions), "the array is kept for the next call")

	table, err := m.InvokeHookInto(context.Background(), &res, "tool_post_invoke", leanPayload(), &core.GlobalContext{RequestID: "r"}, nil)
	require.NoError(t, err)
	assert.Nil(t, table)
	assert.True(t, res.ContinueProcessing, "a hook with no plugin allows")
	assert.Nil(t, res.Violation)

	require.NoError(t, m.Shutdown(context.Background()))
	res.RetryDelayMs = 3
	_, err = m.InvokeHookInto(context.Background(), &res, "tool_pre_invoke", leanPayload(), &core.GlobalContext{RequestID: "r"}, nil)
	require.ErrorIs(t, err, core.ErrManagerClosed)
	assert.False(t, res.ContinueProcessing)
	assert.Zero(t, res.RetryDelayMs)
}

// Reusing the caller's result never reuses a plugin's contexts: each call gets a new
// PluginContext and a new context.Context, and those of earlier calls (kept by the
// plugin, or in an earlier table) are never written again.
func TestInvokeHookIntoContextsAreFresh(t *testing.T) {
	var mu sync.Mutex
	var ctxs []context.Context
	var pcs []*core.PluginContext
	keep := func(ctx context.Context, _ *core.Payload, pc *core.PluginContext) (*core.Result, error) {
		mu.Lock()
		ctxs, pcs = append(ctxs, ctx), append(pcs, pc)
		mu.Unlock()
		return nil, nil
	}
	m := leanManager(t, []string{"k"}, map[string]leanFn{"k": keep})
	var res core.HookResult
	var tables []core.ContextTable
	for call, opts := range [][]core.InvokeOption{nil, {core.WithoutRecords()}, {core.WithoutContextTable()}, nil} {
		table, err := m.InvokeHookInto(context.Background(), &res, "tool_pre_invoke", leanPayload(), &core.GlobalContext{RequestID: fmt.Sprint("r", call)}, nil, opts...)
		require.NoError(t, err)
		tables = append(tables, table)
	}
	require.Len(t, pcs, 4)
	for i := range pcs {
		assert.Equal(t, fmt.Sprint("r", i), pcs[i].RequestID, "call %d's context is not overwritten by a later call", i)
		assert.ErrorIs(t, ctxs[i].Err(), context.Canceled, "call %d: its context ended with the call", i)
		for j := 0; j < i; j++ {
			assert.NotSame(t, pcs[j], pcs[i], "calls %d and %d share a PluginContext", j, i)
			assert.NotEqual(t, ctxs[j], ctxs[i], "calls %d and %d share a context.Context", j, i)
		}
	}
	assert.Same(t, pcs[0], tables[0]["r0"+tableKeyUUID(t, tables[0], "r0")], "the table holds the call's own context")
	assert.Nil(t, tables[2], "WithoutContextTable still applies")
	assert.Len(t, tables[1], 1, "WithoutRecords returns the table")
}

// tableKeyUUID is the uuid part of the one key of t (rid + uuid).
func tableKeyUUID(t *testing.T, table core.ContextTable, rid string) string {
	t.Helper()
	require.Len(t, table, 1)
	for k := range table {
		require.True(t, strings.HasPrefix(k, rid))
		return k[len(rid):]
	}
	return ""
}

// WithoutRecords: no records come back, everything else does; metrics count every
// plugin as ever, and a violation error still carries its records.
func TestWithoutRecords(t *testing.T) {
	for _, c := range leanChains {
		t.Run(c.name, func(t *testing.T) {
			m := leanManager(t, c.names, c.fns)
			want, wantTable, err := m.InvokeHook(context.Background(), "tool_pre_invoke", leanPayload(), &core.GlobalContext{RequestID: "r"}, nil)
			require.NoError(t, err)
			before := callCounts(m.Metrics())
			res, table, err := m.InvokeHook(context.Background(), "tool_pre_invoke", leanPayload(), &core.GlobalContext{RequestID: "r"}, nil, core.WithoutRecords())
			require.NoError(t, err)
			assert.Nil(t, res.Executions)
			got := comparable(t, res, table)
			exp := comparable(t, want, wantTable)
			exp["records"] = []core.ExecutionRecord{}
			got["records"] = []core.ExecutionRecord{}
			assert.Equal(t, exp, got, "only the records are left out")
			after := callCounts(m.Metrics())
			for _, rec := range want.Executions {
				assert.Equal(t, before[rec.PluginName]+1, after[rec.PluginName], "plugin %s is counted", rec.PluginName)
			}
		})
	}
	m := leanManager(t, []string{"a", "deny"}, map[string]leanFn{"deny": block})
	_, _, err := m.InvokeHook(context.Background(), "tool_pre_invoke", leanPayload(), &core.GlobalContext{RequestID: "r"}, nil, core.WithoutRecords(), core.ViolationsAsErrors())
	var ve *core.ViolationError
	require.ErrorAs(t, err, &ve)
	require.Len(t, ve.Executions, 2)
	assert.Equal(t, []string{"a", "deny"}, []string{ve.Executions[0].PluginName, ve.Executions[1].PluginName})

	// The records live in memory the manager reuses: an error's copy is not overwritten
	// by the next call.
	_, _, err = m.InvokeHook(context.Background(), "tool_pre_invoke", leanPayload(), &core.GlobalContext{RequestID: "r"}, nil, core.WithoutRecords())
	require.NoError(t, err)
	assert.Equal(t, core.StatusCompleted, ve.Executions[0].Status)
	assert.Equal(t, "deny", ve.Executions[1].PluginName)
}

// callCounts: every call of tool_pre_invoke counted per plugin, whatever its outcome.
func callCounts(r *series.Registry) map[string]uint64 {
	out := map[string]uint64{}
	for _, c := range r.Snapshot().Calls {
		for _, n := range c.Calls {
			out[c.Plugin] += n
		}
	}
	return out
}

// A nil option is skipped (options are applied by value, one after the other).
func TestNilInvokeOptionIsSkipped(t *testing.T) {
	m := leanManager(t, []string{"a"}, nil)
	res, table, err := m.InvokeHook(context.Background(), "tool_pre_invoke", leanPayload(), &core.GlobalContext{RequestID: "r"}, nil, nil, core.WithoutContextTable())
	require.NoError(t, err)
	assert.True(t, res.ContinueProcessing)
	assert.Nil(t, table)
}

// Concurrent callers, each with its own result, some without records: no caller sees
// another's records, and the records an error carries stay its own (run with -race).
func TestLeanCallsConcurrently(t *testing.T) {
	m := leanManager(t, []string{"a", "b", "deny"}, map[string]leanFn{
		"deny": func(ctx context.Context, p *core.Payload, pc *core.PluginContext) (*core.Result, error) {
			if pc.RequestID[len(pc.RequestID)-1] == '0' {
				return block(ctx, p, pc)
			}
			return nil, nil
		},
	})
	var wg sync.WaitGroup
	for g := 0; g < 8; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var res core.HookResult
			var errs []*core.ViolationError
			for i := 0; i < 200; i++ {
				rid := fmt.Sprint("g", g, "-", i%10)
				var opts []core.InvokeOption
				if i%2 == 1 {
					opts = append(opts, core.WithoutRecords())
				}
				_, err := m.InvokeHookInto(context.Background(), &res, "tool_pre_invoke", leanPayload(), &core.GlobalContext{RequestID: rid}, nil, append(opts, core.ViolationsAsErrors())...)
				if i%10 == 0 {
					var ve *core.ViolationError
					if assert.ErrorAs(t, err, &ve) {
						errs = append(errs, ve)
					}
					continue
				}
				if !assert.NoError(t, err) {
					return
				}
				if i%2 == 1 {
					assert.Nil(t, res.Executions)
				} else if assert.Len(t, res.Executions, 3) {
					assert.Equal(t, "deny", res.Executions[2].PluginName)
				}
			}
			for _, ve := range errs {
				if assert.Len(t, ve.Executions, 3) {
					assert.Equal(t, []string{"a", "b", "deny"}, []string{ve.Executions[0].PluginName, ve.Executions[1].PluginName, ve.Executions[2].PluginName})
					assert.False(t, ve.Executions[2].EffectiveAllow, "the blocker's record, not a later call's")
				}
			}
		}()
	}
	wg.Wait()
}
