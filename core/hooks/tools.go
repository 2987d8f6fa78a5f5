package hooks

// ToolPreInvokePayload is the payload of tool_pre_invoke (upstream
// ToolPreInvokePayload): a tool call about to be made.
type ToolPreInvokePayload struct {
	Name string `json:"name"`
	// Args defaults to {} when absent; an explicit null stays nil (None).
	Args map[string]any `json:"args"`
	// Headers is deprecated upstream in favour of extensions.http.headers; nil is None.
	Headers HTTPHeaders `json:"headers"`
}

// UnmarshalJSON applies upstream's defaults and rejects a missing name.
func (p *ToolPreInvokePayload) UnmarshalJSON(data []byte) error {
	const model = "ToolPreInvokePayload"
	type plain ToolPreInvokePayload
	v := plain{Args: map[string]any{}}
	aux := struct {
		Name *string `json:"name"`
		*plain
	}{plain: &v}
	if err := decodeInto(data, model, &aux); err != nil {
		return err
	}
	if aux.Name == nil {
		return missing(model, "name")
	}
	v.Name = *aux.Name
	*p = ToolPreInvokePayload(v)
	return nil
}

// ToolPostInvokePayload is the payload of tool_post_invoke: the result of a tool
// call. The gateway passes ToolResult.model_dump(by_alias=True) as Result; read it
// typed with ToolResult.
type ToolPostInvokePayload struct {
	Name string `json:"name"`
	// Result is required but may be null (pydantic Any).
	Result any `json:"result"`
}

// UnmarshalJSON rejects a missing name or result.
func (p *ToolPostInvokePayload) UnmarshalJSON(data []byte) error {
	const model = "ToolPostInvokePayload"
	var aux struct {
		Name   *string  `json:"name"`
		Result anyValue `json:"result"`
	}
	if err := decodeInto(data, model, &aux); err != nil {
		return err
	}
	if aux.Name == nil {
		return missing(model, "name")
	}
	if !aux.Result.set {
		return missing(model, "result")
	}
	*p = ToolPostInvokePayload{Name: *aux.Name, Result: aux.Result.v}
	return nil
}

// ToolResult decodes Result as the gateway's ToolResult.
func (p ToolPostInvokePayload) ToolResult() (ToolResult, error) {
	var tr ToolResult
	err := convert("ToolResult", p.Result, &tr)
	return tr, err
}
