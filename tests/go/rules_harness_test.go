package core_test

// Harness of the black-box executor rule tests (rules_*_test.go): one scripted Go
// plugin kind whose behaviour comes from its `config:` block, a recorder of what each
// plugin saw, and helpers to build a Manager from YAML. Everything here is written
// from spec §11–§13, §15 and §30, against core's public API only.

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/cpex-go/cpex/core"
	"github.com/cpex-go/cpex/core/config"
)

const scriptKind = "builtin/test_goapi_script"

func init() { core.RegisterFactory(scriptKind, newScript) }

// call is what one plugin invocation saw.
type call struct {
	Plugin      string
	Hook        string
	Payload     map[string]any
	GlobalState map[string]any
	State       map[string]any
	RequestID   string
}

// recorder collects the calls of one test; scripts find it by the `rec` config key.
type recorder struct {
	mu    sync.Mutex
	calls []call
}

var (
	recorders sync.Map // id → *recorder
	recSeq    atomic.Int64
)

func newRecorder() (string, *recorder) {
	id := fmt.Sprintf("rec%d", recSeq.Add(1))
	r := &recorder{}
	recorders.Store(id, r)
	return id, r
}

func (r *recorder) add(c call) {
	r.mu.Lock()
	r.calls = append(r.calls, c)
	r.mu.Unlock()
}

func (r *recorder) all() []call {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]call(nil), r.calls...)
}

// names lists the plugins called, in call order.
func (r *recorder) names() []string {
	var out []string
	for _, c := range r.all() {
		out = append(out, c.Plugin)
	}
	return out
}

func (r *recorder) byName(name string) []call {
	var out []call
	for _, c := range r.all() {
		if c.Plugin == name {
			out = append(out, c)
		}
	}
	return out
}

// script is the scripted plugin. Config keys:
//
//	rec      recorder id (required)
//	set      {field: value} → modified payload = input with these top-level fields replaced
//	replace  any            → modified payload = exactly this value
//	block    true           → continue_processing=False
//	violation {reason, description, code}
//	metadata {k: v}, retry <ms>
//	error "<msg>"           → Invoke returns an error
//	plugin_error "<msg>"    → Invoke returns a *core.PluginError
//	panic "<msg>"           → Invoke panics
//	sleep true              → wait until the context ends, return its error
//	gstate {k: v}, gdelete [k] → writes to the shared global state
//	lstate {k: v}           → writes to the plugin's private state
//	gmeta {k: v}            → writes to the shared metadata
//	echo true               → result metadata <name>: {gstate, gmeta, lstate} as handed (before writing)
type script struct {
	name string
	cfg  map[string]any
	rec  *recorder
}

func newScript(spec core.PluginSpec) (core.Plugin, error) {
	id, _ := spec.Config["rec"].(string)
	r, ok := recorders.Load(id)
	if !ok {
		return nil, fmt.Errorf("config.rec: unknown recorder %q", id)
	}
	return &script{name: spec.Name, cfg: spec.Config, rec: r.(*recorder)}, nil
}

func jsonCopy(v any) map[string]any {
	if v == nil {
		return nil
	}
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	var out map[string]any
	if err := json.Unmarshal(b, &out); err != nil {
		return nil
	}
	return out
}

func (s *script) Invoke(ctx context.Context, hook string, p *core.Payload, pctx *core.PluginContext) (*core.Result, error) {
	in, err := p.Value()
	if err != nil {
		return nil, err
	}
	c := call{Plugin: s.name, Hook: hook, Payload: jsonCopy(in)}
	if pctx != nil {
		c.GlobalState, c.State, c.RequestID = jsonCopy(pctx.GlobalState), jsonCopy(pctx.State), pctx.RequestID
	}
	s.rec.add(c)

	var echo map[string]any
	if s.cfg["echo"] == true && pctx != nil {
		echo = map[string]any{s.name: map[string]any{
			"gstate": orEmpty(jsonCopy(pctx.GlobalState)), "gmeta": orEmpty(jsonCopy(pctx.Metadata)), "lstate": orEmpty(jsonCopy(pctx.State)),
		}}
	}
	if pctx != nil {
		if m, ok := s.cfg["gmeta"].(map[string]any); ok {
			for k, v := range m {
				pctx.SetMetadata(k, v)
			}
		}
		if m, ok := s.cfg["gstate"].(map[string]any); ok {
			if pctx.GlobalState == nil {
				pctx.GlobalState = map[string]any{}
			}
			for k, v := range m {
				pctx.GlobalState[k] = v
			}
		}
		if l, ok := s.cfg["gdelete"].([]any); ok {
			for _, k := range l {
				delete(pctx.GlobalState, k.(string))
			}
		}
		if m, ok := s.cfg["lstate"].(map[string]any); ok {
			if pctx.State == nil {
				pctx.State = map[string]any{}
			}
			for k, v := range m {
				pctx.State[k] = v
			}
		}
	}
	if v, ok := s.cfg["raise_violation"].(map[string]any); ok {
		viol := &core.Violation{Reason: str(v["reason"]), Description: str(v["description"]), Code: str(v["code"])}
		return nil, &core.ViolationError{Message: "raised by " + s.name, Violation: viol}
	}
	if group, ok := s.cfg["rendezvous"].(string); ok {
		return nil, rendezvous(ctx, s, group)
	}
	if msg, ok := s.cfg["panic"].(string); ok {
		panic(msg)
	}
	if s.cfg["sleep"] == true {
		<-ctx.Done()
		// Record how the wait ended: cancelled by the executor or timed out.
		s.rec.add(call{Plugin: s.name + "#end", Hook: hook, Payload: map[string]any{"err": ctx.Err().Error()}})
		return nil, ctx.Err()
	}
	if msg, ok := s.cfg["error"].(string); ok {
		return nil, errors.New(msg)
	}
	if msg, ok := s.cfg["plugin_error"].(string); ok {
		return nil, &core.PluginError{Message: msg}
	}
	res := &core.Result{}
	if m, ok := s.cfg["set"].(map[string]any); ok {
		out := map[string]any{}
		if old, ok := in.(map[string]any); ok {
			for k, v := range old {
				out[k] = v
			}
		}
		for k, v := range m {
			out[k] = v
		}
		res.ModifiedPayload = out
	}
	if v, ok := s.cfg["replace"]; ok {
		res.ModifiedPayload = v
	}
	if s.cfg["block"] == true {
		res.Block = true
	}
	if v, ok := s.cfg["violation"].(map[string]any); ok {
		res.Violation = &core.Violation{Reason: str(v["reason"]), Description: str(v["description"]), Code: str(v["code"])}
	}
	if m, ok := s.cfg["metadata"].(map[string]any); ok {
		res.Metadata = m
	}
	if echo != nil {
		res.Metadata = echo
	}
	switch n := s.cfg["retry"].(type) {
	case int64:
		res.RetryDelayMs = int(n)
	case int:
		res.RetryDelayMs = n
	case float64:
		res.RetryDelayMs = int(n)
	}
	return res, nil
}

