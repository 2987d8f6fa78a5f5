package remotetest

import (
	"context"
	"runtime"
	"testing"

	"github.com/cpex-go/cpex/core"
)

// BenchCalls measures no-op tool_pre_invoke calls of p from callers concurrent
// goroutines (1: a plain loop).
func BenchCalls(b *testing.B, p core.Plugin, callers int) {
	payload := []byte(`{"name":"noop","args":{"q":"x"}}`)
	call := func() error {
		_, err := p.Invoke(context.Background(), "tool_pre_invoke", core.NewPayloadJSON(payload), &core.PluginContext{RequestID: "r"})
		return err
	}
	b.ReportAllocs()
	b.ResetTimer()
	if callers <= 1 {
		for range b.N {
			if err := call(); err != nil {
				b.Fatal(err)
			}
		}
		return
	}
	// RunParallel starts parallelism*GOMAXPROCS goroutines: round up to callers.
	procs := runtime.GOMAXPROCS(0)
	b.SetParallelism(max(1, (callers+procs-1)/procs))
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if err := call(); err != nil {
				b.Error(err)
				return
			}
		}
	})
}
