package cmf

import "github.com/cpex-go/cpex/core"

// The message hook names (upstream CmfHookType), and "evaluate", the generic message
// hook (MessageHookType.EVALUATE). Their payload is MessagePayload in core/hooks:
// {"message": <Message>, "hook": <where>}.
const (
	HookToolPreInvoke     = "cmf.tool_pre_invoke"
	HookToolPostInvoke    = "cmf.tool_post_invoke"
	HookLLMInput          = "cmf.llm_input"
	HookLLMOutput         = "cmf.llm_output"
	HookResourcePreFetch  = "cmf.resource_pre_fetch"
	HookResourcePostFetch = "cmf.resource_post_fetch"
	HookPromptPreFetch    = "cmf.prompt_pre_fetch"
	HookPromptPostFetch   = "cmf.prompt_post_fetch"
	HookEvaluate          = "evaluate"
)

// hookNames is upstream's registration order: evaluate, then the cmf.* names.
var hookNames = [...]string{
	HookEvaluate,
	HookToolPreInvoke, HookToolPostInvoke, HookLLMInput, HookLLMOutput,
	HookResourcePreFetch, HookResourcePostFetch, HookPromptPreFetch, HookPromptPostFetch,
}

// Locations are the values of a message payload's `hook` field (MessageHookType).
var locations = []string{
	"evaluate", "llm_input", "llm_output", "tool_pre_invoke", "tool_post_invoke",
	"prompt_pre_fetch", "prompt_post_fetch", "resource_pre_fetch", "resource_post_fetch",
}

// HookNames returns the nine message hook names in upstream registration order (a copy).
func HookNames() []string { return append([]string(nil), hookNames[:]...) }

// IsMessageHook reports whether hook carries a CMF message payload.
func IsMessageHook(hook string) bool {
	for _, h := range hookNames {
		if h == hook {
			return true
		}
	}
	return false
}

// IsLocation reports whether s is a valid `hook` value of a message payload.
func IsLocation(s string) bool { return contains(locations, s) }

// Locations returns the valid `hook` values of a message payload (a copy).
func Locations() []string { return append([]string(nil), locations...) }

// The core learns the message hooks when this package is linked in (core/hooks and
// core/builtins import it, so every Go service and the Python extension have them). They
// have no payload attribute for conditions: a message names no single tool or resource.
func init() {
	for _, h := range hookNames {
		if err := core.RegisterHookType(core.HookType{Name: h}); err != nil {
			panic(err)
		}
	}
}
