package engine

import (
	"strings"

	"github.com/cpex-go/cpex/core/config"
)

// Facts are what conditions and the size guard need to know about one hook call: the
// parts of the GlobalContext and of the payload that upstream's matching reads
// (spec §12). Foreign drivers send them as JSON; the Go driver builds them.
type Facts struct {
	RequestID string
	ServerID  *string
	TenantID  *string
	// ContentType is the raw content type (normalised when compared).
	ContentType *string
	// User: a string user (UserIsKeys false) or the string keys of a dict user, the
	// string elements of a list user (UserKeys).
	User       string
	UserKeys   []string
	UserIsKeys bool
	UserSet    bool
	// UserOpaque: a truthy user with no members to test (a number, true); every
	// user_patterns condition selects the plugin (setUserFacts says why).
	UserOpaque bool
	// UserValues: the values of a dict user (string, json.Number, bool, nil, or a list
	// or map of them, decoded exactly) by
	// key, when a foreign driver sent them; Go plugins of a foreign run see them in
	// PluginContext.User. Conditions never read them (they match the keys, §12).
	UserValues map[string]any
	// Match is the payload's matchable attribute value (HookType.MatchAttr) when truthy.
	Match    string
	HasMatch bool
	// SizeAttr/Size: the size-guard probe that applied ("args" or "result").
	SizeAttr string
	Size     int
	// Pool bounds the concurrent and fire-and-forget phases of this call (0 = unbounded).
	Pool int
	// ViolationsAsErrors turns a block into a ViolationError.
	ViolationsAsErrors bool
	// Trace asks for span boundaries in the steps.
	Trace bool
	// Hook is how messages name the hook: required for a single-plugin run (RunSingle),
	// optional for a run of a plan (default: the plan's hook type).
	Hook string
}

// userTruthy mirrors Python truthiness of GlobalContext.user.
func (f *Facts) userTruthy() bool {
	if !f.UserSet {
		return false
	}
	if f.UserOpaque {
		return true
	}
	if f.UserIsKeys {
		return len(f.UserKeys) > 0
	}
	return f.User != ""
}

// conditionMatches is upstream matches(): the GlobalContext part of one condition.
func conditionMatches(c *config.PluginCondition, f *Facts) bool {
	if len(c.ServerIDs) > 0 && (f.ServerID == nil || !inList(c.ServerIDs, *f.ServerID)) {
		return false
	}
	if len(c.TenantIDs) > 0 && (f.TenantID == nil || !inList(c.TenantIDs, *f.TenantID)) {
		return false
	}
	if len(c.ContentTypes) > 0 {
		if f.ContentType == nil || strings.TrimSpace(*f.ContentType) == "" {
			return false
		}
		if !inList(c.ContentTypes, config.NormalizeContentType(*f.ContentType)) {
			return false
		}
	}
	if len(c.UserPatterns) > 0 {
		if !f.userTruthy() {
			return false
		}
		if !userMatches(c.UserPatterns, f) {
			return false
		}
	}
	return true
}

// userMatches: a pattern is a substring of a string user, or a key of a dict user
// (quirk §30.23: neither a regex nor a glob).
func userMatches(patterns []string, f *Facts) bool {
	if f.UserOpaque {
		return true
	}
	for _, p := range patterns {
		if f.UserIsKeys {
			if inList(f.UserKeys, p) {
				return true
			}
		} else if strings.Contains(f.User, p) {
			return true
		}
	}
	return false
}

// payloadMatches is upstream payload_matches(): OR over the conditions; a payload set
// excludes only when the payload value is truthy and not in it.
func payloadMatches(conds []config.PluginCondition, h *HookType, f *Facts) bool {
	for i := range conds {
		c := &conds[i]
		if !conditionMatches(c, f) {
			continue
		}
		if set := matchSet(c, h.MatchSet); len(set) > 0 && f.HasMatch && !inList(set, f.Match) {
			continue
		}
		return true
	}
	return false
}

func matchSet(c *config.PluginCondition, name string) []string {
	switch name {
	case MatchTools:
		return c.Tools
	case MatchPrompts:
		return c.Prompts
	case MatchResources:
		return c.Resources
	case MatchAgents:
		return c.Agents
	}
	return nil
}

func inList(list []string, v string) bool {
	for _, x := range list {
		if x == v {
			return true
		}
	}
	return false
}
