package remote

import (
	"context"
	"encoding/json"
	"fmt"

	"google.golang.org/protobuf/types/known/structpb"

	"github.com/cpex-go/cpex/core/external/callq"
	"github.com/cpex-go/cpex/proto/cpexpb"
)

// QueueHost is the Host of a plugin host that drains a callq.Queue (the Python
// runtimes of cpex.framework.external.{grpc,unix}.server): each InvokeHook becomes
// upstream's invoke_hook call in JSON, waits in the queue for the host's answer and goes
// back as protobuf. The configurations are the host's, answered without waiting for it.
type QueueHost struct {
	Q *callq.Queue
}

// PluginConfig implements Host.
func (h *QueueHost) PluginConfig(name string) (*cpexpb.GetPluginConfigResponse, error) {
	raw := h.Q.PluginConfig(name)
	if raw == nil {
		return &cpexpb.GetPluginConfigResponse{}, nil
	}
	s, err := rawStruct(raw)
	if err != nil {
		return nil, fmt.Errorf("plugin %s: encoding its config: %w", name, err)
	}
	return &cpexpb.GetPluginConfigResponse{Found: true, Config: s}, nil
}

// PluginConfigs implements Host.
func (h *QueueHost) PluginConfigs() (*cpexpb.GetPluginConfigsResponse, error) {
	out := &cpexpb.GetPluginConfigsResponse{}
	for i, raw := range h.Q.PluginConfigs() {
		s, err := rawStruct(raw)
		if err != nil {
			return nil, fmt.Errorf("plugin config %d: %w", i, err)
		}
		out.Configs = append(out.Configs, s)
	}
	return out, nil
}

// Invoke implements Host.
func (h *QueueHost) Invoke(ctx context.Context, req *cpexpb.InvokeHookRequest) *cpexpb.InvokeHookResponse {
	name := req.GetPluginName()
	fail := func(code, msg string) *cpexpb.InvokeHookResponse {
		return &cpexpb.InvokeHookResponse{PluginName: name, Error: &cpexpb.PluginError{
			Message: msg, PluginName: name, Code: code, McpErrorCode: MCPInternalError}}
	}
	if name == "" || req.GetHookType() == "" {
		return fail(callq.CodeInvalidArguments, fmt.Sprintf("invoke_hook: plugin_name and hook_type must be non-empty, got %q and %q", name, req.GetHookType()))
	}
	payload, err := json.Marshal(FromStruct(req.GetPayload()))
	if err == nil {
		var pctx []byte
		if pctx, err = json.Marshal(contextJSON(req.GetContext())); err == nil {
			reply, _ := h.Q.Invoke(ctx, &callq.InvokeArgs{HookType: req.GetHookType(), PluginName: name, Payload: payload, Context: pctx})
			return ReplyToProto(name, reply)
		}
	}
	return fail(callq.CodeInvalidArguments, fmt.Sprintf("invoke_hook: the request does not encode as JSON: %v", err))
}

// contextJSON is upstream PluginContext's JSON form of a request's context (what
// upstream's servicer builds with proto_context_to_pydantic: empty ids are None).
func contextJSON(pc *cpexpb.PluginContext) map[string]any {
	gc := pc.GetGlobalContext()
	var user any
	switch u := gc.GetUserValue().(type) {
	case *cpexpb.GlobalContext_UserString:
		user = u.UserString
	case *cpexpb.GlobalContext_UserStruct:
		user = FromStruct(u.UserStruct)
	}
	orNil := func(s string) any {
		if s == "" {
			return nil
		}
		return s
	}
	return map[string]any{
		"state":    FromStruct(pc.GetState()),
		"metadata": FromStruct(pc.GetMetadata()),
		"global_context": map[string]any{
			"request_id": gc.GetRequestId(), "server_id": orNil(gc.GetServerId()), "tenant_id": orNil(gc.GetTenantId()),
			"user": user, "metadata": FromStruct(gc.GetMetadata()), "state": FromStruct(gc.GetState()),
		},
	}
}

// wireReply is invoke_hook's reply as a host answers it.
type wireReply struct {
	PluginName string         `json:"plugin_name"`
	Result     map[string]any `json:"result"`
	Context    *wireContext   `json:"context"`
	Error      *wireError     `json:"error"`
}

type wireError struct {
	Message      string         `json:"message"`
	PluginName   string         `json:"plugin_name"`
	Code         string         `json:"code"`
	Details      map[string]any `json:"details"`
	MCPErrorCode *json.Number   `json:"mcp_error_code"`
}

