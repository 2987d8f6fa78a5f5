package hooks

// AgentPreInvokePayload is the payload of agent_pre_invoke: an agent call about to
// be made. Messages are free-form (upstream expects role/content objects, see
// Message, but does not check them).
type AgentPreInvokePayload struct {
	AgentID  string   `json:"agent_id"`
	Messages []any    `json:"messages"`
	Tools    []string `json:"tools"`
	// Headers is deprecated upstream in favour of extensions.http.headers; nil is None.
	Headers      HTTPHeaders `json:"headers"`
	Model        *string     `json:"model"`
	SystemPrompt *string     `json:"system_prompt"`
	// Parameters defaults to {} when absent; an explicit null stays nil (None).
	Parameters map[string]any `json:"parameters"`
}

// UnmarshalJSON applies upstream's defaults and rejects a missing agent_id or
// messages (messages is a required list: null is rejected too).
func (p *AgentPreInvokePayload) UnmarshalJSON(data []byte) error {
	const model = "AgentPreInvokePayload"
	type plain AgentPreInvokePayload
	v := plain{Parameters: map[string]any{}}
	aux := struct {
		AgentID  *string `json:"agent_id"`
		Messages *[]any  `json:"messages"`
		*plain
	}{plain: &v}
	if err := decodeInto(data, model, &aux); err != nil {
		return err
	}
	id, msgs, err := requireAgentFields(model, aux.AgentID, aux.Messages)
	if err != nil {
		return err
	}
	v.AgentID, v.Messages = id, msgs
	*p = AgentPreInvokePayload(v)
	return nil
}

// MarshalJSON writes messages as [] when nil: the field is a required list.
func (p AgentPreInvokePayload) MarshalJSON() ([]byte, error) {
	type plain AgentPreInvokePayload
	if p.Messages == nil {
		p.Messages = []any{}
	}
	return marshalPlain(plain(p))
}

// AgentPostInvokePayload is the payload of agent_post_invoke: what an agent
// produced.
type AgentPostInvokePayload struct {
	AgentID   string           `json:"agent_id"`
	Messages  []any            `json:"messages"`
	ToolCalls []map[string]any `json:"tool_calls"`
}

// UnmarshalJSON rejects a missing agent_id or messages.
func (p *AgentPostInvokePayload) UnmarshalJSON(data []byte) error {
	const model = "AgentPostInvokePayload"
	type plain AgentPostInvokePayload
	var v plain
	aux := struct {
		AgentID  *string `json:"agent_id"`
		Messages *[]any  `json:"messages"`
		*plain
	}{plain: &v}
	if err := decodeInto(data, model, &aux); err != nil {
		return err
	}
	id, msgs, err := requireAgentFields(model, aux.AgentID, aux.Messages)
	if err != nil {
		return err
	}
	v.AgentID, v.Messages = id, msgs
	*p = AgentPostInvokePayload(v)
	return nil
}

// MarshalJSON writes messages as [] when nil: the field is a required list.
func (p AgentPostInvokePayload) MarshalJSON() ([]byte, error) {
	type plain AgentPostInvokePayload
	if p.Messages == nil {
		p.Messages = []any{}
	}
	return marshalPlain(plain(p))
}

// requireAgentFields is the rule both agent payloads share: agent_id and messages are
// required (the decoders read them through pointers to tell an absent key from an empty
// value).
func requireAgentFields(model string, id *string, msgs *[]any) (string, []any, error) {
	if id == nil {
		return "", nil, missing(model, "agent_id")
	}
	if msgs == nil {
		return "", nil, missing(model, "messages")
	}
	return *id, *msgs, nil
}
