package hooks

import (
	"bytes"
	"encoding/json"
	"fmt"

	"github.com/cpex-go/cpex/core"
)

// Object is the raw-JSON path for custom hook types: any payload whose hook has
// no Go type here travels as its top-level JSON object, with numbers kept as
// json.Number.
type Object map[string]any

// payloadFactories maps each built-in hook to a constructor of its payload type.
// The model names are upstream's class names, used in error messages.
var payloadFactories = map[string]struct {
	model string
	new   func() any
}{
	ToolPreInvoke:           {"ToolPreInvokePayload", func() any { return new(ToolPreInvokePayload) }},
	ToolPostInvoke:          {"ToolPostInvokePayload", func() any { return new(ToolPostInvokePayload) }},
	PromptPreFetch:          {"PromptPrehookPayload", func() any { return new(PromptPrehookPayload) }},
	PromptPostFetch:         {"PromptPosthookPayload", func() any { return new(PromptPosthookPayload) }},
	ResourcePreFetch:        {"ResourcePreFetchPayload", func() any { return new(ResourcePreFetchPayload) }},
	ResourcePostFetch:       {"ResourcePostFetchPayload", func() any { return new(ResourcePostFetchPayload) }},
	AgentPreInvoke:          {"AgentPreInvokePayload", func() any { return new(AgentPreInvokePayload) }},
	AgentPostInvoke:         {"AgentPostInvokePayload", func() any { return new(AgentPostInvokePayload) }},
	HTTPPreRequest:          {"HttpPreRequestPayload", func() any { return new(HTTPPreRequestPayload) }},
	HTTPPostRequest:         {"HttpPostRequestPayload", func() any { return new(HTTPPostRequestPayload) }},
	HTTPAuthResolveUser:     {"HttpAuthResolveUserPayload", func() any { return new(HTTPAuthResolveUserPayload) }},
	HTTPAuthCheckPermission: {"HttpAuthCheckPermissionPayload", func() any { return new(HTTPAuthCheckPermissionPayload) }},
}

// NewPayload returns a pointer to a zero payload of hook's Go type (for example
// *ToolPreInvokePayload), or nil and false for a custom hook.
func NewPayload(hook string) (any, bool) {
	f, ok := payloadFactories[hook]
	if !ok {
		return nil, false
	}
	return f.new(), true
}

// Marshal encodes a payload (a typed payload, an Object, or any JSON-encodable
// value) the way the Python side writes it: no HTML escaping of <, > and &.
func Marshal(v any) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrInvalidPayload, err)
	}
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n")), nil
}

// ToPayload wraps a typed payload (or an Object) as the *core.Payload that the
// executor and Go plugins exchange.
func ToPayload(v any) (*core.Payload, error) {
	b, err := Marshal(v)
	if err != nil {
		return nil, err
	}
	return core.NewPayloadJSON(b), nil
}

// Decode reads a *core.Payload as the payload type T (one of this package's
// payload types, an Object, or any type encoding/json can fill).
func Decode[T any](p *core.Payload) (T, error) {
	var v T
	if p == nil {
		return v, &PayloadError{Model: fmt.Sprintf("%T", v), Reason: "no payload"}
	}
	b, err := p.JSON()
	if err != nil {
		return v, &PayloadError{Model: fmt.Sprintf("%T", v), Reason: err.Error()}
	}
	err = decodeInto(b, fmt.Sprintf("%T", v), &v)
	return v, err
}

// DecodeHook reads the JSON of a payload of hook: a pointer to the hook's Go
// type for a built-in hook, an Object for a custom one. A custom hook's payload
// must be a JSON object (every upstream payload is a pydantic model).
func DecodeHook(hook string, data []byte) (any, error) {
	if f, ok := payloadFactories[hook]; ok {
		v := f.new()
		if err := decodeInto(data, f.model, v); err != nil {
			return nil, err
		}
		return v, nil
	}
	obj, err := DecodeObject(data)
	if err != nil {
		return nil, err
	}
	return obj, nil
}

// DecodeObject reads a JSON object payload (the raw path for custom hooks).
func DecodeObject(data []byte) (Object, error) {
	var obj Object
	if err := decodeInto(data, "payload", &obj); err != nil {
		return nil, err
	}
	if obj == nil {
		return nil, &PayloadError{Model: "payload", Reason: "must be a JSON object, got null"}
	}
	return obj, nil
}

// Tree turns a typed payload into the decoded JSON tree a Go plugin returns as
// core.Result.ModifiedPayload. Numbers become float64, as core.Payload.Value decodes
// them, so that the executor's field-by-field policy diff sees unchanged numeric
// fields as unchanged.
func Tree(v any) (map[string]any, error) {
	b, err := Marshal(v)
	if err != nil {
		return nil, err
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		return nil, &PayloadError{Model: fmt.Sprintf("%T", v), Reason: err.Error()}
	}
	if m == nil {
		return nil, &PayloadError{Model: fmt.Sprintf("%T", v), Reason: "must encode to a JSON object"}
	}
	return m, nil
}
