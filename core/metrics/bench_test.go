package metrics_test

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/cpex-go/cpex/core"
	_ "github.com/cpex-go/cpex/core/builtins" // builtin/noop
	"github.com/cpex-go/cpex/core/config"
	"github.com/cpex-go/cpex/core/metrics"
)

// The S6 chain (10 Go no-op plugins in sequence, as tests/go BenchmarkInvokeGoNoop10)
// with metrics off and on: the cost of counting. Compare with
//
//	go test -run '^$' -bench 'GoNoop10Metrics' -count 10 ./core/metrics | benchstat -col /metrics -
func BenchmarkInvokeGoNoop10Metrics(b *testing.B) {
	for _, on := range []bool{false, true} {
		b.Run(fmt.Sprintf("metrics=%v", on), func(b *testing.B) {
			benchChain(b, core.WithMetrics(on))
		})
	}
}

func benchChain(b *testing.B, opts ...core.Option) {
	var sb strings.Builder
	sb.WriteString("plugins:\n")
	for i := 0; i < 10; i++ {
		fmt.Fprintf(&sb, "  - {name: noop%d, kind: builtin/noop, hooks: [tool_pre_invoke], priority: %d}\n", i, i)
	}
	cfg, err := config.Parse([]byte(sb.String()), "bench.yaml", config.WithTemplating(false))
	if err != nil {
		b.Fatal(err)
	}
	m, err := core.NewManager(cfg, append([]core.Option{core.WithLogger(nil)}, opts...)...)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = m.Shutdown(context.Background()) })
	ctx := context.Background()
	payload := core.NewPayloadValue(map[string]any{"name": "search", "args": map[string]any{"q": "hello"}})
	g := &core.GlobalContext{RequestID: "r1"}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		res, _, err := m.InvokeHook(ctx, "tool_pre_invoke", payload, g, nil)
		if err != nil || !res.ContinueProcessing {
			b.Fatal(err)
		}
	}
}

// BenchmarkScrape: one Collect of a manager with 10 plugin series.
func BenchmarkScrape(b *testing.B) {
	var sb strings.Builder
	sb.WriteString("plugins:\n")
	for i := 0; i < 10; i++ {
		fmt.Fprintf(&sb, "  - {name: noop%d, kind: builtin/noop, hooks: [tool_pre_invoke], priority: %d}\n", i, i)
	}
	cfg, _ := config.Parse([]byte(sb.String()), "bench.yaml", config.WithTemplating(false))
	m, err := core.NewManager(cfg, core.WithLogger(nil))
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = m.Shutdown(context.Background()) })
	_, _, _ = m.InvokeHook(context.Background(), "tool_pre_invoke", core.NewPayloadValue(map[string]any{}), nil, nil)
	reg := prometheus.NewRegistry()
	reg.MustRegister(metrics.NewCollector(m))
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := reg.Gather(); err != nil {
			b.Fatal(err)
		}
	}
}
