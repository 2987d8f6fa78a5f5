package hooks

import "encoding/json"

// The gateway puts its own MCP models inside the free-form payload fields
// (spec gateway-contract §3): PromptResult.model_dump() in prompt_post_fetch's
// result, a ResourceContent in resource_post_fetch's content and
// ToolResult.model_dump(by_alias=True) in tool_post_invoke's result. The types
// below read and write those shapes; content blocks keep every key they arrive
// with, because the gateway's content union (text, image, audio, resource links,
// embedded resources) grows with the MCP spec.

// Message roles of the gateway's Role enum.
const (
	RoleUser      = "user"
	RoleAssistant = "assistant"
)

// PromptResult is the gateway's rendered prompt (mcpgateway PromptResult).
type PromptResult struct {
	Messages    []Message `json:"messages"`
	Description *string   `json:"description"`
}

// MarshalJSON writes messages as [] when nil: the field is a required list.
func (r PromptResult) MarshalJSON() ([]byte, error) {
	type plain PromptResult
	if r.Messages == nil {
		r.Messages = []Message{}
	}
	return marshalPlain(plain(r))
}

// Message is one message of a prompt or conversation: a role and one content block.
type Message struct {
	Role    string       `json:"role"`
	Content ContentBlock `json:"content"`
}

// ContentBlock is one MCP content block, kept as the JSON object it arrived as
// (every key survives a round trip). Type and Text read the common keys.
type ContentBlock map[string]any

// TextContent returns a text content block. The gateway's model fills in its
// optional keys (annotations, meta) when it validates the block.
func TextContent(text string) ContentBlock {
	return ContentBlock{"type": "text", "text": text}
}

// Type is the block's discriminator ("text", "image", "audio", "resource",
// "resource_link"), or "" when absent.
func (c ContentBlock) Type() string {
	s, _ := c["type"].(string)
	return s
}

// Text returns the text of a text block (or of a legacy resource block that
// carries text) and whether there was one.
func (c ContentBlock) Text() (string, bool) {
	s, ok := c["text"].(string)
	return s, ok
}

// ResourceContent is the gateway's legacy embedded resource (mcpgateway
// ResourceContent), the content of resource_post_fetch. Blob is the base64 text
// of the bytes, as model_dump(mode="json") writes it.
type ResourceContent struct {
	Type     string  `json:"type"`
	ID       string  `json:"id"`
	URI      string  `json:"uri"`
	MimeType *string `json:"mime_type"`
	Text     *string `json:"text"`
	Blob     *string `json:"blob"`
}

// UnmarshalJSON rejects a missing type, id or uri, and a type other than "resource".
func (r *ResourceContent) UnmarshalJSON(data []byte) error {
	const model = "ResourceContent"
	type plain ResourceContent
	var v plain
	aux := struct {
		Type *string `json:"type"`
		ID   *string `json:"id"`
		URI  *string `json:"uri"`
		*plain
	}{plain: &v}
	if err := decodeInto(data, model, &aux); err != nil {
		return err
	}
	switch {
	case aux.Type == nil:
		return missing(model, "type")
	case *aux.Type != "resource":
		return &PayloadError{Model: model, Field: "type", Reason: "must be \"resource\", got " + quote(*aux.Type)}
	case aux.ID == nil:
		return missing(model, "id")
	case aux.URI == nil:
		return missing(model, "uri")
	}
	v.Type, v.ID, v.URI = *aux.Type, *aux.ID, *aux.URI
	*r = ResourceContent(v)
	return nil
}

// ToolResult is the gateway's tool call result (mcpgateway ToolResult /
// CallToolResult) as dumped with by_alias=True, which is how the gateway hands
// it to tool_post_invoke.
type ToolResult struct {
	Content           []ContentBlock `json:"content"`
	IsError           *bool          `json:"isError"`
	StructuredContent map[string]any `json:"structuredContent"`
	Meta              map[string]any `json:"_meta"`
}

// MarshalJSON writes content as [] when nil: the field is a required list.
func (r ToolResult) MarshalJSON() ([]byte, error) {
	type plain ToolResult
	if r.Content == nil {
		r.Content = []ContentBlock{}
	}
	return marshalPlain(plain(r))
}

func quote(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}

func marshalPlain(v any) ([]byte, error) { return json.Marshal(v) }
