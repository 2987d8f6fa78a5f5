package core_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"strings"
	"testing"

	"github.com/cpex-go/cpex/core"
	"github.com/cpex-go/cpex/core/config"
	"github.com/cpex-go/cpex/pybind"
)

// FuzzPayloadJSONEntersARun: any payload text, through the Go driver and through a go
// step of the foreign driver, gives a result or a plugin error, never a panic.
func FuzzPayloadJSONEntersARun(f *testing.F) {
	f.Add([]byte(`{"name":"search","args":{"q":"x"}}`))
	f.Add([]byte(`{"name":5,"args":[1,2],"result":{"a":null}}`))
	f.Add([]byte(`[]`))
	f.Add([]byte(`{"args":{"q":`))
	f.Add([]byte("\xff"))
	cfg, err := config.Parse([]byte(`
plugins:
  - {name: cond, kind: builtin/noop, hooks: [tool_pre_invoke], conditions: [{tools: [search]}]}
  - {name: set, kind: `+fuzzSetKind+`, hooks: [tool_pre_invoke], mode: transform, on_error: ignore, config: {}}
  - {name: conc, kind: builtin/noop, hooks: [tool_pre_invoke], mode: concurrent}
`), "fuzz.yaml", config.WithTemplating(false))
	if err != nil {
		f.Fatal(err)
	}
	m, err := core.NewManager(cfg, core.WithHookPolicy("tool_pre_invoke", "args"), core.WithLogger(slog.New(slog.NewTextHandler(io.Discard, nil))))
	if err != nil {
		f.Fatal(err)
	}
	exec, _ := pybind.ExecutorNew(`{}`)
	goID, _ := pybind.GoPluginNew(`{"name":"set","kind":"` + fuzzSetKind + `"}`)
	ref, _ := pybind.RefRegister(`{"uuid":"f","name":"set","kind":"` + fuzzSetKind + `","mode":"sequential","on_error":"ignore","go":` + itoa(goID) + `}`)
	ans, _ := pybind.PlanGet(exec, "tool_pre_invoke", itoa(ref), `["args"]`)
	var plan struct{ Plan int }
	_ = json.Unmarshal([]byte(ans), &plan)

	f.Fuzz(func(t *testing.T, raw []byte) {
		res, _, err := m.InvokeHook(context.Background(), "tool_pre_invoke", core.NewPayloadJSON(raw), nil, nil)
		var pe *core.PluginError
		if err != nil && !errors.As(err, &pe) {
			t.Fatalf("unexpected error type %T: %v", err, err)
		}
		if err == nil && res.ModifiedPayload != nil {
			if _, err := res.ModifiedPayload.JSON(); err != nil {
				t.Fatalf("a modified payload must encode: %v", err)
			}
		}
		step, err := pybind.RunStart(plan.Plan, `{"rid":"r"}`)
		if err != nil {
			t.Fatal(err)
		}
		var s struct{ Run int }
		_ = json.Unmarshal([]byte(step), &s)
		next, err := pybind.RunGo(s.Run, string(raw))
		if err != nil {
			_, _ = pybind.RunAbort(s.Run)
			if json.Valid(raw) {
				t.Fatalf("valid JSON refused: %v", err)
			}
			return
		}
		// the answer's JSON header, then the new payload's JSON text after the first
		// newline when the plugins changed it (docs/protocol.md, "Framing")
		head, payload, framed := strings.Cut(next, "\n")
		if !json.Valid([]byte(head)) || framed && !json.Valid([]byte(payload)) {
			t.Fatalf("answer is not a JSON header and payload frame: %s", next)
		}
	})
}

// fuzzSetKind renames the tool and rewrites args (whatever the payload was), with metadata.
const fuzzSetKind = "builtin/test_fuzz_set"

func init() {
	core.RegisterFactory(fuzzSetKind, func(core.PluginSpec) (core.Plugin, error) { return fuzzSet{}, nil })
}

type fuzzSet struct{}

func (fuzzSet) Invoke(_ context.Context, _ string, p *core.Payload, _ *core.PluginContext) (*core.Result, error) {
	v, err := p.Value()
	if err != nil {
		return nil, err
	}
	out := map[string]any{}
	if m, ok := v.(map[string]any); ok {
		for k, x := range m {
			out[k] = x
		}
	}
	out["args"], out["name"] = map[string]any{"q": "changed"}, "renamed"
	return &core.Result{ModifiedPayload: out, Metadata: map[string]any{"m": 1}}, nil
}

func itoa(n int) string {
	b, _ := json.Marshal(n)
	return string(b)
}
