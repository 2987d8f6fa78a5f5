// Package ctxprobe is a Go plugin for tests of the context a Go plugin is handed by a
// host (Python or Go): it writes the state its config says and reports what it saw.
// The Python extension registers it as builtin/test_context only when the environment
// has CPEX_TEST_KINDS=1 (pybind/testkinds.go), so shipped programs never offer it.
package ctxprobe

import (
	"context"
	"encoding/json"
	"errors"

	"github.com/cpex-go/cpex/core"
)

// Kind is the plugin kind the test hosts register it under.
const Kind = core.BuiltinPrefix + "test_context"

// New builds the probe. Config keys (each optional):
//
//	gstate {k: v}  written to the shared global state
//	gmeta  {k: v}  written to the shared metadata
//	lstate {k: v}  written to the plugin's local state
//	echo   true    result metadata <name>: {"gstate", "gmeta", "lstate"} as it was handed them
//	block  true    block the call (after writing)
//	fail   "msg"   return an error (after writing)
//	ext    true    read the extensions (core.ExtensionsReader); echo reports them as "ext"
//	denial {k: v}  the result's denial metadata (cpex 0.1.4 denial_metadata)
func New(spec core.PluginSpec) (core.Plugin, error) {
	return &probe{name: spec.Name, cfg: spec.Config}, nil
}

type probe struct {
	name string
	cfg  map[string]any
}

// ReadsExtensions: the probe echoes them when its config says `ext: true`.
func (p *probe) ReadsExtensions() bool { return p.cfg["ext"] == true }

// Invoke writes and reports; snapshots are JSON copies, so what is reported is what
// the plugin was handed, not what it wrote afterwards.
func (p *probe) Invoke(_ context.Context, _ string, _ *core.Payload, pc *core.PluginContext) (*core.Result, error) {
	res := &core.Result{}
	if pc == nil {
		pc = &core.PluginContext{}
	}
	if p.cfg["echo"] == true {
		seen := map[string]any{"gstate": snapshot(pc.GlobalState), "gmeta": snapshot(pc.Metadata), "lstate": snapshot(pc.State)}
		if p.cfg["ext"] == true {
			seen["ext"] = snapshot(pc.Extensions)
		}
		res.Metadata = map[string]any{p.name: seen}
	}
	write(p.cfg["gstate"], pc.SetGlobal)
	write(p.cfg["gmeta"], pc.SetMetadata)
	write(p.cfg["lstate"], pc.SetState)
	res.Block = p.cfg["block"] == true
	if d, ok := p.cfg["denial"].(map[string]any); ok {
		res.DenialMetadata = d
	}
	if msg, ok := p.cfg["fail"].(string); ok {
		return nil, errors.New(msg)
	}
	return res, nil
}

func write(v any, set func(string, any)) {
	m, _ := v.(map[string]any)
	for k, v := range m {
		set(k, v)
	}
}

func snapshot(m map[string]any) map[string]any {
	out := map[string]any{}
	if len(m) == 0 {
		return out
	}
	b, err := json.Marshal(m)
	if err == nil {
		_ = json.Unmarshal(b, &out)
	}
	return out
}
