package builtins

import (
	"context"
	"runtime"
	"strconv"
	"testing"
	"time"

	"github.com/cpex-go/cpex/core"
)

// rlBench measures one rate-limit check with the three dimensions configured, rotating
// over 1,000 users of 10 tenants. The limits are high so every call is allowed (the
// common path: allowed calls must be cheap).
func rlBench(b *testing.B, extra string) {
	cfg := guardbYAMLish(b, `{"by_user":"1000000/h","by_tenant":"1000000/h","by_tool":{"search":"1000000/h"}`+extra+`}`)
	p, err := buildRateLimiter(core.PluginSpec{Name: "bench", Kind: "builtin/rate_limiter", Hooks: rateLimiterHooks, Config: cfg}, time.Now)
	if err != nil {
		b.Fatal(err)
	}
	defer p.Shutdown(context.Background())
	ctxs := make([]*core.PluginContext, 1000)
	for i := range ctxs {
		ctxs[i] = &core.PluginContext{RequestID: "r", User: "user" + strconv.Itoa(i) + "@example.com", TenantID: "tenant" + strconv.Itoa(i%10)}
	}
	payload := core.NewPayloadValue(map[string]any{"name": "search", "args": map[string]any{"q": "x"}})
	ctx := context.Background()
	b.ReportAllocs()
	// Also report ns/op over this thread's CPU time (threadCPUTime, shared with the
	// scanner benchmarks): steadier than wall time on a shared machine. For Redis it
	// leaves out the server and the network wait, so it is the client-side cost.
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	cpu0, cpuOK := threadCPUTime()
	b.ResetTimer()
	i := 0
	for b.Loop() {
		res, err := p.Invoke(ctx, "tool_pre_invoke", payload, ctxs[i%len(ctxs)])
		if err != nil || res != nil {
			b.Fatalf("call %d: %v %+v", i, err, res)
		}
		i++
	}
	b.StopTimer()
	if cpu1, ok := threadCPUTime(); ok && cpuOK && cpu1 > cpu0 {
		b.ReportMetric(float64(cpu1-cpu0)/float64(i), "cpu-ns/op")
	}
}

func BenchmarkRateLimiterMemory(b *testing.B) { rlBench(b, "") }

func BenchmarkRateLimiterMemoryTokenBucket(b *testing.B) { rlBench(b, `,"algorithm":"token_bucket"`) }

func BenchmarkRateLimiterRedis(b *testing.B) {
	rlBench(b, `,"backend":"redis","redis_url":"`+rlRedis(b)+`"`)
}

func BenchmarkRateLimiterRedisTokenBucket(b *testing.B) {
	rlBench(b, `,"backend":"redis","algorithm":"token_bucket","redis_url":"`+rlRedis(b)+`"`)
}

func BenchmarkRateLimiterMemorySlidingWindow(b *testing.B) {
	rlBench(b, `,"algorithm":"sliding_window"`)
}

func BenchmarkRateLimiterRedisSlidingWindow(b *testing.B) {
	rlBench(b, `,"backend":"redis","algorithm":"sliding_window","redis_url":"`+rlRedis(b)+`"`)
}
