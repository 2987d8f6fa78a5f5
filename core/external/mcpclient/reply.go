package mcpclient

import (
	"bytes"
	"encoding/json"
	"fmt"

	"github.com/cpex-go/cpex/core/external/remote"

	"github.com/cpex-go/cpex/core"
)

// Error codes of the errors this client makes itself (a remote error keeps its own).
const (
	CodeJSONDecode      = "JSON_DECODE_ERROR" // upstream's code for a non-JSON answer
	CodeInvalidResponse = "INVALID_RESPONSE"
	CodeTransport       = "MCP_TRANSPORT_ERROR"
	CodeConfig          = "MCP_CONFIG_ERROR"
)

// maxShownAnswer bounds how much of a bad answer an error message quotes.
const maxShownAnswer = 512

// reply is one decoded invoke_hook answer.
type reply struct {
	result  *core.Result
	context *replyContext // nil when the answer carries none
	err     *core.PluginError
}

// replyContext is the part of the remote PluginContext copied back into the caller's
// context (upstream copies state, metadata and global_context.state).
type replyContext struct {
	State       map[string]any
	Metadata    map[string]any
	GlobalState map[string]any
}

type wireError struct {
	Message      *string        `json:"message"`
	PluginName   *string        `json:"plugin_name"`
	Code         *string        `json:"code"`
	Details      map[string]any `json:"details"`
	MCPErrorCode *int           `json:"mcp_error_code"`
}

type wireContext struct {
	State         map[string]any `json:"state"`
	Metadata      map[string]any `json:"metadata"`
	GlobalContext *struct {
		State map[string]any `json:"state"`
	} `json:"global_context"`
}

// decodeReply reads one text block of an invoke_hook answer for plugin. ok is false when
// the block holds none of result/error/context (the caller tries the next block).
// Numbers keep their exact text (json.Number), so large integers survive the trip.
func decodeReply(plugin string, text []byte) (r reply, ok bool) {
	var top map[string]json.RawMessage
	if err := unmarshalExact(text, &top); err != nil || top == nil {
		return reply{err: &core.PluginError{PluginName: plugin, Code: CodeJSONDecode,
			Message: "Error trying to decode json: " + clip(text)}}, true
	}
	bad := func(what string, err error) (reply, bool) {
		return reply{err: &core.PluginError{PluginName: plugin, Code: CodeInvalidResponse,
			Message: fmt.Sprintf("external plugin %s: invalid %s in the server's answer: %v", plugin, what, err)}}, true
	}
	// A key that is present but null is invalid, as upstream's model_validate(None) is.
	for _, k := range []string{"context", "result", "error"} {
		if raw, has := top[k]; has && isNull(raw) {
			return bad(k, fmt.Errorf("null"))
		}
	}
	if raw, has := top["context"]; has {
		var wc wireContext
		if err := unmarshalExact(raw, &wc); err != nil {
			return bad("context", err)
		}
		rc := &replyContext{State: wc.State, Metadata: wc.Metadata}
		if wc.GlobalContext != nil {
			rc.GlobalState = wc.GlobalContext.State
		}
		r.context = rc
		ok = true
	}
	if raw, has := top["result"]; has {
		res, err := remote.DecodeResult(raw)
		if err != nil {
			return bad("result", err)
		}
		r.result = res
		return r, true
	}
	if raw, has := top["error"]; has {
		var we wireError
		if err := unmarshalExact(raw, &we); err != nil {
			return bad("error", err)
		}
		if we.Message == nil {
			return bad("error", fmt.Errorf("message: field required"))
		}
		pe := &core.PluginError{PluginName: plugin, Message: *we.Message, Details: we.Details}
		if we.PluginName != nil {
			pe.PluginName = *we.PluginName
		}
		if we.Code != nil {
			pe.Code = *we.Code
		}
		r.err = pe
		return r, true
	}
	return r, ok
}

// unmarshalExact: see remote.UnmarshalExact.
func unmarshalExact(data []byte, v any) error { return remote.UnmarshalExact(data, v) }

func isNull(raw json.RawMessage) bool { return string(bytes.TrimSpace(raw)) == "null" }

func clip(b []byte) string {
	if len(b) > maxShownAnswer {
		return string(b[:maxShownAnswer]) + "…"
	}
	return string(b)
}
