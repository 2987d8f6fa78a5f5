package cmf

import (
	"bytes"
	"encoding/json"
)

// Message is one conversation turn (cpex.framework.cmf.message.Message).
type Message struct {
	SchemaVersion string   `json:"schema_version"` // "2.0" when absent
	Role          Role     `json:"role"`
	Content       []Part   `json:"content"`
	Channel       *Channel `json:"channel"`
}

// ToolCall is a request to run a tool.
type ToolCall struct {
	ToolCallID string         `json:"tool_call_id"`
	Name       string         `json:"name"`
	Arguments  map[string]any `json:"arguments"`
	Namespace  *string        `json:"namespace"`
}

// ToolResult is what a tool run returned; Content is any JSON value.
type ToolResult struct {
	ToolCallID string `json:"tool_call_id"`
	ToolName   string `json:"tool_name"`
	Content    any    `json:"content"`
	IsError    bool   `json:"is_error"`
}

// Resource is a resource with its content embedded (Content or Blob, never both).
type Resource struct {
	ResourceRequestID string         `json:"resource_request_id"`
	URI               string         `json:"uri"`
	Name              *string        `json:"name"`
	Description       *string        `json:"description"`
	ResourceType      ResourceType   `json:"resource_type"`
	Content           *string        `json:"content"`
	Blob              *string        `json:"blob"`
	MimeType          *string        `json:"mime_type"`
	SizeBytes         *int64         `json:"size_bytes"`
	Annotations       map[string]any `json:"annotations"`
	Version           *string        `json:"version"`
}

// ResourceReference points at (part of) a resource without its content.
type ResourceReference struct {
	ResourceRequestID string       `json:"resource_request_id"`
	URI               string       `json:"uri"`
	Name              *string      `json:"name"`
	ResourceType      ResourceType `json:"resource_type"`
	RangeStart        *int64       `json:"range_start"`
	RangeEnd          *int64       `json:"range_end"`
	Selector          *string      `json:"selector"`
}

// PromptRequest asks for a prompt template to be rendered.
type PromptRequest struct {
	PromptRequestID string         `json:"prompt_request_id"`
	Name            string         `json:"name"`
	Arguments       map[string]any `json:"arguments"`
	ServerID        *string        `json:"server_id"`
}

// PromptResult is a rendered prompt.
type PromptResult struct {
	PromptRequestID string    `json:"prompt_request_id"`
	PromptName      string    `json:"prompt_name"`
	Messages        []Message `json:"messages"`
	Content         *string   `json:"content"`
	IsError         bool      `json:"is_error"`
	ErrorMessage    *string   `json:"error_message"`
}

// ImageSource is an image by URL or base64 (Type "url" or "base64").
type ImageSource struct {
	Type      string  `json:"type"`
	Data      string  `json:"data"`
	MediaType *string `json:"media_type"`
}

// VideoSource is a video by URL or base64.
type VideoSource struct {
	Type       string  `json:"type"`
	Data       string  `json:"data"`
	MediaType  *string `json:"media_type"`
	DurationMS *int64  `json:"duration_ms"`
}

// AudioSource is an audio clip by URL or base64.
type AudioSource struct {
	Type       string  `json:"type"`
	Data       string  `json:"data"`
	MediaType  *string `json:"media_type"`
	DurationMS *int64  `json:"duration_ms"`
}

// DocumentSource is a document by URL or base64.
type DocumentSource struct {
	Type      string  `json:"type"`
	Data      string  `json:"data"`
	MediaType *string `json:"media_type"`
	Title     *string `json:"title"`
}

// Part is one content part. Type selects the field that holds it: Text for text and
// thinking, otherwise the pointer named after the type (ToolCall for tool_call, ...).
type Part struct {
	Type          ContentType
	Text          string
	ToolCall      *ToolCall
	ToolResult    *ToolResult
	Resource      *Resource
	ResourceRef   *ResourceReference
	PromptRequest *PromptRequest
	PromptResult  *PromptResult
	Image         *ImageSource
	Video         *VideoSource
	Audio         *AudioSource
	Document      *DocumentSource
}

// TextPart returns a text content part.
func TextPart(text string) Part { return Part{Type: ContentText, Text: text} }

// wrapped returns the domain object of a non-text part (nil for text parts or a part
// whose pointer is unset).
func (p Part) wrapped() any {
	switch p.Type {
	case ContentToolCall:
		return nilIfNil(p.ToolCall)
	case ContentToolResult:
		return nilIfNil(p.ToolResult)
	case ContentResource:
		return nilIfNil(p.Resource)
	case ContentResourceRef:
		return nilIfNil(p.ResourceRef)
	case ContentPromptRequest:
		return nilIfNil(p.PromptRequest)
	case ContentPromptResult:
		return nilIfNil(p.PromptResult)
	case ContentImage:
		return nilIfNil(p.Image)
	case ContentVideo:
		return nilIfNil(p.Video)
	case ContentAudio:
		return nilIfNil(p.Audio)
	case ContentDocument:
		return nilIfNil(p.Document)
	}
	return nil
}

func nilIfNil[T any](p *T) any {
	if p == nil {
		return nil
	}
	return p
}

// MarshalJSON writes {"content_type": ..., "text": ...} for text and thinking parts and
// {"content_type": ..., "content": {...}} for the others.
func (p Part) MarshalJSON() ([]byte, error) {
	if p.Type == ContentText || p.Type == ContentThinking {
		return marshal(struct {
			ContentType ContentType `json:"content_type"`
			Text        string      `json:"text"`
		}{p.Type, p.Text})
	}
	return marshal(struct {
		ContentType ContentType `json:"content_type"`
		Content     any         `json:"content"`
	}{p.Type, p.wrapped()})
}

// The MarshalJSON methods below write the Python defaults ({} / []) for unset
// collections, since a Go nil would be null, which the Python models reject.

// MarshalJSON writes Content as [] when nil.
func (m Message) MarshalJSON() ([]byte, error) {
	type plain Message
	if m.Content == nil {
		m.Content = []Part{}
	}
	if m.SchemaVersion == "" {
		m.SchemaVersion = DefaultSchemaVersion
	}
	return marshal(plain(m))
}

// MarshalJSON writes Arguments as {} when nil.
func (t ToolCall) MarshalJSON() ([]byte, error) {
	type plain ToolCall
	if t.Arguments == nil {
		t.Arguments = map[string]any{}
	}
	return marshal(plain(t))
}

// MarshalJSON writes Arguments as {} when nil.
func (t PromptRequest) MarshalJSON() ([]byte, error) {
	type plain PromptRequest
	if t.Arguments == nil {
		t.Arguments = map[string]any{}
	}
	return marshal(plain(t))
}

// MarshalJSON writes Messages as [] when nil.
func (t PromptResult) MarshalJSON() ([]byte, error) {
	type plain PromptResult
	if t.Messages == nil {
		t.Messages = []Message{}
	}
	return marshal(plain(t))
}

// MarshalJSON writes Annotations as {} when nil.
func (t Resource) MarshalJSON() ([]byte, error) {
	type plain Resource
	if t.Annotations == nil {
		t.Annotations = map[string]any{}
	}
	return marshal(plain(t))
}

// DefaultSchemaVersion is the schema_version of a message that does not name one.
const DefaultSchemaVersion = "2.0"

// marshal is json.Marshal without HTML escaping: the Python side writes <, > and & as
// they are, and an outer encoder cannot undo the escapes of a nested MarshalJSON.
func marshal(v any) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n")), nil
}
