// Package {{ cookiecutter.plugin_slug }} is a cpex plugin written in Go: {{ cookiecutter.description }}.
//
// Importing the package registers the plugin kind {{ cookiecutter.__kind }} with cpex's core, so
// a plugins config.yaml can name it like any built-in. Go plugins run inside the core, with
// no Python on the call path.
package {{ cookiecutter.plugin_slug }}

import (
	"context"
	"fmt"

	"github.com/cpex-go/cpex/core"
)

// Kind is the value of `kind:` in a plugins config that selects this plugin.
const Kind = "{{ cookiecutter.__kind }}"

func init() { core.RegisterFactory(Kind, New) }

// Plugin refuses the tools listed in its `blocked_tools` config and lets everything else through.
type Plugin struct {
	name    string
	blocked map[string]bool
}

// New builds the plugin from its config entry; an unknown or mistyped key is an error that
// names the plugin, the key and the value, so a bad config fails at load time.
func New(spec core.PluginSpec) (core.Plugin, error) {
	p := &Plugin{name: spec.Name, blocked: map[string]bool{}}
	for key, value := range spec.Config {
		switch key {
		case "blocked_tools":
			list, ok := value.([]any)
			if !ok && value != nil {
				return nil, fmt.Errorf("plugin %s: config key %q: want a list of tool names, got %T", spec.Name, key, value)
			}
			for _, item := range list {
				name, ok := item.(string)
				if !ok {
					return nil, fmt.Errorf("plugin %s: config key %q: want tool names, got %v (%T)", spec.Name, key, item, item)
				}
				p.blocked[name] = true
			}
		default:
			return nil, fmt.Errorf("plugin %s: config key %q: unknown (want blocked_tools)", spec.Name, key)
		}
	}
	return p, nil
}

// Invoke is called once per hook call. ctx carries the manager's timeout; payload and pctx
// are valid only until Invoke returns. A nil result means "allow, unchanged".
func (p *Plugin) Invoke(_ context.Context, hook string, payload *core.Payload, _ *core.PluginContext) (*core.Result, error) {
	if hook != core.HookToolPreInvoke {
		return nil, nil
	}
	tool, _ := payload.Field("name").(string)
	if !p.blocked[tool] {
		return &core.Result{Metadata: map[string]any{"{{ cookiecutter.plugin_slug }}": "allowed"}}, nil
	}
	return &core.Result{Block: true, Violation: &core.Violation{
		Reason:      "tool blocked",
		Description: fmt.Sprintf("%s does not allow the tool %q", p.name, tool),
		Code:        "TOOL_BLOCKED",
		Details:     map[string]any{"tool": tool},
	}}, nil
}
