package pybind

import (
	"strconv"

	"github.com/cpex-go/cpex/core"
)

// ProtocolVersion numbers the wire between the Python driver and this extension
// (docs/protocol.md). The Python side checks it when it loads the extension and refuses
// to run against another version: a mismatch would misread steps, not fail loudly.
// Bump it with any change of a function's signature or of a document's fields.
const ProtocolVersion = 6

// Protocol answers the protocol version and the constants of the core the driver
// applies without deciding them: {"version", "decision_key", "plan_cache"}.
func Protocol() (string, error) {
	var w jw
	w.Raw(`{"version":`)
	w.Raw(strconv.Itoa(ProtocolVersion))
	w.Raw(`,"decision_key":`)
	w.Str(core.DecisionPluginKey)
	w.Raw(`,"plan_cache":`)
	w.Int(core.MaxCachedPlans)
	w.Raw("}")
	return string(w.B), nil
}
