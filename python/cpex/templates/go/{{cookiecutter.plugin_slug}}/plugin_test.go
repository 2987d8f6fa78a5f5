package {{ cookiecutter.plugin_slug }}

import (
	"context"
	"testing"

	"github.com/cpex-go/cpex/core"
)

func invoke(t *testing.T, m *core.Manager, tool string) *core.HookResult {
	t.Helper()
	payload := core.NewPayloadValue(map[string]any{"name": tool, "args": map[string]any{}})
	res, _, err := m.InvokeHook(context.Background(), core.HookToolPreInvoke, payload, &core.GlobalContext{RequestID: "t-" + tool}, nil)
	if err != nil {
		t.Fatalf("InvokeHook(%s): %v", tool, err)
	}
	return res
}

// The example config loads through the core and the plugin decides per tool.
func TestExampleConfig(t *testing.T) {
	m, err := core.LoadManager("config.yaml")
	if err != nil {
		t.Fatalf("LoadManager: %v", err)
	}
	defer m.Shutdown(context.Background())

	if res := invoke(t, m, "echo"); !res.ContinueProcessing {
		t.Fatalf("echo was blocked: %+v", res.Violation)
	}
	res := invoke(t, m, "delete_everything")
	if res.ContinueProcessing || res.Violation == nil || res.Violation.Code != "TOOL_BLOCKED" {
		t.Fatalf("delete_everything: want a TOOL_BLOCKED violation, got %+v", res)
	}
}

// A config value of the wrong type is refused when the plugin is built.
func TestBadConfig(t *testing.T) {
	_, err := New(core.PluginSpec{Name: "p", Kind: Kind, Config: map[string]any{"blocked_tools": "echo"}})
	if err == nil {
		t.Fatal("want an error for a string blocked_tools")
	}
}
