package core_test

import (
	"context"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/cpex-go/cpex/core"
)

// Every Go plugin call gets its own context, cancelled when the call returns (the
// context.WithTimeout + cancel contract), whatever the mode and the driver.

// keeper records the context of each call it gets.
type keeper struct {
	mu   sync.Mutex
	ctxs []context.Context
}

func (k *keeper) fn(ctx context.Context, _ string, _ *core.Payload, _ *core.PluginContext) (*core.Result, error) {
	k.mu.Lock()
	k.ctxs = append(k.ctxs, ctx)
	k.mu.Unlock()
	return nil, nil
}

func (k *keeper) all() []context.Context {
	k.mu.Lock()
	defer k.mu.Unlock()
	return append([]context.Context(nil), k.ctxs...)
}

func TestPluginCtxCancelledAfterReturn(t *testing.T) {
	for _, mode := range []string{"sequential", "transform", "audit", "concurrent", "fire_and_forget"} {
		t.Run(mode, func(t *testing.T) {
			var k keeper
			f := newFixture(t, []fnDef{{name: "keep", mode: mode, fn: k.fn}})
			for i := 0; i < 3; i++ {
				res, _, err := f.m.InvokeHook(context.Background(), "tool_pre_invoke", toolPayload("t"), &core.GlobalContext{RequestID: "r"}, nil)
				require.NoError(t, err)
				if res.Background != nil {
					_, err := res.Background.Wait(context.Background())
					require.NoError(t, err)
				}
			}
			ctxs := k.all()
			require.Len(t, ctxs, 3)
			for i, ctx := range ctxs {
				assert.ErrorIs(t, ctx.Err(), context.Canceled, "call %d: a kept context is cancelled once the call returned", i)
				select {
				case <-ctx.Done():
				default:
					t.Errorf("call %d: a kept context is Done once the call returned", i)
				}
			}
			assert.NotEqual(t, ctxs[0], ctxs[1], "each call has its own context")
		})
	}
}

// A plugin that looks at the context of the previous plugin of the same chain sees it
// ended, while its own is live: no context is shared between calls.
func TestPluginCtxNotSharedInChain(t *testing.T) {
	var first context.Context
	var sawFirst, sawOwn error
	f := newFixture(t, []fnDef{
		{name: "a", prio: 1, fn: func(ctx context.Context, _ string, _ *core.Payload, _ *core.PluginContext) (*core.Result, error) {
			first = ctx
			return nil, nil
		}},
		{name: "b", prio: 2, fn: func(ctx context.Context, _ string, _ *core.Payload, _ *core.PluginContext) (*core.Result, error) {
			sawFirst, sawOwn = first.Err(), ctx.Err()
			return nil, nil
		}},
	})
	_, _, err := f.m.InvokeHook(context.Background(), "tool_pre_invoke", toolPayload("t"), &core.GlobalContext{RequestID: "r"}, nil)
	require.NoError(t, err)
	assert.ErrorIs(t, sawFirst, context.Canceled, "the first call's context ended with its call")
	assert.NoError(t, sawOwn)
}

// A caller's cancellation reaches a plugin blocked on its context.
func TestPluginCtxFollowsCaller(t *testing.T) {
	started := make(chan struct{})
	var got error
	f := newFixture(t, []fnDef{{name: "wait", fn: func(ctx context.Context, _ string, _ *core.Payload, _ *core.PluginContext) (*core.Result, error) {
		close(started)
		<-ctx.Done()
		got = ctx.Err()
		return nil, got
	}}})
	ctx, cancel := context.WithCancel(context.Background())
	go func() { <-started; cancel() }()
	_, _, err := f.m.InvokeHook(ctx, "tool_pre_invoke", toolPayload("t"), &core.GlobalContext{RequestID: "r"}, nil)
	require.Error(t, err)
	assert.ErrorIs(t, got, context.Canceled)
}

// Plugins that keep their context and read it from other goroutines while more
// requests run (go test -race): a recycled context would be written by the next
// request while the kept one is read.
func TestPluginCtxKeptAcrossConcurrentRequests(t *testing.T) {
	kept := make(chan context.Context, 1024)
	keep := func(ctx context.Context, _ string, _ *core.Payload, _ *core.PluginContext) (*core.Result, error) {
		select {
		case kept <- ctx:
		default:
		}
		return nil, nil
	}
	f := newFixture(t, []fnDef{{name: "a", prio: 1, fn: keep}, {name: "b", prio: 2, fn: keep}, {name: "c", prio: 3, mode: "concurrent", fn: keep}})
	stop := make(chan struct{})
	var readers sync.WaitGroup
	for r := 0; r < 4; r++ {
		readers.Add(1)
		go func() {
			defer readers.Done()
			for {
				select {
				case ctx := <-kept:
					_, _ = ctx.Deadline()
					if ctx.Err() == nil {
						select {
						case <-ctx.Done():
						case <-stop:
							return
						}
					}
					assert.Error(t, ctx.Err())
				case <-stop:
					return
				}
			}
		}()
	}
	var callers sync.WaitGroup
	for c := 0; c < 8; c++ {
		callers.Add(1)
		go func() {
			defer callers.Done()
			for i := 0; i < 200; i++ {
				_, _, err := f.m.InvokeHook(context.Background(), "tool_pre_invoke", toolPayload("t"), &core.GlobalContext{RequestID: "r"}, nil)
				assert.NoError(t, err)
			}
		}()
	}
	callers.Wait()
	close(stop)
	readers.Wait()
}

// WithoutContextTable: no table comes back, the plugins still get their contexts (the
// shared state merges as ever), and a table passed in is still read.
func TestWithoutContextTable(t *testing.T) {
	var seen []any
	f := newFixture(t, []fnDef{
		{name: "writer", prio: 1, fn: func(_ context.Context, _ string, _ *core.Payload, pc *core.PluginContext) (*core.Result, error) {
			seen = append(seen, pc.State["n"])
			pc.SetState("n", 1)
			pc.SetGlobal("g", "set")
			return nil, nil
		}},
	})
	g := &core.GlobalContext{RequestID: "r"}
	res, table, err := f.m.InvokeHook(context.Background(), "tool_pre_invoke", toolPayload("t"), g, nil, core.WithoutContextTable())
	require.NoError(t, err)
	assert.True(t, res.ContinueProcessing)
	assert.Nil(t, table, "no table is built")
	assert.Equal(t, "set", g.State["g"], "the plugin's global state is merged")

	_, table, err = f.m.InvokeHook(context.Background(), "tool_pre_invoke", toolPayload("t"), g, nil)
	require.NoError(t, err)
	require.Len(t, table, 1, "the default still returns the table")
	_, table2, err := f.m.InvokeHook(context.Background(), "tool_pre_invoke", toolPayload("t"), g, table, core.WithoutContextTable())
	require.NoError(t, err)
	assert.Nil(t, table2)
	assert.Equal(t, []any{nil, nil, 1}, seen, "a table passed in is still read: the plugin's local state carries over")
}
