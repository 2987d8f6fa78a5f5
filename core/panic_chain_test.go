package core_test

import (
	"context"
	"errors"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/cpex-go/cpex/core"
)

// The Go driver recovers a serial plugin's panic once per chain, not once per call
// (goDriver.steps): after a recovered panic the chain must go on exactly as it did when
// each call recovered its own, call after call and run after run.
func TestPanicsMidChainAreContainedAndTheChainGoesOn(t *testing.T) {
	ran := map[string]int{}
	ok := func(name string) func(context.Context, string, *core.Payload, *core.PluginContext) (*core.Result, error) {
		return func(_ context.Context, _ string, _ *core.Payload, pc *core.PluginContext) (*core.Result, error) {
			ran[name]++
			pc.SetState("seen", name)
			return nil, nil
		}
	}
	f := newFixture(t, []fnDef{
		{name: "first", prio: 1, fn: ok("first")},
		{name: "boom", prio: 2, onError: "ignore", fn: func(context.Context, string, *core.Payload, *core.PluginContext) (*core.Result, error) {
			ran["boom"]++
			panic("kaboom")
		}},
		{name: "boomerr", prio: 3, onError: "ignore", fn: func(context.Context, string, *core.Payload, *core.PluginContext) (*core.Result, error) {
			ran["boomerr"]++
			panic(errors.New("an error value"))
		}},
		{name: "last", prio: 4, fn: ok("last")},
	})
	for round := 1; round <= 3; round++ {
		res, table, err := f.m.InvokeHook(context.Background(), "tool_pre_invoke", nil, &core.GlobalContext{RequestID: "r"}, nil)
		require.NoError(t, err)
		assert.True(t, res.ContinueProcessing)
		require.Len(t, res.Executions, 4)
		for k, name := range []string{"first", "boom", "boomerr", "last"} {
			assert.Equal(t, name, res.Executions[k].PluginName)
			assert.Equal(t, core.StatusCompleted, res.Executions[k].Status)
			assert.GreaterOrEqual(t, res.Executions[k].DurationNs, int64(0))
		}
		assert.Len(t, table, 4, "every plugin that ran has its context in the table")
		for _, name := range []string{"first", "boom", "boomerr", "last"} {
			assert.Equal(t, round, ran[name], "%s runs once per call", name)
		}
	}
	logs := f.logText()
	assert.Contains(t, logs, "panic: kaboom")
	assert.Contains(t, logs, "panic: an error value")
}

func TestPanicUnderFailStopsTheChain(t *testing.T) {
	after := 0
	f := newFixture(t, []fnDef{
		{name: "boom", prio: 1, fn: func(context.Context, string, *core.Payload, *core.PluginContext) (*core.Result, error) {
			panic("kaboom")
		}},
		{name: "after", prio: 2, fn: func(context.Context, string, *core.Payload, *core.PluginContext) (*core.Result, error) {
			after++
			return nil, nil
		}},
	})
	for range 2 {
		res, table, err := f.m.InvokeHook(context.Background(), "tool_pre_invoke", nil, nil, nil)
		assert.Nil(t, res)
		assert.Nil(t, table)
		var pe *core.PluginError
		require.ErrorAs(t, err, &pe)
		assert.Equal(t, "boom", pe.PluginName)
		assert.EqualError(t, err, "panic: kaboom")
	}
	assert.Zero(t, after, "nothing runs after a failing plugin")
}
