package mcpserver

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/cpex-go/cpex/core"
	"github.com/cpex-go/cpex/core/external/remote"
)

// ManagerBackend serves the Go plugins of a core.Manager (kind builtin/<name> or any
// registered Go factory): calls run in Go, concurrently, with the manager's timeout and
// on_error rules (Manager.InvokePlugin, upstream invoke_hook_for_plugin).
type ManagerBackend struct {
	m       *core.Manager
	configs []json.RawMessage
	byName  map[string]json.RawMessage
}

// NewManagerBackend serves m's plugins with their configurations as loaded.
func NewManagerBackend(m *core.Manager) (*ManagerBackend, error) {
	b := &ManagerBackend{m: m, byName: map[string]json.RawMessage{}}
	for i := range m.Config().Plugins {
		pc := &m.Config().Plugins[i]
		raw, err := json.Marshal(pc)
		if err != nil {
			return nil, fmt.Errorf("plugin server: plugin %s: config: %w", pc.Name, err)
		}
		b.configs = append(b.configs, raw)
		b.byName[strings.ToLower(pc.Name)] = raw
	}
	return b, nil
}

// PluginConfigs implements Backend.
func (b *ManagerBackend) PluginConfigs() []json.RawMessage { return b.configs }

// PluginConfig implements Backend.
func (b *ManagerBackend) PluginConfig(name string) json.RawMessage {
	return b.byName[strings.ToLower(name)]
}

// wireContext is upstream's PluginContext as invoke_hook carries it.
type wireContext struct {
	State         map[string]any `json:"state"`
	Metadata      map[string]any `json:"metadata"`
	GlobalContext struct {
		RequestID   string         `json:"request_id"`
		User        any            `json:"user"`
		UserContext any            `json:"user_context"`
		TenantID    *string        `json:"tenant_id"`
		ServerID    *string        `json:"server_id"`
		ContentType *string        `json:"content_type"`
		State       map[string]any `json:"state"`
		Metadata    map[string]any `json:"metadata"`
	} `json:"global_context"`
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

func orEmpty(m map[string]any) map[string]any {
	if m == nil {
		return map[string]any{}
	}
	return m
}

// Invoke implements Backend.
func (b *ManagerBackend) Invoke(ctx context.Context, a *InvokeArgs) (json.RawMessage, string) {
	var wc wireContext
	if len(a.Context) > 0 {
		if err := json.Unmarshal(a.Context, &wc); err != nil {
			return ErrorReply(a.PluginName, CodeInvalidArguments, "invoke_hook: context: "+err.Error(), nil), OutcomeError
		}
	}
	g := &wc.GlobalContext
	pctx := &core.PluginContext{
		RequestID: g.RequestID, User: g.User, TenantID: deref(g.TenantID), ServerID: deref(g.ServerID),
		ContentType: deref(g.ContentType), State: orEmpty(wc.State), GlobalState: orEmpty(g.State), Metadata: orEmpty(g.Metadata),
	}
	res, err := b.m.InvokePlugin(ctx, a.PluginName, a.HookType, core.NewPayloadJSON(a.Payload), pctx)
	if err != nil {
		return errorReplyOf(a.PluginName, err), OutcomeError
	}
	if res == nil {
		res = &core.Result{}
	}
	out := map[string]any{
		"continue_processing": !res.Block, "modified_payload": res.ModifiedPayload, "modified_extensions": nil,
		"violation": nil, "metadata": orEmpty(res.Metadata), "denial_metadata": nil, "http_headers": nil,
		"retry_delay_ms": res.RetryDelayMs, "executions": []any{},
	}
	if res.DenialMetadata != nil {
		out["denial_metadata"] = remote.SanitizeDenial(res.DenialMetadata)
	}
	if v := res.Violation; v != nil {
		out["violation"] = map[string]any{
			"reason": v.Reason, "description": v.Description, "code": v.Code, "details": orEmpty(v.Details),
			"plugin_name": a.PluginName, "mcp_error_code": v.MCPErrorCode, "http_status_code": v.HTTPStatusCode,
			"http_headers": v.HTTPHeaders,
		}
	}
	reply := map[string]any{"plugin_name": a.PluginName, "result": out}
	if len(pctx.State) > 0 || len(pctx.GlobalState) > 0 || len(wc.Metadata) > 0 {
		// the context travels back when it holds anything (upstream: not is_empty())
		gc := map[string]any{"request_id": g.RequestID, "user": g.User, "user_context": g.UserContext, "tenant_id": g.TenantID,
			"server_id": g.ServerID, "content_type": g.ContentType, "state": pctx.GlobalState, "metadata": pctx.Metadata}
		reply["context"] = map[string]any{"state": pctx.State, "global_context": gc, "metadata": orEmpty(wc.Metadata)}
	}
	raw, err := json.Marshal(reply)
	if err != nil {
		return ErrorReply(a.PluginName, CodeInternal, fmt.Sprintf("plugin %s: result does not encode as JSON: %v", a.PluginName, err), nil), OutcomeError
	}
	outcome := OutcomeAllowed
	if res.Block {
		outcome = OutcomeBlocked
	}
	return raw, outcome
}

// errorReplyOf turns a core error into upstream's error model.
func errorReplyOf(plugin string, err error) json.RawMessage {
	var pe *core.PluginError
	if errors.As(err, &pe) {
		name := pe.PluginName
		if name == "" {
			name = plugin
		}
		return ErrorReply(name, pe.Code, pe.Message, pe.Details)
	}
	return ErrorReply(plugin, "", err.Error(), nil)
}
