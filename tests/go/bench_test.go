package core_test

// Benchmarks of the executor (names fixed: the bench harness calls them).

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"testing"

	"github.com/cpex-go/cpex/core"
	_ "github.com/cpex-go/cpex/core/builtins"
	"github.com/cpex-go/cpex/core/config"
	"github.com/cpex-go/cpex/pybind"
)

func benchManager(b *testing.B, yaml string) *core.Manager {
	b.Helper()
	cfg, err := config.Parse([]byte(yaml), "bench.yaml", config.WithTemplating(false))
	if err != nil {
		b.Fatal(err)
	}
	m, err := core.NewManager(cfg, core.WithLogger(slog.New(slog.NewTextHandler(io.Discard, nil))))
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = m.Shutdown(context.Background()) })
	return m
}

func noopConfig(n int, modes ...string) string {
	var sb strings.Builder
	sb.WriteString("plugins:\n")
	for i := 0; i < n; i++ {
		mode := "sequential"
		if len(modes) > 0 {
			mode = modes[i%len(modes)]
		}
		fmt.Fprintf(&sb, "  - {name: noop%d, kind: builtin/noop, hooks: [tool_pre_invoke], mode: %s, priority: %d}\n", i, mode, i)
	}
	return sb.String()
}

func benchInvoke(b *testing.B, m *core.Manager, opts ...core.InvokeOption) {
	ctx := context.Background()
	payload := core.NewPayloadValue(map[string]any{"name": "search", "args": map[string]any{"q": "hello"}})
	g := &core.GlobalContext{RequestID: "r1"}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		res, _, err := m.InvokeHook(ctx, "tool_pre_invoke", payload, g, nil, opts...)
		if err != nil || !res.ContinueProcessing {
			b.Fatal(err)
		}
	}
}

// BenchmarkInvokeNoPlugins: a hook nobody registered for (goal ≤ 50 ns/op).
func BenchmarkInvokeNoPlugins(b *testing.B) { benchInvoke(b, benchManager(b, noopConfig(0))) }

// BenchmarkInvokeGoNoop1: one Go no-op plugin.
func BenchmarkInvokeGoNoop1(b *testing.B) { benchInvoke(b, benchManager(b, noopConfig(1))) }

// BenchmarkInvokeGoNoop10: ten Go no-op plugins in sequence (goal ≤ 2 µs/op).
func BenchmarkInvokeGoNoop10(b *testing.B) { benchInvoke(b, benchManager(b, noopConfig(10))) }

// BenchmarkInvokeAllModes: two no-op plugins in each of the five modes.
func BenchmarkInvokeAllModes(b *testing.B) {
	m := benchManager(b, noopConfig(10, "sequential", "transform", "audit", "concurrent", "fire_and_forget"))
	benchInvoke(b, m)
	b.StopTimer()
	_ = m.Shutdown(context.Background())
}

// BenchmarkForeignRoundTrip: the stepwise protocol through the pybind functions, one
// Python-side plugin per op (RunStart + RunReport per plugin, JSON both ways): what a
// Python plugin costs in core, without Python.
func BenchmarkForeignRoundTrip(b *testing.B) {
	exec, err := pybind.ExecutorNew(`{"timeout": 30, "default_policy": "allow"}`)
	if err != nil {
		b.Fatal(err)
	}
	ref, err := pybind.RefRegister(`{"uuid":"0123456789abcdef0123456789abcdef","name":"p","kind":"mod.P","mode":"sequential","priority":100,"on_error":"fail","conditions":[],"config":[],"go":0}`)
	if err != nil {
		b.Fatal(err)
	}
	planAns, err := pybind.PlanGet(exec, "tool_pre_invoke", fmt.Sprint(ref), "null")
	if err != nil {
		b.Fatal(err)
	}
	var planID int
	if _, err := fmt.Sscanf(planAns, `{"plan":%d`, &planID); err != nil {
		b.Fatal(err)
	}
	facts := `{"rid":"r1","server_id":null,"tenant_id":null,"content_type":null,"user":null,"match":"search","size":["args",5],"pool":10,"vexc":false,"trace":false,"ext":false}`
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		step, err := pybind.RunStart(planID, facts)
		if err != nil {
			b.Fatal(err)
		}
		run := leadingInt(step, `{"run":`)
		done, err := pybind.RunReport(run, `{"i":0,"st":"ok","cont":true,"mod":0,"ext":0,"viol":null,"retry":0,"dur":1200,"msg":""}`)
		if err != nil || !strings.Contains(done, `"op":"done"`) {
			b.Fatal(err, done)
		}
	}
}

// leadingInt reads the integer after prefix (the benchmark must not measure fmt).
func leadingInt(s, prefix string) int {
	n := 0
	for _, c := range s[len(prefix):] {
		if c < '0' || c > '9' {
			break
		}
		n = n*10 + int(c-'0')
	}
	return n
}

// BenchmarkInvokeGoNoop10NoTable: BenchmarkInvokeGoNoop10 for a caller that takes no
// context table back (core.WithoutContextTable).
func BenchmarkInvokeGoNoop10NoTable(b *testing.B) {
	benchInvoke(b, benchManager(b, noopConfig(10)), core.WithoutContextTable())
}

// BenchmarkInvokeGoNoop10NoRecords: BenchmarkInvokeGoNoop10 for a caller that takes no
// execution records back (core.WithoutRecords); the context table is returned.
func BenchmarkInvokeGoNoop10NoRecords(b *testing.B) {
	benchInvoke(b, benchManager(b, noopConfig(10)), core.WithoutRecords())
}

// BenchmarkInvokeGoNoop10Into: BenchmarkInvokeGoNoop10 through Manager.InvokeHookInto,
// the caller handing its result (and the records' array) back on every call; records
// and context table returned.
func BenchmarkInvokeGoNoop10Into(b *testing.B) {
	benchInvokeInto(b, benchManager(b, noopConfig(10)))
}

// BenchmarkInvokeGoNoop10Lean: the least a call can allocate: InvokeHookInto with
// core.WithoutContextTable (records written into the caller's array, no table); the
// plugins still get a fresh PluginContext and context.Context per call.
func BenchmarkInvokeGoNoop10Lean(b *testing.B) {
	benchInvokeInto(b, benchManager(b, noopConfig(10)), core.WithoutContextTable())
}

// BenchmarkInvokeNoPluginsInto: BenchmarkInvokeNoPlugins through InvokeHookInto.
func BenchmarkInvokeNoPluginsInto(b *testing.B) { benchInvokeInto(b, benchManager(b, noopConfig(0))) }

func benchInvokeInto(b *testing.B, m *core.Manager, opts ...core.InvokeOption) {
	ctx := context.Background()
	payload := core.NewPayloadValue(map[string]any{"name": "search", "args": map[string]any{"q": "hello"}})
	g := &core.GlobalContext{RequestID: "r1"}
	var res core.HookResult
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		_, err := m.InvokeHookInto(ctx, &res, "tool_pre_invoke", payload, g, nil, opts...)
		if err != nil || !res.ContinueProcessing {
			b.Fatal(err)
		}
	}
}
