package metrics_test

import (
	"context"
	"fmt"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/cpex-go/cpex/core"
	_ "github.com/cpex-go/cpex/core/builtins" // builtin/deny_list
	"github.com/cpex-go/cpex/core/config"
	"github.com/cpex-go/cpex/core/metrics"
)

// A Go service registers the manager's collector with its Prometheus registry (and
// serves it with promhttp.HandlerFor as usual).
func ExampleNewCollector() {
	cfg, _ := config.Parse([]byte(`
plugins:
  - {name: deny, kind: builtin/deny_list, hooks: [tool_pre_invoke], config: {words: [forbidden]}}
`), "service.yaml")
	m, err := core.NewManager(cfg, core.WithLogger(nil))
	if err != nil {
		panic(err)
	}
	defer m.Shutdown(context.Background())
	reg := prometheus.NewRegistry()
	reg.MustRegister(metrics.NewCollector(m))

	for _, q := range []string{"hello", "a forbidden word"} {
		p := core.NewPayloadValue(map[string]any{"name": "search", "args": map[string]any{"q": q}})
		_, _, _ = m.InvokeHook(context.Background(), core.HookToolPreInvoke, p, nil, nil)
	}
	fams, _ := reg.Gather()
	for _, f := range fams {
		if f.GetName() != metrics.CallsTotal {
			continue
		}
		for _, s := range f.GetMetric() {
			if v := s.GetCounter().GetValue(); v > 0 {
				fmt.Println(s.GetLabel()[1].GetValue(), s.GetLabel()[2].GetValue(), v)
			}
		}
	}
	// Output:
	// allowed deny 1
	// blocked deny 1
}
