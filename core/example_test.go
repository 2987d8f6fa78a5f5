package core_test

import (
	"context"
	"fmt"
	"strings"

	"github.com/cpex-go/cpex/core"
	"github.com/cpex-go/cpex/core/config"
)

// redactor is a Go plugin: it replaces the "secret" argument of a tool call.
type redactor struct{ mask string }

func (r redactor) Invoke(_ context.Context, _ string, p *core.Payload, _ *core.PluginContext) (*core.Result, error) {
	args, _ := p.Field("args").(map[string]any)
	if _, ok := args["secret"]; !ok {
		return nil, nil // allow, unchanged
	}
	v, err := p.Value()
	if err != nil {
		return nil, err
	}
	out := map[string]any{}
	for k, x := range v.(map[string]any) { // copy: never mutate the input tree
		out[k] = x
	}
	newArgs := map[string]any{}
	for k, x := range args {
		newArgs[k] = x
	}
	newArgs["secret"] = r.mask
	out["args"] = newArgs
	return &core.Result{ModifiedPayload: out, Metadata: map[string]any{"redacted": true}}, nil
}

// A Go service loads a configuration, registers its own plugin kind and runs a hook.
func ExampleManager_InvokeHook() {
	cfg, err := config.Parse([]byte(`
plugins:
  - name: redact
    kind: builtin/example_redactor
    hooks: [tool_pre_invoke]
    config: {mask: "***"}
`), "example.yaml")
	if err != nil {
		panic(err)
	}
	factory := func(spec core.PluginSpec) (core.Plugin, error) {
		mask, _ := spec.Config["mask"].(string)
		return redactor{mask: mask}, nil
	}
	m, err := core.NewManager(cfg, core.WithFactory("builtin/example_redactor", factory))
	if err != nil {
		panic(err)
	}
	defer m.Shutdown(context.Background())

	payload := core.NewPayloadJSON([]byte(`{"name":"login","args":{"user":"bob","secret":"hunter2"}}`))
	gctx := &core.GlobalContext{RequestID: "req-1"}
	res, _, err := m.InvokeHook(context.Background(), core.HookToolPreInvoke, payload, gctx, nil)
	if err != nil {
		panic(err)
	}
	out, _ := res.ModifiedPayload.JSON()
	fmt.Println(res.ContinueProcessing, string(out))
	fmt.Println(res.Metadata["redacted"], res.Executions[0].PluginName, res.Executions[0].PayloadModified)
	// Output:
	// true {"args":{"secret":"***","user":"bob"},"name":"login"}
	// true redact true
}

// A blocking plugin halts the chain; with ViolationsAsErrors the block is an error.
func ExampleViolationsAsErrors() {
	deny := func(core.PluginSpec) (core.Plugin, error) {
		return goFn(func(context.Context, string, *core.Payload, *core.PluginContext) (*core.Result, error) {
			return &core.Result{Block: true, Violation: &core.Violation{Reason: "not allowed", Code: "DENY", Description: "tool is blocked"}}, nil
		}), nil
	}
	cfg, _ := config.Parse([]byte("plugins: [{name: gate, kind: builtin/example_deny, hooks: [tool_pre_invoke]}]"), "example.yaml")
	m, _ := core.NewManager(cfg, core.WithFactory("builtin/example_deny", deny), core.WithLogger(nil))
	defer m.Shutdown(context.Background())

	payload := core.NewPayloadValue(map[string]any{"name": "rm", "args": map[string]any{}})
	res, _, _ := m.InvokeHook(context.Background(), core.HookToolPreInvoke, payload, nil, nil)
	fmt.Println(res.ContinueProcessing, res.Violation.PluginName, res.Violation.Code)

	_, _, err := m.InvokeHook(context.Background(), core.HookToolPreInvoke, payload, nil, nil, core.ViolationsAsErrors())
	fmt.Println(err)
	// Output:
	// false gate DENY
	// tool_pre_invoke blocked by plugin gate: DENY - not allowed (tool is blocked)
}

// Custom hooks need no registration; registering one lets conditions test a payload
// attribute.
func ExampleRegisterHookType() {
	if err := core.RegisterHookType(core.HookType{Name: "ticket_created", MatchSet: core.MatchTools, MatchAttr: "queue"}); err != nil {
		panic(err)
	}
	seen := []string{}
	rec := func(core.PluginSpec) (core.Plugin, error) {
		return goFn(func(_ context.Context, _ string, p *core.Payload, _ *core.PluginContext) (*core.Result, error) {
			seen = append(seen, p.Field("queue").(string))
			return nil, nil
		}), nil
	}
	cfg, _ := config.Parse([]byte(`
plugins:
  - {name: billing-only, kind: builtin/example_rec, hooks: [ticket_created], conditions: [{tools: [billing]}]}
`), "example.yaml")
	m, _ := core.NewManager(cfg, core.WithFactory("builtin/example_rec", rec))
	defer m.Shutdown(context.Background())
	for _, q := range []string{"billing", "support"} {
		_, _, _ = m.InvokeHook(context.Background(), "ticket_created", core.NewPayloadValue(map[string]any{"queue": q}), nil, nil)
	}
	fmt.Println(strings.Join(seen, ","))
	// Output: billing
}
