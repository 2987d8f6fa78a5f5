package config_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"runtime"
	"syscall"
	"testing"
	"time"

	"github.com/cpex-go/cpex/core"
	"github.com/cpex-go/cpex/core/config"
)

func threadCPU() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(1 /* RUSAGE_THREAD */, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

func TestZZCPU(t *testing.T) {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	for _, c := range []struct {
		n string
		y string
	}{{"none", noopConfig(0)}, {"noop1", noopConfig(1)}, {"noop10", noopConfig(10)}, {"all", noopConfig(10, "sequential", "transform", "audit", "concurrent", "fire_and_forget")}} {
		cfg, _ := config.Parse([]byte(c.y), "b.yaml", config.WithTemplating(false))
		m, _ := core.NewManager(cfg, core.WithLogger(slog.New(slog.NewTextHandler(io.Discard, nil))))
		ctx := context.Background()
		payload := core.NewPayloadValue(map[string]any{"name": "search", "args": map[string]any{"q": "hello"}})
		g := &core.GlobalContext{RequestID: "r1"}
		best := time.Duration(1 << 62)
		const N = 100000
		for k := 0; k < 5; k++ {
			c0 := threadCPU()
			for i := 0; i < N; i++ {
				_, _, _ = m.InvokeHook(ctx, "tool_pre_invoke", payload, g, nil)
			}
			if d := (threadCPU() - c0) / N; d < best {
				best = d
			}
		}
		fmt.Printf("%s: thread-cpu %d ns/op\n", c.n, best)
		_ = m.Shutdown(ctx)
	}
}
