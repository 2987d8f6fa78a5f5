package engine

import (
	"fmt"
	"sync"
)

// The hook types the gateway calls (spec §16).
const (
	HookToolPreInvoke           = "tool_pre_invoke"
	HookToolPostInvoke          = "tool_post_invoke"
	HookPromptPreFetch          = "prompt_pre_fetch"
	HookPromptPostFetch         = "prompt_post_fetch"
	HookResourcePreFetch        = "resource_pre_fetch"
	HookResourcePostFetch       = "resource_post_fetch"
	HookAgentPreInvoke          = "agent_pre_invoke"
	HookAgentPostInvoke         = "agent_post_invoke"
	HookHTTPPreRequest          = "http_pre_request"
	HookHTTPPostRequest         = "http_post_request"
	HookHTTPAuthResolveUser     = "http_auth_resolve_user"
	HookHTTPAuthCheckPermission = "http_auth_check_permission"
	HookIdentityResolve         = "identity_resolve"
	HookTokenDelegate           = "token_delegate"
)

// The condition sets that can be tested against a payload attribute (spec §12).
const (
	MatchTools     = "tools"
	MatchPrompts   = "prompts"
	MatchResources = "resources"
	MatchAgents    = "agents"
)

// HookType describes a hook for the executor. Dispatch never needs a registration (an
// unknown hook behaves like one registered with no match), so registering a custom hook
// only matters when its conditions should test a payload attribute.
type HookType struct {
	Name string
	// MatchSet is the PluginCondition set (MatchTools, MatchPrompts, MatchResources,
	// MatchAgents) tested against the payload attribute MatchAttr; "" for none.
	MatchSet  string
	MatchAttr string
	// Decision marks the hook whose result names the deciding plugin in metadata
	// (_decision_plugin): http_auth_check_permission.
	Decision bool
	// OtherResultType marks hooks whose plugins return a payload of another type (the
	// http hooks: headers, a user dict, a decision). For Go plugins such a modification
	// is accepted whole, bypassing the policy, as upstream accepts cross-type results
	// (quirk §30.27).
	OtherResultType bool
}

var (
	hookTypesMu sync.RWMutex
	hookTypes   = map[string]HookType{}
	hookOrder   []string
)

func init() {
	for _, h := range []HookType{
		{Name: HookToolPreInvoke, MatchSet: MatchTools, MatchAttr: "name"},
		{Name: HookToolPostInvoke, MatchSet: MatchTools, MatchAttr: "name"},
		{Name: HookPromptPreFetch, MatchSet: MatchPrompts, MatchAttr: "prompt_id"},
		{Name: HookPromptPostFetch, MatchSet: MatchPrompts, MatchAttr: "prompt_id"},
		{Name: HookResourcePreFetch, MatchSet: MatchResources, MatchAttr: "uri"},
		{Name: HookResourcePostFetch, MatchSet: MatchResources, MatchAttr: "uri"},
		{Name: HookAgentPreInvoke, MatchSet: MatchAgents, MatchAttr: "agent_id"},
		{Name: HookAgentPostInvoke, MatchSet: MatchAgents, MatchAttr: "agent_id"},
		{Name: HookHTTPPreRequest, OtherResultType: true},
		{Name: HookHTTPPostRequest, OtherResultType: true},
		{Name: HookHTTPAuthResolveUser, OtherResultType: true},
		{Name: HookHTTPAuthCheckPermission, Decision: true, OtherResultType: true},
		{Name: HookIdentityResolve, MatchSet: MatchTools, MatchAttr: "raw_token"},
		{Name: HookTokenDelegate, MatchSet: MatchTools, MatchAttr: "target_name"},
	} {
		if err := RegisterHookType(h); err != nil {
			panic(err)
		}
	}
}

// RegisterHookType adds or replaces a hook type (upstream register_hook overwrites
// silently too). Plans built before the call keep the old description.
func RegisterHookType(h HookType) error {
	if h.Name == "" {
		return fmt.Errorf("core.RegisterHookType: empty hook name")
	}
	switch h.MatchSet {
	case "", MatchTools, MatchPrompts, MatchResources, MatchAgents:
	default:
		return fmt.Errorf("core.RegisterHookType: hook %q: unknown match set %q (want tools, prompts, resources or agents)", h.Name, h.MatchSet)
	}
	if (h.MatchSet == "") != (h.MatchAttr == "") {
		return fmt.Errorf("core.RegisterHookType: hook %q: MatchSet and MatchAttr go together (got %q, %q)", h.Name, h.MatchSet, h.MatchAttr)
	}
	hookTypesMu.Lock()
	defer hookTypesMu.Unlock()
	if _, ok := hookTypes[h.Name]; !ok {
		hookOrder = append(hookOrder, h.Name)
	}
	hookTypes[h.Name] = h
	return nil
}

// LookupHookType returns the registered description of hook; an unregistered hook gets
// the zero description (no payload match), as upstream dispatches it.
func LookupHookType(hook string) (HookType, bool) {
	hookTypesMu.RLock()
	h, ok := hookTypes[hook]
	hookTypesMu.RUnlock()
	if !ok {
		h = HookType{Name: hook}
	}
	return h, ok
}

// HookTypes lists the registered hook names in registration order.
func HookTypes() []string {
	hookTypesMu.RLock()
	defer hookTypesMu.RUnlock()
	return append([]string(nil), hookOrder...)
}
