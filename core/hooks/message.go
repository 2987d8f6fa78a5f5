package hooks

import (
	"encoding/json"
	"fmt"

	"github.com/cpex-go/cpex/core/cmf"
)

// The message hook names (core/cmf holds them and registers them with the core).
const (
	CMFToolPreInvoke     = cmf.HookToolPreInvoke
	CMFToolPostInvoke    = cmf.HookToolPostInvoke
	CMFLLMInput          = cmf.HookLLMInput
	CMFLLMOutput         = cmf.HookLLMOutput
	CMFResourcePreFetch  = cmf.HookResourcePreFetch
	CMFResourcePostFetch = cmf.HookResourcePostFetch
	CMFPromptPreFetch    = cmf.HookPromptPreFetch
	CMFPromptPostFetch   = cmf.HookPromptPostFetch
	MessageEvaluate      = cmf.HookEvaluate
)

// MessagePayload is the payload of every message hook (upstream MessagePayload): a CMF
// message and the location it is evaluated at ("evaluate" when absent).
type MessagePayload struct {
	Message cmf.Message `json:"message"`
	Hook    string      `json:"hook"`
}

// UnmarshalJSON validates the message and the location.
func (p *MessagePayload) UnmarshalJSON(data []byte) error {
	const model = "MessagePayload"
	var aux struct {
		Message json.RawMessage `json:"message"`
		Hook    *string         `json:"hook"`
	}
	if err := decodeInto(data, model, &aux); err != nil {
		return err
	}
	if len(aux.Message) == 0 || string(aux.Message) == "null" {
		return missing(model, "message")
	}
	msg, err := cmf.Decode(aux.Message)
	if err != nil {
		return &PayloadError{Model: model, Field: "message", Reason: err.Error()}
	}
	loc := cmf.HookEvaluate
	if aux.Hook != nil {
		loc = *aux.Hook
	}
	if !cmf.IsLocation(loc) {
		return &PayloadError{Model: model, Field: "hook", Reason: fmt.Sprintf("%q is not one of %v", loc, cmf.Locations())}
	}
	*p = MessagePayload{Message: msg, Hook: loc}
	return nil
}

// MarshalJSON writes hook "evaluate" when unset.
func (p MessagePayload) MarshalJSON() ([]byte, error) {
	type plain MessagePayload
	if p.Hook == "" {
		p.Hook = cmf.HookEvaluate
	}
	return Marshal(plain(p))
}
