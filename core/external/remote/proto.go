package remote

import (
	"encoding/json"
	"fmt"

	"google.golang.org/protobuf/types/known/structpb"

	"github.com/cpex-go/cpex/core"
	"github.com/cpex-go/cpex/proto/cpexpb"
)

// Error codes of the errors the protobuf transports make themselves.
const (
	CodeInvalidResponse = "INVALID_RESPONSE"
	CodeEncode          = "ENCODE_ERROR"
	// CodeUnknownMessage is upstream's Unix-socket answer to a request it cannot place.
	CodeUnknownMessage = "UNKNOWN_MESSAGE"
	CodeInternal       = "INTERNAL_ERROR"
	// MCPInternalError is the JSON-RPC code upstream's servers put on a hook's error.
	MCPInternalError = -32603
)

// Err makes the *core.PluginError of plugin with code, message and cause.
func Err(plugin, code, msg string, cause error) *core.PluginError {
	return &core.PluginError{PluginName: plugin, Code: code, Message: msg, Err: cause}
}

// InvokeRequest builds the InvokeHookRequest of one call. The payload's top-level
// fields are sent as they are (nulls included, as upstream's model_dump()).
func InvokeRequest(hook, plugin string, payload *core.Payload, pctx *core.PluginContext) (*cpexpb.InvokeHookRequest, error) {
	var m map[string]any
	if payload != nil {
		// From the JSON text when there is one: the core's tree has float64 numbers,
		// which would hide an integer beyond 2^53 instead of refusing it.
		var v any
		var err error
		if raw, ok := payload.EncodedJSON(); ok {
			err = UnmarshalExact(raw, &v)
		} else {
			v, err = payload.Value()
		}
		if err != nil {
			return nil, fmt.Errorf("payload: %w", err)
		}
		var ok bool
		if m, ok = v.(map[string]any); !ok {
			return nil, fmt.Errorf("payload: want a JSON object, got %T", v)
		}
	}
	ps, err := ToStruct(m, "payload")
	if err != nil {
		return nil, err
	}
	pc, err := ContextToProto(pctx, nil)
	if err != nil {
		return nil, err
	}
	return &cpexpb.InvokeHookRequest{HookType: hook, PluginName: plugin, Payload: ps, Context: pc}, nil
}

// ContextToProto is the wire form of a Go PluginContext. A Go context has no
// plugin-local metadata (its Metadata is the request's), so local goes out as given.
func ContextToProto(pctx *core.PluginContext, local map[string]any) (*cpexpb.PluginContext, error) {
	if pctx == nil {
		pctx = &core.PluginContext{}
	}
	gc := &cpexpb.GlobalContext{RequestId: pctx.RequestID, ServerId: pctx.ServerID, TenantId: pctx.TenantID}
	switch u := pctx.User.(type) {
	case nil:
	case string:
		gc.UserValue = &cpexpb.GlobalContext_UserString{UserString: u}
	default:
		v, err := ToValue(u, "context.global_context.user")
		if err != nil {
			return nil, err
		}
		s := v.GetStructValue()
		if s == nil {
			return nil, fmt.Errorf("context.global_context.user: want a string or an object, got %T", pctx.User)
		}
		gc.UserValue = &cpexpb.GlobalContext_UserStruct{UserStruct: s}
	}
	var err error
	if gc.Metadata, err = ToStruct(pctx.Metadata, "context.global_context.metadata"); err != nil {
		return nil, err
	}
	if gc.State, err = ToStruct(pctx.GlobalState, "context.global_context.state"); err != nil {
		return nil, err
	}
	out := &cpexpb.PluginContext{GlobalContext: gc}
	if out.State, err = ToStruct(pctx.State, "context.state"); err != nil {
		return nil, err
	}
	if out.Metadata, err = ToStruct(local, "context.metadata"); err != nil {
		return nil, err
	}
	return out, nil
}

// ContextFromProto is the Go PluginContext of a request's context.
func ContextFromProto(pc *cpexpb.PluginContext) *core.PluginContext {
	gc := pc.GetGlobalContext()
	out := &core.PluginContext{
		RequestID: gc.GetRequestId(), ServerID: gc.GetServerId(), TenantID: gc.GetTenantId(),
		State: FromStruct(pc.GetState()), GlobalState: FromStruct(gc.GetState()), Metadata: FromStruct(gc.GetMetadata()),
	}
	switch u := gc.GetUserValue().(type) {
	case *cpexpb.GlobalContext_UserString:
		out.User = u.UserString
	case *cpexpb.GlobalContext_UserStruct:
		out.User = FromStruct(u.UserStruct)
	}
	return out
}

