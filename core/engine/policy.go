package engine

import (
	"fmt"
	"sort"
	"strings"
)

// DefaultPolicy says what happens to payload modifications of a hook that has no
// HookPolicy (upstream DefaultHookPolicy).
type DefaultPolicy string

// The two default policies.
const (
	PolicyAllow DefaultPolicy = "allow"
	PolicyDeny  DefaultPolicy = "deny"
)

// ParseDefaultPolicy accepts "allow" or "deny".
func ParseDefaultPolicy(s string) (DefaultPolicy, error) {
	switch DefaultPolicy(s) {
	case PolicyAllow, PolicyDeny:
		return DefaultPolicy(s), nil
	}
	return "", fmt.Errorf("default policy %q: want allow or deny", s)
}

// HookPolicy names the top-level payload fields a plugin may change for one hook
// (upstream HookPayloadPolicy). Field names are top-level only.
type HookPolicy struct {
	WritableFields []string
}

// policy is the normalised form the executor uses.
type policy struct {
	writable map[string]struct{}
	key      string // sorted fields joined by \x00: plan cache key
}

func newPolicy(fields []string) *policy {
	p := &policy{writable: make(map[string]struct{}, len(fields))}
	for _, f := range fields {
		p.writable[f] = struct{}{}
	}
	names := make([]string, 0, len(p.writable))
	for f := range p.writable {
		names = append(names, f)
	}
	sort.Strings(names)
	p.key = "\x01" + strings.Join(names, "\x00")
	return p
}

// Apply says how a foreign driver turns a returned modified payload into a candidate
// (docs/protocol.md, call step "apply").
type Apply uint8

// The three ways.
const (
	// ApplyAny: the returned object as is (no policy, default allow).
	ApplyAny Apply = iota
	// ApplyPolicy: diff against the input and keep the writable fields.
	ApplyPolicy
	// ApplyNone: no candidate (default deny without a policy, audit, concurrent).
	ApplyNone
)

func (a Apply) String() string {
	switch a {
	case ApplyPolicy:
		return "policy"
	case ApplyNone:
		return "none"
	}
	return "any"
}
