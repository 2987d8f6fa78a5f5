package cmf

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// ErrInvalidMessage is wrapped by every decoding error of this package.
var ErrInvalidMessage = errors.New("invalid CMF message")

// ValidationError names where a message is invalid: Loc is pydantic's loc (field names,
// list indices, and the content_type tag after a content part's index), Type pydantic's
// error type (missing, string_type, enum, ...).
type ValidationError struct {
	Loc  []string
	Type string
	Msg  string
}

func (e *ValidationError) Error() string {
	if len(e.Loc) == 0 {
		return "cmf.Message: " + e.Msg
	}
	return fmt.Sprintf("cmf.Message: field %q: %s", strings.Join(e.Loc, "."), e.Msg)
}

// Unwrap lets errors.Is(err, ErrInvalidMessage) match.
func (e *ValidationError) Unwrap() error { return ErrInvalidMessage }

// Decode reads one JSON message.
func Decode(data []byte) (Message, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	var tree any
	if err := dec.Decode(&tree); err != nil {
		return Message{}, &ValidationError{Type: "json_invalid", Msg: err.Error()}
	}
	if dec.More() {
		return Message{}, &ValidationError{Type: "json_invalid", Msg: "unexpected data after the JSON document"}
	}
	return FromTree(tree)
}

// UnmarshalJSON decodes and validates a message.
func (m *Message) UnmarshalJSON(data []byte) error {
	v, err := Decode(data)
	if err != nil {
		return err
	}
	*m = v
	return nil
}

// FromTree validates a decoded JSON tree (map[string]any, []any, string, json.Number or
// float64, bool, nil: what core payload trees hold) into a Message.
func FromTree(tree any) (Message, error) {
	return readMessage(tree, nil)
}

var messageKeys = map[string]bool{"schema_version": true, "role": true, "content": true, "channel": true}

func readMessage(v any, loc []string) (Message, error) {
	r := &rd{}
	m := r.object(v, loc, "Message")
	if r.err != nil {
		return Message{}, r.err
	}
	// extra="forbid" on Message, at every nesting level (prompt results hold messages too).
	for _, k := range sortedKeys(m) {
		if !messageKeys[k] {
			return Message{}, &ValidationError{Loc: at(loc, k), Type: "extra_forbidden", Msg: "Extra inputs are not permitted"}
		}
	}
	out := Message{SchemaVersion: DefaultSchemaVersion}
	if _, ok := m["schema_version"]; ok {
		out.SchemaVersion = r.str(m, loc, "schema_version")
	}
	out.Role = Role(r.enum(m, loc, "role", roles, true))
	out.Channel = (*Channel)(r.optEnum(m, loc, "channel", channels))
	if r.err != nil {
		return Message{}, r.err
	}
	out.Content = []Part{}
	if raw, ok := m["content"]; ok {
		list, isList := raw.([]any)
		if !isList {
			return Message{}, &ValidationError{Loc: at(loc, "content"), Type: "list_type", Msg: "Input should be a valid list"}
		}
		for i, e := range list {
			p, err := readPart(e, at(loc, "content", strconv.Itoa(i)))
			if err != nil {
				return Message{}, err
			}
			out.Content = append(out.Content, p)
		}
	}
	return out, nil
}

