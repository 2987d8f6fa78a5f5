package core_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/cpex-go/cpex/core"
	"github.com/cpex-go/cpex/core/config"
)

const genKind = "builtin/test_core_generation"

// genPlugin belongs to one generation of the plugin set; it fails the call if it runs
// after its generation was shut down (Reload must wait for the calls on the old set).
type genPlugin struct {
	gen      string
	stopped  atomic.Bool
	inflight atomic.Int32
}

var genPlugins sync.Map // name → *genPlugin, per test

func init() {
	core.RegisterFactory(genKind, func(spec core.PluginSpec) (core.Plugin, error) {
		p := &genPlugin{gen: spec.Config["gen"].(string)}
		genPlugins.Store(spec.Name+"@"+p.gen+fmt.Sprint(spec.Config["serial"]), p)
		return p, nil
	})
}

func (p *genPlugin) Invoke(_ context.Context, _ string, _ *core.Payload, pc *core.PluginContext) (*core.Result, error) {
	p.inflight.Add(1)
	defer p.inflight.Add(-1)
	if p.stopped.Load() {
		return nil, fmt.Errorf("generation %s ran after its shutdown", p.gen)
	}
	pc.SetGlobal("gen-"+p.gen, true)
	pc.SetState("n", 1)
	return &core.Result{Metadata: map[string]any{"gen": p.gen}}, nil
}

func (p *genPlugin) Shutdown(context.Context) error {
	if p.inflight.Load() != 0 {
		return fmt.Errorf("generation %s shut down while a call was running", p.gen)
	}
	p.stopped.Store(true)
	return nil
}

func genConfig(t *testing.T, gen string, n, serial int) *config.Config {
	var b []byte
	b = append(b, "plugins:\n"...)
	modes := []string{"sequential", "transform", "audit", "concurrent"}
	for i := 0; i < n; i++ {
		b = append(b, fmt.Sprintf("  - {name: p%d, kind: %s, hooks: [tool_pre_invoke], mode: %s, on_error: fail, config: {gen: %q, serial: %d}}\n", i, genKind, modes[i%len(modes)], gen, serial)...)
	}
	cfg, err := config.Parse(b, "gen.yaml", config.WithTemplating(false))
	require.NoError(t, err)
	return cfg
}

// Many goroutines invoke while the plugin set is swapped again and again: every call
// sees exactly one generation, never a shut-down plugin, and -race finds no data race.
func TestInvokeWhileReloading(t *testing.T) {
	m, err := core.NewManager(genConfig(t, "A", 3, 0), core.WithLogger(slog.New(slog.NewTextHandler(io.Discard, nil))))
	require.NoError(t, err)
	const workers, calls, reloads = 8, 150, 40
	var wg sync.WaitGroup
	errs := make(chan error, workers)
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			var table core.ContextTable
			for i := 0; i < calls; i++ {
				g := &core.GlobalContext{RequestID: fmt.Sprintf("w%d", w), State: map[string]any{}}
				res, tbl, err := m.InvokeHook(context.Background(), "tool_pre_invoke", core.NewPayloadValue(map[string]any{"name": "t"}), g, table)
				if err != nil {
					errs <- err
					return
				}
				table = tbl
				gens := 0
				for k := range g.State {
					if len(k) > 4 && k[:4] == "gen-" {
						gens++
					}
				}
				if gens != 1 {
					errs <- fmt.Errorf("a call saw %d generations: %v", gens, g.State)
					return
				}
				if !res.ContinueProcessing || len(res.Executions) == 0 {
					errs <- fmt.Errorf("unexpected result %+v", res)
					return
				}
			}
		}(w)
	}
	for r := 1; r <= reloads; r++ {
		gen := string(rune('A' + r%26))
		require.NoError(t, m.Reload(genConfig(t, gen, 1+r%5, r)))
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		require.NoError(t, err)
	}
	require.NoError(t, m.Shutdown(context.Background()))
	stopped := 0
	genPlugins.Range(func(_, v any) bool {
		if v.(*genPlugin).stopped.Load() {
			stopped++
		}
		return true
	})
	assert.Positive(t, stopped, "retired generations are shut down")
	_, _, err = m.InvokeHook(context.Background(), "tool_pre_invoke", nil, nil, nil)
	assert.ErrorIs(t, err, core.ErrManagerClosed)
}

// One manager, many concurrent calls with their own global contexts: the
// runtime-disabled set and the plan cache are shared safely.
func TestConcurrentCallsShareTheExecutor(t *testing.T) {
	id, _ := newRecorder()
	m := newManager(t, id, []plugin{
		{name: "flaky", onError: "disable", script: `error: "down"`},
		{name: "ok", mode: "concurrent"},
		{name: "faf", mode: "fire_and_forget"},
	})
	var wg sync.WaitGroup
	for w := 0; w < 8; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 50; i++ {
				res, _, err := m.InvokeHook(context.Background(), "tool_pre_invoke", toolPayload("t", nil), gctx("r"), nil)
				if assert.NoError(t, err) {
					_, _ = res.Background.Wait(context.Background())
				}
			}
		}()
	}
	wg.Wait()
	assert.Equal(t, []string{"flaky"}, m.RuntimeDisabled())
}
