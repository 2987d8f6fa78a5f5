package core

import (
	"context"
	"fmt"
	"runtime"
	"syscall"
	"testing"
	"time"
)

func threadCPU() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(1, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

type nop struct{}

func (nop) Invoke(context.Context, string, *Payload, *PluginContext) (*Result, error) { return nil, nil }

func measure(name string, N int, f func()) {
	best := time.Duration(1 << 62)
	for k := 0; k < 5; k++ {
		c0 := threadCPU()
		for i := 0; i < N; i++ {
			f()
		}
		if d := (threadCPU() - c0) / time.Duration(N); d < best {
			best = d
		}
	}
	fmt.Printf("%s: %d ns/op\n", name, best)
}

func TestZZParts(t *testing.T) {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	e := NewExecutor(30, PolicyAllow)
	var refs []*Ref
	for i := 0; i < 10; i++ {
		refs = append(refs, NewRef(RefSpec{Name: fmt.Sprint("p", i), Kind: "builtin/noop", Mode: "sequential", Priority: i, OnError: "fail", Plugin: nop{}}))
	}
	p := NewPlan("tool_pre_invoke", refs, nil, false, false)
	measure("statemachine10", 100000, func() {
		var r Run
		step := e.startInto(&r, p, &Facts{})
		for step.Op == OpCall {
			o := Outcome{Index: step.Index, Continue: true}
			step, _ = r.Report(&o)
		}
	})
	var cc callCtx
	pl := NewPayloadValue(map[string]any{"a": 1})
	pc := &PluginContext{}
	measure("callGo", 1000000, func() {
		cc = callCtx{}
		callGo(context.Background(), &cc, refs[0], "h", pl, pc, time.Second)
	})
	measure("timeNow", 1000000, func() { _ = time.Now() })
	measure("sizeFacts", 1000000, func() { sizeFacts(NewPayloadValue(map[string]any{"name": "search", "args": map[string]any{"q": "hello"}})) })
}

func BenchmarkZZStateMachine(b *testing.B) {
	e := NewExecutor(30, PolicyAllow)
	var refs []*Ref
	for i := 0; i < 10; i++ {
		refs = append(refs, NewRef(RefSpec{Name: fmt.Sprint("p", i), Kind: "builtin/noop", Mode: "sequential", Priority: i, OnError: "fail", Plugin: nop{}}))
	}
	p := NewPlan("tool_pre_invoke", refs, nil, false, false)
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		var r Run
		step := e.startInto(&r, p, &Facts{})
		for step.Op == OpCall {
			o := Outcome{Index: step.Index, Continue: true}
			step, _ = r.Report(&o)
		}
	}
}
