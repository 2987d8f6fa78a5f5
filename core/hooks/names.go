package hooks

import "github.com/cpex-go/cpex/core"

// Names of the built-in hook types (spec §16.1–§16.5), the strings the YAML
// `hooks:` lists and InvokeHook use. They are core's hook table names.
const (
	ToolPreInvoke           = core.HookToolPreInvoke
	ToolPostInvoke          = core.HookToolPostInvoke
	PromptPreFetch          = core.HookPromptPreFetch
	PromptPostFetch         = core.HookPromptPostFetch
	ResourcePreFetch        = core.HookResourcePreFetch
	ResourcePostFetch       = core.HookResourcePostFetch
	AgentPreInvoke          = core.HookAgentPreInvoke
	AgentPostInvoke         = core.HookAgentPostInvoke
	HTTPPreRequest          = core.HookHTTPPreRequest
	HTTPPostRequest         = core.HookHTTPPostRequest
	HTTPAuthResolveUser     = core.HookHTTPAuthResolveUser
	HTTPAuthCheckPermission = core.HookHTTPAuthCheckPermission
)

// builtinNames is the registration order of upstream's hook registry after
// `import cpex.framework` (http, agents, prompts, resources, tools: the import order
// of upstream's hook modules; tests/cases/hooktypes/upstream-0.1.4.json records it).
var builtinNames = [...]string{
	HTTPPreRequest, HTTPPostRequest, HTTPAuthResolveUser, HTTPAuthCheckPermission,
	AgentPreInvoke, AgentPostInvoke,
	PromptPreFetch, PromptPostFetch,
	ResourcePreFetch, ResourcePostFetch,
	ToolPreInvoke, ToolPostInvoke,
}

// PayloadModelName is the upstream class name of hook's payload model (for example
// "PromptPrehookPayload" for prompt_pre_fetch), or "" and false for a custom hook.
func PayloadModelName(hook string) (string, bool) {
	f, ok := payloadFactories[hook]
	return f.model, ok
}

// Builtin returns the twelve built-in hook names in upstream registration order.
// The slice is a fresh copy.
func Builtin() []string {
	out := make([]string, len(builtinNames))
	copy(out, builtinNames[:])
	return out
}

// IsBuiltin reports whether hook is one of the twelve built-in hook types.
func IsBuiltin(hook string) bool {
	_, ok := payloadFactories[hook]
	return ok
}
