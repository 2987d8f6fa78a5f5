package pybind

import (
	"fmt"

	"github.com/cpex-go/cpex/core"
)

// PolicyDecide answers core.PolicyDecision for the public apply_policy: changed and
// writable are JSON arrays of top-level field names; the answer is
// {"accept": [...], "warning": text or null} (docs/protocol.md, "PolicyDecide").
func PolicyDecide(changed string, writable string) (_ string, err error) {
	defer guard("PolicyDecide", &err)
	ch, err := stringsOf([]byte(changed))
	if err != nil {
		return "", fmt.Errorf("PolicyDecide: changed: want an array of field names: %v", err)
	}
	wr, err := stringsOf([]byte(writable))
	if err != nil {
		return "", fmt.Errorf("PolicyDecide: writable: want an array of field names: %v", err)
	}
	v := core.PolicyDecision("", ch, core.WritableIn(wr))
	var w jw
	w.Raw(`{"accept":`)
	w.Strs(v.Accepted)
	w.Raw(`,"warning":`)
	if v.Warning != "" {
		w.Str(v.Warning)
	} else {
		w.Raw("null")
	}
	w.Raw("}")
	return string(w.B), nil
}
