package core_test

// Spec §10.2 (loading, disabled plugins, fail_on_plugin_error), reload and shutdown of
// the Go Manager.

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/cpex-go/cpex/core"
	"github.com/cpex-go/cpex/core/config"
)

const (
	closerKind = "builtin/test_goapi_closer"
	brokenKind = "builtin/test_goapi_broken"
)

// closer records its shutdown in the recorder named by config.rec.
type closer struct {
	name string
	rec  *recorder
}

func (c *closer) Invoke(context.Context, string, *core.Payload, *core.PluginContext) (*core.Result, error) {
	c.rec.add(call{Plugin: c.name})
	return nil, nil
}

func (c *closer) Shutdown(context.Context) error {
	c.rec.add(call{Plugin: c.name + "#shutdown"})
	return nil
}

func init() {
	core.RegisterFactory(closerKind, func(spec core.PluginSpec) (core.Plugin, error) {
		r, ok := recorders.Load(spec.Config["rec"])
		if !ok {
			return nil, fmt.Errorf("config.rec: unknown recorder")
		}
		return &closer{name: spec.Name, rec: r.(*recorder)}, nil
	})
	core.RegisterFactory(brokenKind, func(core.PluginSpec) (core.Plugin, error) {
		return nil, errors.New("config.api_key: required")
	})
}

func parseCfg(t *testing.T, text string) *config.Config {
	t.Helper()
	cfg, err := config.Parse([]byte(text), t.Name()+".yaml", config.WithTemplating(false))
	require.NoError(t, err)
	return cfg
}

func TestRuleLoadingErrors(t *testing.T) {
	cases := []struct {
		name, kind string
		want       []string
		failClosed bool // a Go guard that cannot be built fails even lenient loading
	}{
		{"unknown Go kind", "builtin/test_goapi_nope", []string{`"bad"`, "builtin/test_goapi_nope"}, true},
		{"Python kind", "pkg.module.Plugin", []string{`"bad"`, "pkg.module.Plugin"}, false},
		{"factory error", brokenKind, []string{`"bad"`, "config.api_key: required"}, true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			id, _ := newRecorder()
			cfg := parseCfg(t, fmt.Sprintf("plugins:\n  - {name: ok, kind: %s, hooks: [tool_pre_invoke], config: {rec: %s}}\n  - {name: bad, kind: %s, hooks: [tool_pre_invoke]}\n", closerKind, id, c.kind))
			_, err := core.NewManager(cfg)
			require.Error(t, err)
			for _, w := range c.want {
				assert.Contains(t, err.Error(), w)
			}
			// Lenient loading (PLUGINS_FAIL_ON_PLUGIN_ERROR=false) skips a bad Python plugin,
			// never a Go guard (core.LoadFailureFailsClosed).
			m, err := core.NewManager(cfg, core.WithLenientLoading(true), core.WithLogger(nil))
			if c.failClosed {
				require.Error(t, err)
				assert.Contains(t, err.Error(), `"bad"`)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, []string{"ok"}, m.PluginNames())
			require.NoError(t, m.Shutdown(context.Background()))
		})
	}
}

// Reload swaps the plugin set; the old plugins are shut down, the new ones run.
func TestRuleReloadAndShutdown(t *testing.T) {
	id, rec := newRecorder()
	cfgA := parseCfg(t, fmt.Sprintf("plugins:\n  - {name: a, kind: %s, hooks: [tool_pre_invoke], config: {rec: %s}}\n", closerKind, id))
	cfgB := parseCfg(t, fmt.Sprintf("plugins:\n  - {name: b, kind: %s, hooks: [tool_pre_invoke], config: {rec: %s}}\n  - {name: off, kind: %s, mode: disabled, config: {rec: %s}}\n", closerKind, id, closerKind, id))
	m, err := core.NewManager(cfgA)
	require.NoError(t, err)
	invoke(t, m, "tool_pre_invoke", toolPayload("t", nil), gctx("r1"), nil)
	require.NoError(t, m.Reload(cfgB))
	assert.Equal(t, []string{"b"}, m.PluginNames())
	assert.Same(t, cfgB, m.Config())
	invoke(t, m, "tool_pre_invoke", toolPayload("t", nil), gctx("r2"), nil)

	// A reload that fails keeps the old set.
	bad := parseCfg(t, fmt.Sprintf("plugins:\n  - {name: x, kind: %s, hooks: [tool_pre_invoke]}\n", brokenKind))
	require.Error(t, m.Reload(bad))
	assert.Equal(t, []string{"b"}, m.PluginNames())

	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	require.NoError(t, m.Shutdown(ctx))
	assert.ElementsMatch(t, []string{"a", "a#shutdown", "b", "b#shutdown"}, rec.names(), "disabled plugins are never built")
	require.ErrorIs(t, m.Reload(cfgA), core.ErrManagerClosed)
	require.NoError(t, m.Shutdown(ctx), "a second shutdown is a no-op")
}

