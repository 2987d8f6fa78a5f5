package builtins

import (
	"context"
	"fmt"
	"strconv"
	"strings"

	"github.com/cpex-go/cpex/core"
)

// builtin/deny_list: blocks a request or result in which any configured word occurs
// (as a substring, like the gateway's DenyListPlugin, case-sensitive unless
// case_sensitive: false), in any string of the scanned payload fields at any depth. All
// words are found in one pass over each string. See docs/builtins/deny_list.md.

func init() { core.RegisterFactory("builtin/deny_list", newDenyList) }

// denyListHooks are the hooks with content fields (ScanFields).
var denyListHooks = []string{
	"prompt_pre_fetch", "prompt_post_fetch", "tool_pre_invoke", "tool_post_invoke",
	"resource_pre_fetch", "resource_post_fetch", "agent_pre_invoke", "agent_post_invoke",
}

// DenyListCode is the violation code of builtin/deny_list: the code of the gateway's
// DenyListPlugin, so alerts and dashboards keyed on it keep working after migration.
const DenyListCode = "deny"

type denyListConfig struct {
	Words         []string `json:"words"`
	CaseSensitive bool     `json:"case_sensitive"`
}

func (c *denyListConfig) Validate() error {
	if c.Words == nil {
		return NewConfigError("words", nil, "required: a list of words")
	}
	for i, w := range c.Words {
		if w == "" {
			// "" occurs in every string: it would block everything.
			return NewConfigError("words."+strconv.Itoa(i), w, "an empty word would match every string")
		}
	}
	return nil
}

type denyList struct {
	ContextFree
	automaton *denyAutomaton
}

func newDenyList(spec core.PluginSpec) (core.Plugin, error) {
	if err := CheckHooks(spec, denyListHooks...); err != nil {
		return nil, err
	}
	cfg := denyListConfig{CaseSensitive: true}
	if err := DecodeConfig(spec.Config, &cfg); err != nil {
		return nil, err
	}
	if len(cfg.Words) == 0 {
		return &denyList{}, nil
	}
	return &denyList{automaton: newDenyAutomaton(cfg.Words, !cfg.CaseSensitive)}, nil
}

// Invoke scans the hook's content fields and blocks at the first string containing a
// word; it stops at ctx's deadline with ctx's error. The violation names the field path and the word, never the surrounding text.
func (p *denyList) Invoke(ctx context.Context, hook string, payload *core.Payload, _ *core.PluginContext) (*core.Result, error) {
	if p.automaton == nil {
		return nil, nil
	}
	v, err := payload.Value()
	if err != nil {
		return nil, fmt.Errorf("deny_list: payload is not JSON: %w", err)
	}
	found, where := -1, ""
	budget := newScanBudget(ctx)
	VisitPayload(v, hook, func(path []string, s string) bool {
		if !budget.spend(len(s)) {
			return false
		}
		if i := p.automaton.find(s); i >= 0 {
			found, where = i, strings.Join(path, ".")
			return false
		}
		return true
	})
	if found < 0 {
		// Stopped by the deadline (or the deadline passed during the last stretch):
		// what was not scanned cannot be allowed.
		if err := budget.done(); err != nil {
			return nil, err
		}
		return nil, nil
	}
	return &core.Result{
		Block: true,
		Violation: &core.Violation{
			Reason:      denyReason(hook),
			Description: "A deny word was found in " + where,
			Code:        DenyListCode,
			Details:     map[string]any{"field": where, "word": p.automaton.words[found]},
		},
	}, nil
}

// denyReason says what was refused, in the words of the gateway's plugin for prompts.
func denyReason(hook string) string {
	switch {
	case strings.HasPrefix(hook, "prompt_"):
		return "Prompt not allowed"
	case hook == "tool_pre_invoke":
		return "Tool call not allowed"
	case hook == "tool_post_invoke":
		return "Tool result not allowed"
	case strings.HasPrefix(hook, "resource_"):
		return "Resource not allowed"
	default:
		return "Agent message not allowed"
	}
}
