package core_test

import (
	"context"
	"io"
	"log/slog"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/cpex-go/cpex/core"
	"github.com/cpex-go/cpex/core/config"
)

// A call with no plugin for its hook answers "allow". Each caller owns that answer: what
// one caller writes into its result must never show in another caller's.

const allowKind = core.BuiltinPrefix + "test_allow_result"

type allowNoop struct{}

func (allowNoop) Invoke(context.Context, string, *core.Payload, *core.PluginContext) (*core.Result, error) {
	return nil, nil
}

func allowManager(t *testing.T, hooks ...string) *core.Manager {
	t.Helper()
	yaml := "plugins: []\n"
	if len(hooks) > 0 {
		yaml = "plugins:\n  - {name: other, kind: " + allowKind + ", hooks: [" + strings.Join(hooks, ", ") + "]}\n"
	}
	cfg, err := config.Parse([]byte(yaml), "allow.yaml", config.WithTemplating(false))
	require.NoError(t, err)
	m, err := core.NewManager(cfg,
		core.WithLogger(slog.New(slog.NewTextHandler(io.Discard, nil))),
		core.WithFactory(allowKind, func(core.PluginSpec) (core.Plugin, error) { return allowNoop{}, nil }))
	require.NoError(t, err)
	t.Cleanup(func() { _ = m.Shutdown(context.Background()) })
	return m
}

// scribble changes every field a caller could change.
func scribble(r *core.HookResult) {
	r.ContinueProcessing = false
	r.ModifiedPayload = core.NewPayloadValue(map[string]any{"changed": true})
	r.Violation = &core.Violation{Reason: "scribbled", Code: "X"}
	if r.Metadata == nil {
		r.Metadata = map[string]any{}
	}
	r.Metadata["scribbled"] = true
	r.RetryDelayMs = 7
	r.Executions = append(r.Executions, core.ExecutionRecord{PluginName: "scribbled"})
}

func assertCleanAllow(t *testing.T, r *core.HookResult) {
	t.Helper()
	require.NotNil(t, r)
	assert.Equal(t, core.HookResult{ContinueProcessing: true}, *r)
}

func TestAllowResultIsEachCallersOwn(t *testing.T) {
	cases := []struct {
		name  string
		hooks []string // hooks of the one loaded plugin (none: no plugin at all)
	}{
		{name: "no plugins loaded"},
		{name: "plugins only for another hook", hooks: []string{"tool_post_invoke"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			m := allowManager(t, tc.hooks...)
			first, _, err := m.InvokeHook(context.Background(), "tool_pre_invoke", nil, nil, nil)
			require.NoError(t, err)
			assertCleanAllow(t, first)
			scribble(first)

			second, _, err := m.InvokeHook(context.Background(), "tool_pre_invoke", nil, nil, nil)
			require.NoError(t, err)
			assert.NotSame(t, first, second)
			assertCleanAllow(t, second)

			// Another manager's answer is not the same value either.
			third, _, err := allowManager(t).InvokeHook(context.Background(), "tool_pre_invoke", nil, nil, nil)
			require.NoError(t, err)
			assertCleanAllow(t, third)
		})
	}
}

// Callers on many goroutines each write into their own result; with -race a shared value
// is reported as a data race, and without it the final check catches a leaked write.
func TestAllowResultConcurrentCallersDoNotShare(t *testing.T) {
	m := allowManager(t)
	const callers = 8
	var wg sync.WaitGroup
	results := make([]*core.HookResult, callers)
	for i := range callers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r, _, err := m.InvokeHook(context.Background(), "tool_pre_invoke", nil, nil, nil)
			if !assert.NoError(t, err) {
				return
			}
			scribble(r)
			results[i] = r
		}()
	}
	wg.Wait()
	for i := range results {
		for j := i + 1; j < len(results); j++ {
			assert.NotSame(t, results[i], results[j])
		}
	}
	after, _, err := m.InvokeHook(context.Background(), "tool_pre_invoke", nil, nil, nil)
	require.NoError(t, err)
	assertCleanAllow(t, after)
}
