package hooks

// PromptPrehookPayload is the payload of prompt_pre_fetch: a prompt about to be
// rendered, with its string arguments.
type PromptPrehookPayload struct {
	PromptID string `json:"prompt_id"`
	// Args defaults to {} when absent; an explicit null stays nil (None).
	Args map[string]string `json:"args"`
}

// UnmarshalJSON applies upstream's defaults and rejects a missing prompt_id.
func (p *PromptPrehookPayload) UnmarshalJSON(data []byte) error {
	const model = "PromptPrehookPayload"
	type plain PromptPrehookPayload
	var v plain
	aux := struct {
		PromptID *string     `json:"prompt_id"`
		Args     strMapField `json:"args"`
		*plain
	}{plain: &v}
	if err := decodeInto(data, model, &aux); err != nil {
		return err
	}
	if aux.PromptID == nil {
		return missing(model, "prompt_id")
	}
	v.PromptID, v.Args = *aux.PromptID, aux.Args.m
	if !aux.Args.set {
		v.Args = map[string]string{}
	}
	*p = PromptPrehookPayload(v)
	return nil
}

// PromptPosthookPayload is the payload of prompt_post_fetch: a rendered prompt.
// The gateway passes PromptResult.model_dump() as Result; read it typed with
// PromptResult.
type PromptPosthookPayload struct {
	PromptID string `json:"prompt_id"`
	// Result is required but may be null (pydantic Any).
	Result any `json:"result"`
}

// UnmarshalJSON rejects a missing prompt_id or result.
func (p *PromptPosthookPayload) UnmarshalJSON(data []byte) error {
	const model = "PromptPosthookPayload"
	var aux struct {
		PromptID *string  `json:"prompt_id"`
		Result   anyValue `json:"result"`
	}
	if err := decodeInto(data, model, &aux); err != nil {
		return err
	}
	if aux.PromptID == nil {
		return missing(model, "prompt_id")
	}
	if !aux.Result.set {
		return missing(model, "result")
	}
	*p = PromptPosthookPayload{PromptID: *aux.PromptID, Result: aux.Result.v}
	return nil
}

// PromptResult decodes Result as the gateway's PromptResult.
func (p PromptPosthookPayload) PromptResult() (PromptResult, error) {
	var pr PromptResult
	err := convert("PromptResult", p.Result, &pr)
	return pr, err
}
