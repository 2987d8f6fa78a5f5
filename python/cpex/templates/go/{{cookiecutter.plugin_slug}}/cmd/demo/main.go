// Command demo loads ../../config.yaml (or the path given) and sends two tool calls through
// the {{ cookiecutter.plugin_name }} plugin: the way to embed the plugin in a Go service.
package main

import (
	"context"
	"fmt"
	"os"

	"github.com/cpex-go/cpex/core"

	_ "{{ cookiecutter.go_module }}" // registers {{ cookiecutter.__kind }}
)

func main() {
	path := "config.yaml"
	if len(os.Args) > 1 {
		path = os.Args[1]
	}
	m, err := core.LoadManager(path)
	if err != nil {
		fmt.Fprintln(os.Stderr, "demo:", err)
		os.Exit(1)
	}
	defer m.Shutdown(context.Background())
	for _, tool := range []string{"echo", "delete_everything"} {
		payload := core.NewPayloadValue(map[string]any{"name": tool, "args": map[string]any{}})
		res, _, err := m.InvokeHook(context.Background(), core.HookToolPreInvoke, payload, &core.GlobalContext{RequestID: tool}, nil)
		if err != nil {
			fmt.Fprintln(os.Stderr, "demo:", err)
			os.Exit(1)
		}
		if res.ContinueProcessing {
			fmt.Printf("%s: allowed\n", tool)
		} else {
			fmt.Printf("%s: blocked (%s)\n", tool, res.Violation.Code)
		}
	}
}
