package callq

import (
	"encoding/json"
)

// Error codes of the error models the plugin servers answer themselves.
const (
	CodeInvalidArguments = "INVALID_ARGUMENTS"
	CodeRequestTooLarge  = "REQUEST_TOO_LARGE"
	CodeServerClosed     = "SERVER_CLOSED"
	CodeInternal         = "INTERNAL_ERROR"
)

// MCPInternalError is JSON-RPC's "internal error", the mcp_error_code upstream's
// convert_exception_to_error gives a plugin's exception.
const MCPInternalError = -32603

// Outcomes of a call, the "outcome" label of the servers' call counters.
const (
	OutcomeAllowed = "allowed"
	OutcomeBlocked = "blocked"
	OutcomeError   = "error"
)

// InvokeArgs are one hook call: the hook, the plugin (by its configured name), the
// payload as a JSON object and the plugin context (upstream PluginContext as JSON;
// absent or null means an empty one). MCP's invoke_hook arguments have this shape; the
// gRPC and Unix-socket servers build it from the protobuf request (remote.QueueHost).
type InvokeArgs struct {
	HookType   string          `json:"hook_type"`
	PluginName string          `json:"plugin_name"`
	Payload    json.RawMessage `json:"payload"`
	Context    json.RawMessage `json:"context"`
}

// ErrorModel is upstream's PluginErrorModel.
type ErrorModel struct {
	Message      string         `json:"message"`
	PluginName   string         `json:"plugin_name"`
	Code         string         `json:"code"`
	Details      map[string]any `json:"details"`
	MCPErrorCode int            `json:"mcp_error_code"`
}

// ErrorReply is a call's answer for a failure: {"plugin_name", "error"}.
func ErrorReply(plugin, code, msg string, details map[string]any) json.RawMessage {
	if details == nil {
		details = map[string]any{}
	}
	b, err := json.Marshal(struct {
		PluginName string     `json:"plugin_name"`
		Error      ErrorModel `json:"error"`
	}{plugin, ErrorModel{Message: msg, PluginName: plugin, Code: code, Details: details, MCPErrorCode: MCPInternalError}})
	if err != nil { // details that do not encode: keep the message
		return ErrorReply(plugin, code, msg, map[string]any{"unencodable_details": err.Error()})
	}
	return b
}

func clip(b []byte) string {
	const n = 120
	if len(b) <= n {
		return string(b)
	}
	return string(b[:n]) + "..."
}