// Calls running during a reload finish; every call sees a whole plugin set.
func TestRuleConcurrentInvokesDuringReload(t *testing.T) {
	id, _ := newRecorder()
	cfg := parseCfg(t, fmt.Sprintf("plugins:\n  - {name: s, kind: %s, hooks: [tool_pre_invoke], config: {rec: %s, set: {name: x}}}\n  - {name: c, kind: %s, mode: concurrent, hooks: [tool_pre_invoke], config: {rec: %s}}\n", scriptKind, id, scriptKind, id))
	m, err := core.NewManager(cfg)
	require.NoError(t, err)
	defer func() { _ = m.Shutdown(context.Background()) }()
	var wg sync.WaitGroup
	errs := make(chan error, 200)
	for g := 0; g < 8; g++ {
		wg.Add(1)
		go func(g int) {
			defer wg.Done()
			for i := 0; i < 20; i++ {
				res, _, err := m.InvokeHook(context.Background(), "tool_pre_invoke", toolPayload("t", nil), gctx(fmt.Sprintf("r%d-%d", g, i)), nil)
				if err != nil {
					errs <- err
					continue
				}
				if len(res.Executions) != 2 {
					errs <- fmt.Errorf("got %d records", len(res.Executions))
				}
			}
		}(g)
	}
	for i := 0; i < 5; i++ {
		require.NoError(t, m.Reload(cfg))
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}

// A caller's cancelled context stops the chain with its error.
func TestRuleCallerContextCancelled(t *testing.T) {
	id, rec := newRecorder()
	m := newManager(t, id, []plugin{{name: "a", priority: 1}, {name: "b", priority: 2}})
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, _, err := m.InvokeHook(ctx, "tool_pre_invoke", toolPayload("t", nil), gctx("r"), nil)
	require.ErrorIs(t, err, context.Canceled)
	assert.NotContains(t, rec.names(), "b")
}

func TestRuleManagerOptionsValidated(t *testing.T) {
	for name, opt := range map[string]core.Option{
		"zero timeout":   core.WithTimeout(0),
		"negative pool":  core.WithExecutionPool(-1),
		"bad policy":     core.WithDefaultPolicy("maybe"),
		"non-Go factory": core.WithFactory("pkg.Cls", func(core.PluginSpec) (core.Plugin, error) { return nil, nil }),
	} {
		_, err := core.NewManager(nil, opt)
		assert.Error(t, err, name)
	}
	p, err := core.ParseDefaultPolicy("deny")
	require.NoError(t, err)
	assert.Equal(t, core.PolicyDeny, p)
	_, err = core.ParseDefaultPolicy("block")
	assert.Error(t, err)
}

// A manager-local factory (WithFactory) takes precedence and needs no registration.
func TestRuleLocalFactory(t *testing.T) {
	id, rec := newRecorder()
	cfg := parseCfg(t, fmt.Sprintf("plugins:\n  - {name: loc, kind: builtin/test_goapi_local, hooks: [tool_pre_invoke], config: {rec: %s}}\n", id))
	m, err := core.NewManager(cfg, core.WithFactory("builtin/test_goapi_local", newScript))
	require.NoError(t, err)
	defer func() { _ = m.Shutdown(context.Background()) }()
	invoke(t, m, "tool_pre_invoke", toolPayload("t", nil), gctx("r"), nil)
	assert.Equal(t, []string{"loc"}, rec.names())
}

// Shutdown drains the fire-and-forget tasks still running.
func TestRuleShutdownDrainsFireAndForget(t *testing.T) {
	id, rec := newRecorder()
	cfg := parseCfg(t, fmt.Sprintf("plugins:\n  - {name: bg, kind: %s, mode: fire_and_forget, on_error: ignore, hooks: [tool_pre_invoke], config: {rec: %s, sleep: true}}\n", scriptKind, id))
	m, err := core.NewManager(cfg, core.WithTimeout(100*time.Millisecond), core.WithLogger(nil))
	require.NoError(t, err)
	res, _ := invoke(t, m, "tool_pre_invoke", toolPayload("t", nil), gctx("r"), nil)
	require.NotNil(t, res.Background)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	require.NoError(t, m.Shutdown(ctx))
	assert.Len(t, rec.byName("bg#end"), 1, "the task finished before Shutdown returned")
}