func orEmpty(m map[string]any) map[string]any {
	if m == nil {
		return map[string]any{}
	}
	return m
}

func str(v any) string {
	s, _ := v.(string)
	return s
}

// rendezvous waits until two plugins of group are inside Invoke at the same time (or
// the context ends): it shows whether the executor ran them concurrently without
// measuring time.
var groups sync.Map // group → *rendezvousGroup

type rendezvousGroup struct {
	mu      sync.Mutex
	arrived int
	both    chan struct{}
}

func rendezvous(ctx context.Context, s *script, group string) error {
	g, _ := groups.LoadOrStore(group, &rendezvousGroup{both: make(chan struct{})})
	rg := g.(*rendezvousGroup)
	rg.mu.Lock()
	rg.arrived++
	if rg.arrived == 2 {
		close(rg.both)
	}
	rg.mu.Unlock()
	select {
	case <-rg.both:
		s.rec.add(call{Plugin: s.name + "#met"})
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// plugin is one entry of a test configuration.
type plugin struct {
	name     string
	mode     string // "" = default (sequential)
	priority int    // 0 = default (100)
	hooks    string // "" = [tool_pre_invoke]
	onError  string
	extra    string // more YAML flow-mapping entries, e.g. `conditions: [{tools: [x]}]`
	script   string // script config entries, e.g. `block: true`
}

// newManager builds a manager over plugins; every plugin records into rec.
func newManager(t *testing.T, rec string, plugins []plugin, opts ...core.Option) *core.Manager {
	t.Helper()
	var b strings.Builder
	b.WriteString("plugins:\n")
	for _, p := range plugins {
		hooks := p.hooks
		if hooks == "" {
			hooks = "[tool_pre_invoke]"
		}
		fmt.Fprintf(&b, "  - {name: %s, kind: %s, hooks: %s", p.name, scriptKind, hooks)
		if p.mode != "" {
			fmt.Fprintf(&b, ", mode: %s", p.mode)
		}
		if p.priority != 0 {
			fmt.Fprintf(&b, ", priority: %d", p.priority)
		}
		if p.onError != "" {
			fmt.Fprintf(&b, ", on_error: %s", p.onError)
		}
		if p.extra != "" {
			b.WriteString(", " + p.extra)
		}
		fmt.Fprintf(&b, ", config: {rec: %s", rec)
		if p.script != "" {
			b.WriteString(", " + p.script)
		}
		b.WriteString("}}\n")
	}
	cfg, err := config.Parse([]byte(b.String()), t.Name()+".yaml", config.WithTemplating(false))
	require.NoError(t, err, b.String())
	opts = append([]core.Option{core.WithLogger(slog.New(slog.NewTextHandler(io.Discard, nil)))}, opts...)
	m, err := core.NewManager(cfg, opts...)
	require.NoError(t, err)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_ = m.Shutdown(ctx)
	})
	return m
}

// toolPayload is a tool_pre_invoke payload.
func toolPayload(name string, args map[string]any) *core.Payload {
	if args == nil {
		args = map[string]any{}
	}
	return core.NewPayloadValue(map[string]any{"name": name, "args": args, "headers": nil})
}

func gctx(id string) *core.GlobalContext {
	return &core.GlobalContext{RequestID: id, State: map[string]any{}, Metadata: map[string]any{}}
}

// invoke runs tool_pre_invoke (or hook) and fails the test on an error.
func invoke(t *testing.T, m *core.Manager, hook string, p *core.Payload, g *core.GlobalContext, local core.ContextTable, opts ...core.InvokeOption) (*core.HookResult, core.ContextTable) {
	t.Helper()
	res, table, err := m.InvokeHook(context.Background(), hook, p, g, local, opts...)
	require.NoError(t, err)
	require.NotNil(t, res)
	return res, table
}

// payloadMap decodes a result payload.
func payloadMap(t *testing.T, p *core.Payload) map[string]any {
	t.Helper()
	require.NotNil(t, p)
	b, err := p.JSON()
	require.NoError(t, err)
	var m map[string]any
	require.NoError(t, json.Unmarshal(b, &m))
	return m
}

// recordNames lists the plugin names of the execution records.
func recordNames(res *core.HookResult) []string {
	var out []string
	for _, r := range res.Executions {
		out = append(out, r.PluginName)
	}
	return out
}

func waitBackground(t *testing.T, res *core.HookResult) []*core.PluginError {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	errs, err := res.Background.Wait(ctx)
	require.NoError(t, err)
	return errs
}
