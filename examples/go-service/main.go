// Command go-service shows cpex's Go API: it loads config.yaml, registers a Go plugin
// kind, and runs tool calls through tool_pre_invoke and tool_post_invoke, carrying the
// plugins' context table from the pre hook to the post hook.
package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"

	"github.com/cpex-go/cpex/core"
	_ "github.com/cpex-go/cpex/core/builtins" // the built-in Go plugins (builtin/noop, ...)
)

// argGuard blocks calls whose arguments mention a forbidden path (pre hook) and masks
// anything that looks like a token in results (post hook).
type argGuard struct{ forbidden, mask string }

func init() {
	core.RegisterFactory("builtin/example_arg_guard", func(spec core.PluginSpec) (core.Plugin, error) {
		g := argGuard{forbidden: "/etc/shadow", mask: "***"}
		for k, v := range spec.Config {
			s, ok := v.(string)
			switch {
			case !ok:
				return nil, fmt.Errorf("config key %q: want a string, got %T", k, v)
			case k == "forbidden":
				g.forbidden = s
			case k == "mask":
				g.mask = s
			default:
				return nil, fmt.Errorf("config key %q: unknown (want forbidden, mask)", k)
			}
		}
		return g, nil
	})
}

func (g argGuard) Invoke(_ context.Context, hook string, p *core.Payload, pc *core.PluginContext) (*core.Result, error) {
	switch hook {
	case core.HookToolPreInvoke:
		args, _ := p.Field("args").(map[string]any)
		for k, v := range args {
			if s, ok := v.(string); ok && strings.Contains(s, g.forbidden) {
				return &core.Result{Block: true, Violation: &core.Violation{
					Reason: "forbidden path", Code: "FORBIDDEN_PATH",
					Description: fmt.Sprintf("argument %q names %s", k, g.forbidden),
				}}, nil
			}
		}
		pc.SetState("checked", true) // kept for the post hook through the context table
		return nil, nil
	case core.HookToolPostInvoke:
		result, _ := p.Field("result").(string)
		if !strings.Contains(result, "token=") || pc.StateValue("checked") != true {
			return nil, nil
		}
		v, err := p.Value()
		if err != nil {
			return nil, err
		}
		out := map[string]any{}
		for k, x := range v.(map[string]any) {
			out[k] = x
		}
		out["result"] = maskTokens(result, g.mask)
		return &core.Result{ModifiedPayload: out, Metadata: map[string]any{"arg-guard": "masked"}}, nil
	}
	return nil, nil
}

func maskTokens(s, mask string) string {
	words := strings.Fields(s)
	for i, w := range words {
		if strings.HasPrefix(w, "token=") {
			words[i] = "token=" + mask
		}
	}
	return strings.Join(words, " ")
}

func configPath() string {
	if len(os.Args) > 1 && !strings.HasPrefix(os.Args[1], "-") {
		return os.Args[1]
	}
	_, file, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(file), "config.yaml")
}

func main() {
	m, err := core.LoadManager(configPath(), core.WithHookPolicy(core.HookToolPostInvoke, "result"))
	if err != nil {
		fmt.Fprintln(os.Stderr, "go-service:", err)
		os.Exit(1)
	}
	defer m.Shutdown(context.Background())
	fmt.Printf("loaded %d plugins: %s\n", m.PluginCount(), strings.Join(m.PluginNames(), ", "))

	for i, call := range []struct {
		tool, path, result string
	}{
		{"read_file", "/srv/app/readme.txt", "hello token=abc123 bye"},
		{"read_file", "/etc/shadow", ""},
	} {
		ctx := context.Background()
		gctx := &core.GlobalContext{RequestID: fmt.Sprintf("req-%d", i+1), User: "alice"}
		pre := core.NewPayloadValue(map[string]any{"name": call.tool, "args": map[string]any{"path": call.path}})
		res, table, err := m.InvokeHook(ctx, core.HookToolPreInvoke, pre, gctx, nil)
		if err != nil {
			fmt.Fprintln(os.Stderr, "go-service:", err)
			os.Exit(1)
		}
		if !res.ContinueProcessing {
			v := res.Violation
			fmt.Printf("%s %s: blocked by %s: %s (%s)\n", call.tool, call.path, v.PluginName, v.Code, v.Description)
			continue
		}
		fmt.Printf("%s %s: allowed (%d plugins ran)\n", call.tool, call.path, len(res.Executions))

		// ... the service runs the tool here, then the post hook sees its result ...
		post := core.NewPayloadValue(map[string]any{"name": call.tool, "result": call.result})
		res, _, err = m.InvokeHook(ctx, core.HookToolPostInvoke, post, gctx, table)
		if err != nil {
			fmt.Fprintln(os.Stderr, "go-service:", err)
			os.Exit(1)
		}
		out := post
		if res.ModifiedPayload != nil {
			out = res.ModifiedPayload
		}
		body, _ := out.JSON()
		fmt.Printf("%s result: %s metadata=%v\n", call.tool, body, res.Metadata)
	}
}