func readPart(v any, loc []string) (Part, error) {
	m, ok := v.(map[string]any)
	if !ok {
		return Part{}, &ValidationError{Loc: loc, Type: "model_type", Msg: "Input should be a valid dictionary or instance of ContentPart"}
	}
	tagV, ok := m["content_type"]
	if !ok || tagV == nil {
		// Python raises a bare ValueError here (the discriminator runs outside pydantic's
		// error collection); Go has only one error kind.
		return Part{}, &ValidationError{Loc: loc, Type: "value_error", Msg: "Missing 'content_type' discriminator in content part dict"}
	}
	tag, _ := tagV.(string)
	if !contains(contentTypes, tag) {
		return Part{}, &ValidationError{Loc: loc, Type: "union_tag_invalid", Msg: fmt.Sprintf("Input tag %q does not match any of the expected tags: %s", fmt.Sprint(tagV), quoteList(contentTypes))}
	}
	ct := ContentType(tag)
	loc = at(loc, tag)
	r := &rd{}
	p := Part{Type: ct}
	if ct == ContentText || ct == ContentThinking {
		p.Text = r.str(m, loc, "text")
		return p, r.errOr()
	}
	inner := r.object(m["content"], at(loc, "content"), "")
	if _, present := m["content"]; !present {
		return Part{}, &ValidationError{Loc: at(loc, "content"), Type: "missing", Msg: "Field required"}
	}
	if r.err != nil {
		return Part{}, r.err
	}
	cl := at(loc, "content")
	switch ct {
	case ContentToolCall:
		p.ToolCall = &ToolCall{
			ToolCallID: r.str(inner, cl, "tool_call_id"), Name: r.str(inner, cl, "name"),
			Arguments: r.dict(inner, cl, "arguments"), Namespace: r.optStr(inner, cl, "namespace"),
		}
	case ContentToolResult:
		p.ToolResult = &ToolResult{
			ToolCallID: r.str(inner, cl, "tool_call_id"), ToolName: r.str(inner, cl, "tool_name"),
			Content: inner["content"], IsError: r.boolean(inner, cl, "is_error"),
		}
	case ContentResource:
		res := &Resource{
			ResourceRequestID: r.str(inner, cl, "resource_request_id"), URI: r.str(inner, cl, "uri"),
			Name: r.optStr(inner, cl, "name"), Description: r.optStr(inner, cl, "description"),
			ResourceType: ResourceType(r.enum(inner, cl, "resource_type", resourceTypes, true)),
			Content:      r.optStr(inner, cl, "content"), Blob: r.optStr(inner, cl, "blob"),
			MimeType: r.optStr(inner, cl, "mime_type"), SizeBytes: r.optInt(inner, cl, "size_bytes"),
			Annotations: r.dict(inner, cl, "annotations"), Version: r.optStr(inner, cl, "version"),
		}
		if r.err == nil && res.Content != nil && res.Blob != nil {
			r.fail(cl, "value_error", "Value error, Resource cannot have both 'content' and 'blob' set")
		}
		p.Resource = res
	case ContentResourceRef:
		ref := &ResourceReference{
			ResourceRequestID: r.str(inner, cl, "resource_request_id"), URI: r.str(inner, cl, "uri"),
			Name:         r.optStr(inner, cl, "name"),
			ResourceType: ResourceType(r.enum(inner, cl, "resource_type", resourceTypes, true)),
			RangeStart:   r.optInt(inner, cl, "range_start"), RangeEnd: r.optInt(inner, cl, "range_end"),
			Selector: r.optStr(inner, cl, "selector"),
		}
		if r.err == nil && ref.RangeStart != nil && ref.RangeEnd != nil && *ref.RangeEnd < *ref.RangeStart {
			r.fail(cl, "value_error", fmt.Sprintf("Value error, range_end (%d) must be >= range_start (%d)", *ref.RangeEnd, *ref.RangeStart))
		}
		p.ResourceRef = ref
	case ContentPromptRequest:
		p.PromptRequest = &PromptRequest{
			PromptRequestID: r.str(inner, cl, "prompt_request_id"), Name: r.str(inner, cl, "name"),
			Arguments: r.dict(inner, cl, "arguments"), ServerID: r.optStr(inner, cl, "server_id"),
		}
	case ContentPromptResult:
		pr := &PromptResult{
			PromptRequestID: r.str(inner, cl, "prompt_request_id"), PromptName: r.str(inner, cl, "prompt_name"),
			Content: r.optStr(inner, cl, "content"), IsError: r.boolean(inner, cl, "is_error"),
			ErrorMessage: r.optStr(inner, cl, "error_message"), Messages: []Message{},
		}
		if r.err == nil {
			if raw, ok := inner["messages"]; ok {
				list, isList := raw.([]any)
				if !isList {
					return Part{}, &ValidationError{Loc: at(cl, "messages"), Type: "list_type", Msg: "Input should be a valid list"}
				}
				for i, e := range list {
					msg, err := readMessage(e, at(cl, "messages", strconv.Itoa(i)))
					if err != nil {
						return Part{}, err
					}
					pr.Messages = append(pr.Messages, msg)
				}
			}
		}
		p.PromptResult = pr
	case ContentImage:
		p.Image = &ImageSource{Type: r.literal(inner, cl, "type", sourceTypes), Data: r.str(inner, cl, "data"), MediaType: r.optStr(inner, cl, "media_type")}
	case ContentVideo:
		p.Video = &VideoSource{Type: r.literal(inner, cl, "type", sourceTypes), Data: r.str(inner, cl, "data"), MediaType: r.optStr(inner, cl, "media_type"), DurationMS: r.optInt(inner, cl, "duration_ms")}
	case ContentAudio:
		p.Audio = &AudioSource{Type: r.literal(inner, cl, "type", sourceTypes), Data: r.str(inner, cl, "data"), MediaType: r.optStr(inner, cl, "media_type"), DurationMS: r.optInt(inner, cl, "duration_ms")}
	case ContentDocument:
		p.Document = &DocumentSource{Type: r.literal(inner, cl, "type", sourceTypes), Data: r.str(inner, cl, "data"), MediaType: r.optStr(inner, cl, "media_type"), Title: r.optStr(inner, cl, "title")}
	}
	return p, r.errOr()
}
