package isolated

import (
	"context"
	"os"
	"testing"

	"github.com/cpex-go/cpex/core"
)

// BenchmarkInvoke: the host's own cost per call against the fake worker (a Go process
// answering at once), serial and with parallel callers multiplexed on one worker.
func BenchmarkInvoke(b *testing.B) {
	exe, err := os.Executable()
	if err != nil {
		b.Fatal(err)
	}
	o := Options{PluginDirs: []string{b.TempDir()}, SkipVenv: true,
		WorkerArgv: func(string) []string { return []string{exe} }, Env: []string{"FAKE_ISOLATED_WORKER=echo"}}
	p, err := New(context.Background(), fakeConfig("bench"), o)
	if err != nil {
		b.Fatal(err)
	}
	defer p.Shutdown(context.Background()) //nolint:errcheck
	payload := core.NewPayloadJSON([]byte(`{"name":"t","args":{}}`))
	b.Run("serial", func(b *testing.B) {
		for i := 0; i < b.N; i++ {
			if _, err := p.Invoke(context.Background(), "tool_pre_invoke", payload, &core.PluginContext{RequestID: "r"}); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("parallel", func(b *testing.B) {
		b.SetParallelism(32)
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				if _, err := p.Invoke(context.Background(), "tool_pre_invoke", payload, &core.PluginContext{RequestID: "r"}); err != nil {
					b.Error(err)
					return
				}
			}
		})
	})
}
