package unixsock

import (
	"google.golang.org/protobuf/proto"

	"github.com/cpex-go/cpex/proto/cpexpb"
)

// Kind is what a request without a type tag is taken for.
type Kind int

// The request kinds, in the order upstream's server tries them.
const (
	KindUnknown Kind = iota
	KindInvokeHook
	KindGetPluginConfig
	KindGetPluginConfigs
)

// Classify places an untagged request as upstream's server does: an InvokeHookRequest
// if it parses as one with hook_type and plugin_name set; else a GetPluginConfigRequest
// if it parses as one with a name; else GetPluginConfigs if it is at most 2 bytes; else
// unknown (answered with UNKNOWN_MESSAGE). The parsed request is returned.
func Classify(data []byte) (Kind, proto.Message) {
	ih := &cpexpb.InvokeHookRequest{}
	if proto.Unmarshal(data, ih) == nil && ih.GetHookType() != "" && ih.GetPluginName() != "" {
		return KindInvokeHook, ih
	}
	gc := &cpexpb.GetPluginConfigRequest{}
	if proto.Unmarshal(data, gc) == nil && gc.GetName() != "" {
		return KindGetPluginConfig, gc
	}
	all := &cpexpb.GetPluginConfigsRequest{}
	if proto.Unmarshal(data, all) == nil && len(data) <= 2 {
		return KindGetPluginConfigs, all
	}
	return KindUnknown, nil
}
