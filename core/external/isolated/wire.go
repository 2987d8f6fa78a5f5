package isolated

import (
	"bytes"
	"encoding/json"
	"fmt"

	"github.com/cpex-go/cpex/core"
	"github.com/cpex-go/cpex/core/external/remote"
)

// Task types of NDJSON protocol v1.
const (
	taskCapabilities = "capabilities"
	taskRunHook      = "load_and_run_hook"
	taskShutdown     = "shutdown"
)

// ProtocolVersion is the worker protocol this host speaks.
const ProtocolVersion = 1

// wireGlobalContext / wirePluginContext are upstream's GlobalContext and PluginContext
// as model_dump(mode="json") writes them. A Go PluginContext has no plugin-local
// metadata, so metadata goes out empty.
type wireGlobalContext struct {
	RequestID   string         `json:"request_id"`
	User        any            `json:"user"`
	TenantID    *string        `json:"tenant_id"`
	ServerID    *string        `json:"server_id"`
	ContentType *string        `json:"content_type"`
	State       map[string]any `json:"state"`
	Metadata    map[string]any `json:"metadata"`
}

type wirePluginContext struct {
	State         map[string]any    `json:"state"`
	GlobalContext wireGlobalContext `json:"global_context"`
	Metadata      map[string]any    `json:"metadata"`
}

// hookTask is one load_and_run_hook line (request_id last, where the worker finds it
// cheapest to recover from a truncated line).
type hookTask struct {
	TaskType   string            `json:"task_type"`
	PluginDirs []string          `json:"plugin_dirs"`
	ClassName  string            `json:"class_name"`
	Config     string            `json:"config"`
	HookType   string            `json:"hook_type"`
	PluginName string            `json:"plugin_name"`
	Payload    json.RawMessage   `json:"payload"`
	Context    wirePluginContext `json:"context"`
	// Extensions: the capability-filtered extensions the host hands the plugin (JSON
	// form, sensitive headers stripped), for a plugin granted capabilities; its worker has
	// the extensions feature (required at start).
	Extensions map[string]any `json:"extensions,omitempty"`
	RequestID  string         `json:"request_id"`
}

type controlTask struct {
	TaskType  string `json:"task_type"`
	RequestID string `json:"request_id"`
}

func optStr(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

func orEmpty(m map[string]any) map[string]any {
	if m == nil {
		return map[string]any{}
	}
	return m
}

func wireContext(pctx *core.PluginContext) wirePluginContext {
	if pctx == nil {
		pctx = &core.PluginContext{}
	}
	return wirePluginContext{
		State:    orEmpty(pctx.State),
		Metadata: map[string]any{},
		GlobalContext: wireGlobalContext{
			RequestID: pctx.RequestID, User: pctx.User, TenantID: optStr(pctx.TenantID),
			ServerID: optStr(pctx.ServerID), ContentType: optStr(pctx.ContentType),
			State: orEmpty(pctx.GlobalState), Metadata: orEmpty(pctx.Metadata),
		},
	}
}

// payloadJSON is the payload with the sensitive headers stripped (see headers.go).
func payloadJSON(payload *core.Payload) (json.RawMessage, error) {
	if payload == nil {
		return json.RawMessage("null"), nil
	}
	v, err := payload.Value()
	if err != nil {
		return nil, err
	}
	return marshal(stripSensitive(v))
}

func marshal(v any) ([]byte, error) {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimRight(b.Bytes(), "\n"), nil
}

// answer is one decoded worker line.
type answer struct {
	id     string
	status string // "error", "success" or "" (a bare PluginResult)
	msg    string
	raw    map[string]json.RawMessage
	// tooLarge: the answer exceeded max_content_size and was drained unread.
	tooLarge bool
}

// decodeAnswer parses one line; numbers keep their text (json.Number).
func decodeAnswer(line []byte) (answer, error) {
	var top map[string]json.RawMessage
	dec := json.NewDecoder(bytes.NewReader(line))
	dec.UseNumber()
	if err := dec.Decode(&top); err != nil || top == nil {
		return answer{}, fmt.Errorf("not a JSON object: %s", clip(line))
	}
	a := answer{raw: top}
	_ = json.Unmarshal(top["request_id"], &a.id)
	_ = json.Unmarshal(top["status"], &a.status)
	_ = json.Unmarshal(top["message"], &a.msg)
	return a, nil
}

// result converts a success answer to a core.Result with the transports' one decoder
// (remote.DecodeResult); the modified payload and the violation's headers then lose
// their sensitive headers.
func (a answer) result() (*core.Result, error) {
	b, err := json.Marshal(a.raw)
	if err != nil {
		return nil, err
	}
	r, err := remote.DecodeResult(b)
	if err != nil {
		return nil, fmt.Errorf("invalid result: %v", err)
	}
	if r.ModifiedPayload != nil {
		r.ModifiedPayload = stripSensitive(r.ModifiedPayload)
	}
	if r.Violation != nil {
		r.Violation.HTTPHeaders = stripHeaderMap(r.Violation.HTTPHeaders)
	}
	return r, nil
}

const maxShown = 300

func clip(b []byte) string {
	if len(b) > maxShown {
		return fmt.Sprintf("%q... (%d bytes)", b[:maxShown], len(b))
	}
	return fmt.Sprintf("%q", b)
}
