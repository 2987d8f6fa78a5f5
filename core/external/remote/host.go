package remote

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"google.golang.org/protobuf/types/known/structpb"

	"github.com/cpex-go/cpex/core"
	"github.com/cpex-go/cpex/proto/cpexpb"
)

// Host answers the plugin-service requests of the gRPC and Unix-socket servers: the
// plugins it offers and their calls. ManagerHost runs Go plugins in this process;
// QueueHost hands every call to a host draining a callq.Queue (the Python runtimes).
type Host interface {
	// PluginConfig answers GetPluginConfig: found is false for an unknown plugin.
	PluginConfig(name string) (*cpexpb.GetPluginConfigResponse, error)
	// PluginConfigs answers GetPluginConfigs: every served plugin's config, in order.
	PluginConfigs() (*cpexpb.GetPluginConfigsResponse, error)
	// Invoke answers InvokeHook. Every failure is an answer with error set (as
	// upstream's servers do), never a transport error. ctx ends when the client goes.
	Invoke(ctx context.Context, req *cpexpb.InvokeHookRequest) *cpexpb.InvokeHookResponse
}

// ManagerHost is the Host of a core Manager's plugins (Go built-ins). The executor
// rules of a single-plugin call (timeout, on_error, the mode's conversion) are the
// Manager's own; the host only converts between the wire and the core.
type ManagerHost struct {
	M *core.Manager
}

// PluginConfig implements Host.
func (h *ManagerHost) PluginConfig(name string) (*cpexpb.GetPluginConfigResponse, error) {
	cfg := h.M.Config()
	if cfg == nil {
		return &cpexpb.GetPluginConfigResponse{}, nil
	}
	pc, ok := cfg.Plugin(name)
	if !ok {
		return &cpexpb.GetPluginConfigResponse{}, nil
	}
	s, err := configStruct(pc)
	if err != nil {
		return nil, fmt.Errorf("plugin %s: encoding its config: %w", name, err)
	}
	return &cpexpb.GetPluginConfigResponse{Found: true, Config: s}, nil
}

// PluginConfigs implements Host: every loaded plugin's config, in order.
func (h *ManagerHost) PluginConfigs() (*cpexpb.GetPluginConfigsResponse, error) {
	out := &cpexpb.GetPluginConfigsResponse{}
	cfg := h.M.Config()
	if cfg == nil {
		return out, nil
	}
	for _, name := range h.M.PluginNames() {
		pc, ok := cfg.Plugin(name)
		if !ok {
			continue
		}
		s, err := configStruct(pc)
		if err != nil {
			return nil, fmt.Errorf("plugin %s: encoding its config: %w", name, err)
		}
		out.Configs = append(out.Configs, s)
	}
	return out, nil
}

func configStruct(pc any) (*structpb.Struct, error) {
	b, err := json.Marshal(pc)
	if err != nil {
		return nil, err
	}
	var m map[string]any
	if err := UnmarshalExact(b, &m); err != nil {
		return nil, err
	}
	return ToStruct(m, "config")
}

// Invoke implements Host.
func (h *ManagerHost) Invoke(ctx context.Context, req *cpexpb.InvokeHookRequest) *cpexpb.InvokeHookResponse {
	name := req.GetPluginName()
	resp := &cpexpb.InvokeHookResponse{PluginName: name}
	pctx := ContextFromProto(req.GetContext())
	payload := core.NewPayloadValue(FromStruct(req.GetPayload()))
	res, err := h.M.InvokePlugin(ctx, name, req.GetHookType(), payload, pctx)
	if err != nil {
		resp.Error = errorToProto(name, err)
		return resp
	}
	var rerr error
	if resp.Result, resp.ResultBase, rerr = ResultToProto(name, res); rerr == nil {
		resp.Context, rerr = ContextToProto(pctx, FromStruct(req.GetContext().GetMetadata()))
	}
	if rerr != nil {
		return &cpexpb.InvokeHookResponse{PluginName: name, Error: errorToProto(name, Err(name, CodeEncode, rerr.Error(), rerr))}
	}
	return resp
}

func errorToProto(plugin string, err error) *cpexpb.PluginError {
	out := &cpexpb.PluginError{Message: err.Error(), PluginName: plugin, Code: CodeInternal, McpErrorCode: MCPInternalError}
	var pe *core.PluginError
	if errors.As(err, &pe) {
		out.Code = pe.Code
		if pe.PluginName != "" {
			out.PluginName = pe.PluginName
		}
		if len(pe.Details) > 0 {
			if d, derr := ToStruct(pe.Details, "error.details"); derr == nil {
				out.Details = d
			}
		}
	}
	return out
}
