package pybind

import (
	"encoding/json"
	"fmt"

	"github.com/cpex-go/cpex/core"
)

// HookTypeRegister makes a hook type registered in Python (HookRegistry.register_hook)
// known to core. The one fact Python sends is whether the hook's result carries another
// payload type than its payload (PluginResult[X] with X not the payload class): core then
// accepts a Go plugin's modification of that hook whole, past a policy, as it does for
// the http hooks (quirk §30.27). A hook core already describes keeps its condition match
// and decision flag. Plans built before the call keep the old description.
func HookTypeRegister(name string, otherResultType bool) (_ int, err error) {
	defer guard("HookTypeRegister", &err)
	if name == "" {
		return 0, fmt.Errorf("HookTypeRegister: name: empty hook name")
	}
	h, _ := core.LookupHookType(name)
	h.OtherResultType = otherResultType
	if err := core.RegisterHookType(h); err != nil {
		return 0, fmt.Errorf("HookTypeRegister: %w", err)
	}
	return 1, nil
}

// HookTypeInfo answers core's description of a hook type as JSON: {"name", "registered",
// "match_set", "match_attr", "decision", "other_result_type"} (introspection for tests
// and diagnostics; an unregistered hook answers registered=false).
func HookTypeInfo(name string) (_ string, err error) {
	defer guard("HookTypeInfo", &err)
	h, ok := core.LookupHookType(name)
	b, err := json.Marshal(map[string]any{
		"name": h.Name, "registered": ok, "match_set": h.MatchSet, "match_attr": h.MatchAttr,
		"decision": h.Decision, "other_result_type": h.OtherResultType,
	})
	return string(b), err
}
