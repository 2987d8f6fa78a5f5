package mcpserver

import (
	"bytes"
	"encoding/json"
	"fmt"
	"unicode/utf8"

	"github.com/cpex-go/cpex/core/external/callq"
)

// DefaultMaxRequestBytes bounds one invoke_hook's arguments (JSON text) when Options
// gives no limit: larger calls are answered with an error model, not run.
const DefaultMaxRequestBytes = 8 << 20

// Error codes of the error models this package answers itself (callq's).
const (
	CodeInvalidArguments = callq.CodeInvalidArguments
	CodeRequestTooLarge  = callq.CodeRequestTooLarge
	CodeServerClosed     = callq.CodeServerClosed
	CodeInternal         = callq.CodeInternal
)

// InvokeArgs are invoke_hook's arguments (callq.InvokeArgs).
type InvokeArgs = callq.InvokeArgs

// ArgsError is a malformed invoke_hook call; Plugin is the name it gave, if any.
type ArgsError struct {
	Plugin string
	Code   string
	Msg    string
}

func (e *ArgsError) Error() string { return e.Msg }

// DecodeInvokeArgs checks invoke_hook's arguments (the tool call's "arguments" object):
// at most max bytes (<= 0: DefaultMaxRequestBytes), valid UTF-8 JSON, an object whose
// hook_type and plugin_name are non-empty strings, payload an object and context an
// object or null/absent. Unknown keys are ignored, as upstream's tool does.
func DecodeInvokeArgs(raw []byte, max int) (*InvokeArgs, error) {
	if max <= 0 {
		max = DefaultMaxRequestBytes
	}
	if len(raw) > max {
		return nil, &ArgsError{Plugin: peekPlugin(raw), Code: CodeRequestTooLarge,
			Msg: fmt.Sprintf("invoke_hook: arguments of %d bytes exceed the server's limit of %d bytes", len(raw), max)}
	}
	if !utf8.Valid(raw) {
		return nil, &ArgsError{Code: CodeInvalidArguments, Msg: "invoke_hook: arguments are not valid UTF-8"}
	}
	var fields map[string]json.RawMessage
	if err := json.Unmarshal(raw, &fields); err != nil || fields == nil {
		return nil, &ArgsError{Code: CodeInvalidArguments, Msg: fmt.Sprintf("invoke_hook: arguments: want a JSON object, got %s", clip(raw))}
	}
	a := &InvokeArgs{}
	var problems []string
	str := func(key string, dst *string) {
		v, ok := fields[key]
		if !ok {
			problems = append(problems, key+": missing")
			return
		}
		if err := json.Unmarshal(v, dst); err != nil || *dst == "" {
			problems = append(problems, fmt.Sprintf("%s: want a non-empty string, got %s", key, clip(v)))
		}
	}
	str("plugin_name", &a.PluginName)
	str("hook_type", &a.HookType)
	if v, ok := fields["payload"]; !ok {
		problems = append(problems, "payload: missing")
	} else if kind(v) != '{' {
		problems = append(problems, "payload: want a JSON object, got "+clip(v))
	} else {
		a.Payload = v
	}
	if v, ok := fields["context"]; ok && kind(v) != 'n' {
		if kind(v) != '{' {
			problems = append(problems, "context: want a JSON object, got "+clip(v))
		} else {
			a.Context = v
		}
	}
	if len(problems) > 0 {
		msg := "invoke_hook: invalid arguments:"
		for _, p := range problems {
			msg += " " + p + ";"
		}
		return nil, &ArgsError{Plugin: a.PluginName, Code: CodeInvalidArguments, Msg: msg[:len(msg)-1]}
	}
	return a, nil
}

// kind is the first byte of a JSON value ('{', '[', '"', 'n', 't', 'f' or a digit/'-').
func kind(v json.RawMessage) byte {
	v = bytes.TrimSpace(v)
	if len(v) == 0 {
		return 0
	}
	return v[0]
}

// peekPlugin finds plugin_name in arguments too large to decode in full (best effort:
// the error model names the plugin when the name comes early).
func peekPlugin(raw []byte) string {
	i := bytes.Index(raw[:min(len(raw), 4096)], []byte(`"plugin_name"`))
	if i < 0 {
		return ""
	}
	rest := bytes.TrimLeft(raw[i+len(`"plugin_name"`):], " \t\r\n:")
	dec := json.NewDecoder(bytes.NewReader(rest))
	var name string
	if dec.Decode(&name) != nil {
		return ""
	}
	return name
}

func clip(b []byte) string {
	const n = 120
	if len(b) <= n {
		return string(b)
	}
	return string(b[:n]) + "..."
}

// ErrorModel is upstream's PluginErrorModel (callq.ErrorModel).
type ErrorModel = callq.ErrorModel

// ErrorReply is invoke_hook's answer for a failure: {"plugin_name", "error"}.
func ErrorReply(plugin, code, msg string, details map[string]any) json.RawMessage {
	return callq.ErrorReply(plugin, code, msg, details)
}
