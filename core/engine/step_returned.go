package engine

import (
	"sort"
	"strings"
)

// What a plugin handed back as its modified payload, and what the executor makes of it
// (spec §15, §15.1). A foreign driver (Python) reports facts only: the kind of object
// returned, whether it is the very object already current, and, when the core asks for
// them (call step "diff"), the top-level fields that differ from the plugin's input.
// Everything else (take it whole, keep some fields, drop it, the warning text) is
// decided here, once, for every host: the Python driver, the public apply_policy and
// the Go host's candidateOf all go through PolicyDecision.

// ReturnedKind classifies a returned modified payload against the plugin's input.
type ReturnedKind uint8

// The kinds a driver reports (docs/protocol.md, outcome "ret").
const (
	// ReturnedNone: no modified payload.
	ReturnedNone ReturnedKind = iota
	// ReturnedSameType: an instance of the input's own model type.
	ReturnedSameType
	// ReturnedOtherPayload: another payload model type, or a dict (cross-type hooks).
	ReturnedOtherPayload
	// ReturnedForeign: anything else.
	ReturnedForeign

	returnedLast = ReturnedForeign
)

var returnedNames = [...]string{"none", "same", "payload", "foreign"}

func (k ReturnedKind) String() string {
	if int(k) < len(returnedNames) {
		return returnedNames[k]
	}
	return "?"
}

// ParseReturnedKind reads the wire name of a ReturnedKind.
func ParseReturnedKind(s string) (ReturnedKind, bool) {
	for k, n := range returnedNames {
		if n == s {
			return ReturnedKind(k), true
		}
	}
	return 0, false
}

// Returned are the facts of a returned modified payload.
type Returned struct {
	Kind ReturnedKind
	// IsCurrent: the object is the run's current payload itself (committing it changes
	// nothing). False when nothing is current yet: handing back the original is a change.
	IsCurrent bool
	// Changed: the top-level fields that differ from the input (ReturnedSameType under
	// a policy only; the driver computes them when the call step asks with "diff").
	Changed []string
}

// PolicyVerdict is what a hook payload policy makes of a set of changed fields.
type PolicyVerdict struct {
	// Accepted: the changed writable fields, sorted; empty means nothing is applied.
	Accepted []string
	// Warning: the one log line for changed fields the policy drops ("" when none).
	Warning string
}

// PolicyDecision splits changed top-level fields into the accepted (writable) and the
// dropped ones, and writes the warning for the latter. hook names the hook in the
// warning ("" when unknown: the public apply_policy). The only implementation of the
// policy rule (spec §15): every caller goes through it.
func PolicyDecision(hook string, changed []string, writable func(string) bool) PolicyVerdict {
	var v PolicyVerdict
	var rejected []string
	for _, f := range changed {
		if writable(f) {
			v.Accepted = append(v.Accepted, f)
		} else {
			rejected = append(rejected, f)
		}
	}
	sort.Strings(v.Accepted)
	if len(rejected) > 0 {
		v.Warning = policyWarning(hook, rejected)
	}
	return v
}

// PolicyLogger is the Python logger upstream's policy warning comes from: hosts that name
// loggers (the Python driver) emit PolicyDecision's warning there (LogEntry.Logger).
const PolicyLogger = "cpex.framework.hooks.policies"

// policyWarning is upstream's text (cpex 0.1.x apply_policy): the dropped fields as a
// Python list, in the order the fields were reported (declaration order).
func policyWarning(_ string, rejected []string) string {
	var b strings.Builder
	b.WriteString("Policy rejected modifications to non-writable fields: [")
	for i, f := range rejected {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(pyStrRepr(f))
	}
	b.WriteString("]")
	return b.String()
}

// pyStrRepr is Python's repr() of a field name (an identifier: no escapes are needed
// beyond the choice of quote, which follows Python's rule).
func pyStrRepr(s string) string {
	if strings.ContainsRune(s, '\'') && !strings.ContainsRune(s, '"') {
		return `"` + s + `"`
	}
	return "'" + strings.ReplaceAll(s, "'", `\'`) + "'"
}

// WritableIn is the writable test of a policy given as a field list (apply_policy).
func WritableIn(fields []string) func(string) bool {
	set := make(map[string]struct{}, len(fields))
	for _, f := range fields {
		set[f] = struct{}{}
	}
	return func(f string) bool { _, ok := set[f]; return ok }
}

// classifyReturned decides what a reported returned payload becomes under apply (spec
// §15.1): its Mod class, the accepted fields when the candidate is the input with some
// fields replaced (nil: the returned object whole), and the policy warning.
func classifyReturned(p *Plan, apply Apply, ret *Returned) (Mod, []string, string) {
	if ret.Kind == ReturnedNone {
		return ModNone, nil, ""
	}
	whole := func(m Mod) (Mod, []string, string) {
		if ret.IsCurrent {
			return ModSame, nil, ""
		}
		return m, nil, ""
	}
	switch apply {
	case ApplyAny:
		return whole(ModCandidate)
	case ApplyPolicy:
		switch ret.Kind {
		case ReturnedSameType:
			v := PolicyDecision(p.Hook, ret.Changed, p.Writable)
			if len(v.Accepted) == 0 {
				return ModRejected, nil, v.Warning
			}
			return ModCandidate, v.Accepted, v.Warning
		case ReturnedOtherPayload:
			return whole(ModOtherType)
		}
	}
	return ModIgnored, nil, ""
}
