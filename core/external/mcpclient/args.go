package mcpclient

import (
	"bytes"
	"encoding/json"
	"fmt"

	"github.com/cpex-go/cpex/core"
)

// wireGlobalContext is upstream GlobalContext as the server receives it (None omitted).
type wireGlobalContext struct {
	RequestID   string         `json:"request_id"`
	User        any            `json:"user,omitempty"`
	TenantID    string         `json:"tenant_id,omitempty"`
	ServerID    string         `json:"server_id,omitempty"`
	ContentType string         `json:"content_type,omitempty"`
	State       map[string]any `json:"state"`
	Metadata    map[string]any `json:"metadata"`
}

// wirePluginContext is upstream PluginContext. A Go PluginContext has no plugin-local
// metadata (its Metadata is the request's shared metadata), so metadata goes out empty.
type wirePluginContext struct {
	State         map[string]any    `json:"state"`
	GlobalContext wireGlobalContext `json:"global_context"`
	Metadata      map[string]any    `json:"metadata"`
}

type wireArgs struct {
	HookType   string            `json:"hook_type"`
	PluginName string            `json:"plugin_name"`
	Payload    json.RawMessage   `json:"payload"`
	Context    wirePluginContext `json:"context"`
}

// invokeArgs builds the invoke_hook arguments. The payload's top-level null fields are
// left out, as the Python MCP SDK serialises a pydantic payload (exclude_none).
func invokeArgs(hook, plugin string, payload *core.Payload, pctx *core.PluginContext) (json.RawMessage, error) {
	raw, err := payloadJSON(payload)
	if err != nil {
		return nil, err
	}
	if pctx == nil {
		pctx = &core.PluginContext{}
	}
	a := wireArgs{HookType: hook, PluginName: plugin, Payload: raw, Context: wirePluginContext{
		State:    orEmpty(pctx.State),
		Metadata: map[string]any{},
		GlobalContext: wireGlobalContext{
			RequestID: pctx.RequestID, User: pctx.User, TenantID: pctx.TenantID, ServerID: pctx.ServerID,
			ContentType: pctx.ContentType, State: orEmpty(pctx.GlobalState), Metadata: orEmpty(pctx.Metadata),
		},
	}}
	return json.Marshal(a)
}

func payloadJSON(payload *core.Payload) (json.RawMessage, error) {
	if payload == nil {
		return json.RawMessage("{}"), nil
	}
	v, err := payload.Value()
	if err != nil {
		return nil, err
	}
	m, ok := v.(map[string]any)
	if !ok {
		return nil, fmt.Errorf("payload: want a JSON object, got %T", v)
	}
	out := make(map[string]any, len(m))
	for k, e := range m {
		if e != nil {
			out[k] = e
		}
	}
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(out); err != nil {
		return nil, err
	}
	return bytes.TrimRight(b.Bytes(), "\n"), nil
}

func orEmpty(m map[string]any) map[string]any {
	if m == nil {
		return map[string]any{}
	}
	return m
}
