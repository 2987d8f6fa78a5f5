package hooks

import "github.com/cpex-go/cpex/core"

// gatewayWritable is the ContextForge gateway's HOOK_PAYLOAD_POLICIES
// (mcpgateway/plugins/policy.py, gateway-contract §4): the top-level payload fields
// plugins may change, per built-in hook. http_auth_resolve_user allows none: its
// plugins answer with a cross-type user object, which policies do not filter.
var gatewayWritable = map[string][]string{
	ToolPreInvoke:           {"name", "args", "headers"},
	ToolPostInvoke:          {"result"},
	PromptPreFetch:          {"args"},
	PromptPostFetch:         {"result"},
	ResourcePreFetch:        {"uri", "metadata"},
	ResourcePostFetch:       {"content"},
	AgentPreInvoke:          {"agent_id", "messages", "tools", "model", "system_prompt", "parameters", "headers"},
	AgentPostInvoke:         {"messages", "tool_calls"},
	HTTPPreRequest:          {"headers"},
	HTTPPostRequest:         {"headers"},
	HTTPAuthResolveUser:     {},
	HTTPAuthCheckPermission: {"reason"},
}

// GatewayPolicies returns the payload policies the ContextForge gateway installs for
// the twelve built-in hooks, ready for core.WithHookPolicies, so that a Go service
// gets the same modification rules as the gateway. The map and its slices are fresh
// copies.
func GatewayPolicies() map[string]core.HookPolicy {
	out := make(map[string]core.HookPolicy, len(gatewayWritable))
	for hook, fields := range gatewayWritable {
		out[hook] = core.HookPolicy{WritableFields: append([]string{}, fields...)}
	}
	return out
}