// ApplyResponse reads an InvokeHookResponse for plugin as upstream's clients do: an
// error with a message wins; a context copies the plugin state and a non-empty global
// state back into pctx; then the result is decoded, with result_base's denial metrics
// (sanitised again). Nothing else is a valid answer.
func ApplyResponse(plugin string, resp *cpexpb.InvokeHookResponse, pctx *core.PluginContext) (*core.Result, error) {
	if e := resp.GetError(); e != nil && e.GetMessage() != "" {
		pe := &core.PluginError{PluginName: plugin, Message: e.GetMessage(), Code: e.GetCode()}
		if e.GetPluginName() != "" {
			pe.PluginName = e.GetPluginName()
		}
		if e.GetDetails() != nil {
			pe.Details = FromStruct(e.GetDetails())
		}
		return nil, pe
	}
	if c := resp.GetContext(); c != nil && pctx != nil {
		pctx.State = FromStruct(c.GetState())
		if gs := c.GetGlobalContext().GetState(); len(gs.GetFields()) > 0 {
			pctx.GlobalState = FromStruct(gs)
		}
	}
	if resp.GetResult() == nil {
		return nil, Err(plugin, CodeInvalidResponse, fmt.Sprintf("external plugin %s: Received invalid response: no result or error in the answer", plugin), nil)
	}
	raw, err := json.Marshal(FromStruct(resp.GetResult()))
	if err == nil {
		var res *core.Result
		if res, err = DecodeResult(raw); err == nil {
			// upstream 0.1.4 sends the denial metrics typed, beside the Struct
			if d := resp.GetResultBase().GetDenialMetadata(); d != nil {
				res.DenialMetadata = DenialFromProto(d)
			}
			return res, nil
		}
	}
	return nil, Err(plugin, CodeInvalidResponse, fmt.Sprintf("external plugin %s: invalid result in the server's answer: %v", plugin, err), err)
}

// ResultToProto is the result part of an InvokeHookResponse: the PluginResult as a
// Struct plus its common fields in result_base.
func ResultToProto(plugin string, res *core.Result) (*structpb.Struct, *cpexpb.PluginResultBase, error) {
	if res == nil {
		res = &core.Result{}
	}
	m := map[string]any{
		"continue_processing": !res.Block,
		"modified_payload":    res.ModifiedPayload,
		"violation":           nil,
		"metadata":            orEmpty(res.Metadata),
	}
	if res.RetryDelayMs > 0 {
		m["retry_delay_ms"] = res.RetryDelayMs
	}
	base := &cpexpb.PluginResultBase{ContinueProcessing: !res.Block}
	if v := res.Violation; v != nil {
		name := v.PluginName
		if name == "" {
			name = plugin
		}
		vm := map[string]any{"reason": v.Reason, "description": v.Description, "code": v.Code,
			"details": orEmpty(v.Details), "plugin_name": name, "mcp_error_code": v.MCPErrorCode,
			"http_status_code": v.HTTPStatusCode, "http_headers": v.HTTPHeaders}
		m["violation"] = vm
		det, err := ToStruct(v.Details, "result.violation.details")
		if err != nil {
			return nil, nil, err
		}
		base.Violation = &cpexpb.PluginViolation{Reason: v.Reason, Description: v.Description, Code: v.Code, PluginName: name, Details: det}
		if v.MCPErrorCode != nil {
			base.Violation.McpErrorCode = int32(*v.MCPErrorCode) //nolint:gosec // JSON-RPC codes are int32
		}
	}
	if res.DenialMetadata != nil { // typed beside the Struct, as upstream's populate_proto_result
		base.DenialMetadata = DenialToProto(res.DenialMetadata)
	}
	s, err := ToStruct(m, "result")
	if err != nil {
		return nil, nil, err
	}
	if base.Metadata, err = ToStruct(res.Metadata, "result.metadata"); err != nil {
		return nil, nil, err
	}
	return s, base, nil
}

func orEmpty(m map[string]any) map[string]any {
	if m == nil {
		return map[string]any{}
	}
	return m
}
