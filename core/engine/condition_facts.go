package engine

import (
	"encoding/json"
	"fmt"

	"github.com/cpex-go/cpex/core/config"
	"github.com/cpex-go/cpex/core/plugin"
)

// conditionFacts fills the parts of f that conditions read (spec §12): the
// GlobalContext fields and the payload's matchable value for hook type t.
func conditionFacts(f *Facts, g *plugin.GlobalContext, t *HookType, original *plugin.Payload) {
	if g.ServerID != "" {
		f.ServerID = &g.ServerID
	}
	if g.TenantID != "" {
		f.TenantID = &g.TenantID
	}
	if g.ContentType != "" {
		f.ContentType = &g.ContentType
	}
	setUserFacts(f, g.User)
	if attr := t.MatchAttr; attr != "" && original != nil {
		if v := original.Field(attr); truthy(v) {
			if s, ok := v.(string); ok {
				f.Match = s
			} else {
				f.Match = fmt.Sprint(v)
			}
			f.HasMatch = true
		}
	}
}

// setUserFacts reads a user the way upstream's `pattern in user` does (quirk §30.23):
// a string by substring, a dict by key, a list by element; only string keys and
// elements can equal a pattern, so others are left out. A falsy user matches no
// pattern. A truthy user with no members (a number, true) is opaque: upstream raises
// TypeError there; core selects the plugin instead, because a guard whose condition
// cannot be evaluated must not be skipped (tests/cases/conditions/matching.yaml).
func setUserFacts(f *Facts, u any) {
	members := func(keys []string) {
		f.UserKeys, f.UserIsKeys, f.UserSet = keys, true, true
	}
	switch u := u.(type) {
	case nil:
	case string:
		f.User, f.UserSet = u, true
	case map[string]any:
		keys := make([]string, 0, len(u))
		for k := range u {
			keys = append(keys, k)
		}
		members(keys)
	case map[any]any:
		members(stringsOf(func(yield func(any) bool) {
			for k := range u {
				if !yield(k) {
					return
				}
			}
		}))
	case []any:
		members(stringsOf(func(yield func(any) bool) {
			for _, x := range u {
				if !yield(x) {
					return
				}
			}
		}))
	case []string:
		members(append([]string(nil), u...))
	default:
		if truthy(u) && !isZeroNumber(u) {
			f.UserOpaque, f.UserSet = true, true
		}
	}
}

func stringsOf(seq func(func(any) bool)) []string {
	out := []string{}
	seq(func(x any) bool {
		if s, ok := x.(string); ok {
			out = append(out, s)
		}
		return true
	})
	return out
}

func isZeroNumber(v any) bool {
	switch n := v.(type) {
	case int:
		return n == 0
	case int64:
		return n == 0
	case float64:
		return n == 0
	case json.Number:
		f, err := n.Float64()
		return err == nil && f == 0
	}
	return false
}

// MatchConditions is core's condition rule (spec §12) for one hook call: whether a
// plugin with conds runs for payload and g under hook. An empty list always matches.
// The shared table tests/cases/conditions/matching.yaml holds it equal to
// cpex.framework.utils.payload_matches, which the gateway calls from Python.
func MatchConditions(conds []config.PluginCondition, hook string, payload *plugin.Payload, g *plugin.GlobalContext) bool {
	if len(conds) == 0 {
		return true
	}
	t, _ := LookupHookType(hook)
	var f Facts
	if g == nil {
		g = &plugin.GlobalContext{}
	}
	conditionFacts(&f, g, &t, payload)
	return payloadMatches(conds, &t, &f)
}

// PayloadFacts fills the facts of a Go host's call that come from its payload and
// global context: the size guard, and what conditions read when some plugin of the
// plan has conditions (no payload decode otherwise).
func (p *Plan) PayloadFacts(f *Facts, g *plugin.GlobalContext, original *plugin.Payload) {
	f.SizeAttr, f.Size = sizeFacts(original)
	if p.conditional {
		conditionFacts(f, g, &p.Type, original)
	}
}