type wireContext struct {
	State         map[string]any `json:"state"`
	Metadata      map[string]any `json:"metadata"`
	GlobalContext *struct {
		RequestID *string        `json:"request_id"`
		ServerID  *string        `json:"server_id"`
		TenantID  *string        `json:"tenant_id"`
		User      any            `json:"user"`
		Metadata  map[string]any `json:"metadata"`
		State     map[string]any `json:"state"`
	} `json:"global_context"`
}

// ReplyToProto turns a host's invoke_hook reply into the InvokeHookResponse upstream's
// servicer sends: the error model as PluginError; else the result as a Struct with its
// denial_metadata moved, typed and sanitised, into result_base (populate_proto_result),
// and the context. A reply that cannot be read or encoded is an error answer naming why.
func ReplyToProto(plugin string, reply json.RawMessage) *cpexpb.InvokeHookResponse {
	fail := func(code, msg string) *cpexpb.InvokeHookResponse {
		return &cpexpb.InvokeHookResponse{PluginName: plugin, Error: &cpexpb.PluginError{
			Message: msg, PluginName: plugin, Code: code, McpErrorCode: MCPInternalError}}
	}
	var r wireReply
	if err := UnmarshalExact(reply, &r); err != nil {
		return fail(CodeInvalidResponse, fmt.Sprintf("plugin %s: the host's reply is not invoke_hook's reply: %v", plugin, err))
	}
	resp := &cpexpb.InvokeHookResponse{PluginName: plugin}
	if e := r.Error; e != nil {
		pe := &cpexpb.PluginError{Message: e.Message, PluginName: e.PluginName, Code: e.Code, McpErrorCode: MCPInternalError}
		if pe.Message == "" {
			pe.Message = "Unknown error"
		}
		if pe.PluginName == "" {
			pe.PluginName = plugin
		}
		if e.MCPErrorCode != nil {
			if n, err := e.MCPErrorCode.Int64(); err == nil && n >= -1<<31 && n < 1<<31 {
				pe.McpErrorCode = int32(n)
			}
		}
		if len(e.Details) > 0 {
			d, err := ToStruct(e.Details, "error.details")
			if err != nil {
				d, _ = ToStruct(map[string]any{"unencodable_details": err.Error()}, "error.details")
			}
			pe.Details = d
		}
		resp.Error = pe
		return resp
	}
	if r.Result == nil {
		return fail(CodeInvalidResponse, fmt.Sprintf("plugin %s: the host's reply has neither result nor error", plugin))
	}
	metrics, hasMetrics := r.Result["denial_metadata"]
	delete(r.Result, "denial_metadata")
	var err error
	if resp.Result, err = ToStruct(r.Result, "result"); err != nil {
		return fail(CodeEncode, fmt.Sprintf("plugin %s: %v", plugin, err))
	}
	if hasMetrics && metrics != nil {
		m, _ := metrics.(map[string]any)
		resp.ResultBase = &cpexpb.PluginResultBase{DenialMetadata: DenialToProto(m)}
	}
	if c := r.Context; c != nil {
		if resp.Context, err = contextToProto(c); err != nil {
			return fail(CodeEncode, fmt.Sprintf("plugin %s: %v", plugin, err))
		}
	}
	return resp
}

func contextToProto(c *wireContext) (*cpexpb.PluginContext, error) {
	out := &cpexpb.PluginContext{GlobalContext: &cpexpb.GlobalContext{}}
	var err error
	if out.State, err = ToStruct(c.State, "context.state"); err != nil {
		return nil, err
	}
	if out.Metadata, err = ToStruct(c.Metadata, "context.metadata"); err != nil {
		return nil, err
	}
	g := c.GlobalContext
	if g == nil {
		return out, nil
	}
	gc := out.GlobalContext
	gc.RequestId, gc.ServerId, gc.TenantId = deref(g.RequestID), deref(g.ServerID), deref(g.TenantID)
	switch u := g.User.(type) {
	case nil:
	case string:
		gc.UserValue = &cpexpb.GlobalContext_UserString{UserString: u}
	case map[string]any:
		s, err := ToStruct(u, "context.global_context.user")
		if err != nil {
			return nil, err
		}
		gc.UserValue = &cpexpb.GlobalContext_UserStruct{UserStruct: s}
	default:
		return nil, fmt.Errorf("context.global_context.user: want a string or an object, got %T", g.User)
	}
	if gc.Metadata, err = ToStruct(g.Metadata, "context.global_context.metadata"); err != nil {
		return nil, err
	}
	if gc.State, err = ToStruct(g.State, "context.global_context.state"); err != nil {
		return nil, err
	}
	return out, nil
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

// rawStruct is a JSON object as a Struct (numbers kept exact or refused, see ToStruct).
func rawStruct(raw json.RawMessage) (*structpb.Struct, error) {
	var m map[string]any
	if err := UnmarshalExact(raw, &m); err != nil {
		return nil, err
	}
	return ToStruct(m, "config")
}
