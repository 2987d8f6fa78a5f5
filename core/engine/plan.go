package engine

import (
	"sort"
	"sync/atomic"

	"github.com/cpex-go/cpex/core/config"
)

// Phase is one of the five execution phases, in the order they run.
type Phase int

// The phases (spec §11.1): sequential → transform → audit → concurrent → fire_and_forget.
const (
	PhaseSequential Phase = iota
	PhaseTransform
	PhaseAudit
	PhaseConcurrent
	PhaseFireAndForget
	numPhases
)

func phaseOf(m config.Mode) (Phase, bool) {
	switch m {
	case config.ModeSequential:
		return PhaseSequential, true
	case config.ModeTransform:
		return PhaseTransform, true
	case config.ModeAudit:
		return PhaseAudit, true
	case config.ModeConcurrent:
		return PhaseConcurrent, true
	case config.ModeFireAndForget:
		return PhaseFireAndForget, true
	}
	return 0, false
}

// Plan is the filter-independent part of a hook call: the refs in the caller's order,
// bucketed by phase and stably sorted by priority, with what the hook's policy means.
// Plans are immutable and cached per (hook, refs, policy, default policy); runtime
// disabling and conditions are applied per call, in Start.
type Plan struct {
	Hook string
	Type HookType
	// Refs in the caller's order: step indices ("i") refer to positions here.
	Refs []*Ref
	// Apply is what sequential and transform plugins' modifications go through.
	Apply Apply
	// Isolate: plugins must get a copy of the payload (a policy exists or the default
	// is deny), so in-place changes never reach the caller's payload.
	Isolate bool

	policy        *policy
	buckets       [numPhases][]int
	staticSkipped int  // refs whose mode is disabled (or unknown)
	conditional   bool // some ref has conditions
	hasGo         bool // some ref is a Go plugin
	uuidBytes     int  // the length of every ref's UUID together

	metrics atomic.Pointer[planMetrics] // its series, set on its first run under metrics
}

// NewPlan builds a plan. fields is the hook's HookPolicy (nil: none); deny is the
// default policy of the executor.
func NewPlan(hook string, refs []*Ref, fields []string, hasPolicy bool, deny bool) *Plan {
	ht, _ := LookupHookType(hook)
	p := &Plan{Hook: hook, Type: ht, Refs: refs}
	for _, r := range refs {
		p.uuidBytes += len(r.UUID)
	}
	if hasPolicy {
		p.policy = newPolicy(fields)
	}
	switch {
	case p.policy != nil:
		p.Apply, p.Isolate = ApplyPolicy, true
	case deny:
		p.Apply, p.Isolate = ApplyNone, true
	default:
		p.Apply = ApplyAny
	}
	for i, r := range refs {
		ph, ok := phaseOf(r.Mode)
		if !ok {
			p.staticSkipped++
			continue
		}
		p.buckets[ph] = append(p.buckets[ph], i)
		if len(r.Conditions) > 0 {
			p.conditional = true
		}
		if r.Plugin != nil {
			p.hasGo = true
		}
	}
	for ph := range p.buckets {
		b := p.buckets[ph]
		sort.SliceStable(b, func(x, y int) bool { return refs[b[x]].Priority < refs[b[y]].Priority })
	}
	return p
}

// Writable reports whether the hook's policy lets plugins change field (always true
// without a policy: the default policy decides then).
func (p *Plan) Writable(field string) bool {
	if p.policy == nil {
		return true
	}
	_, ok := p.policy.writable[field]
	return ok
}

// HasPolicy reports whether the hook has a HookPolicy.
func (p *Plan) HasPolicy() bool { return p.policy != nil }

// HasGo reports whether some plugin of the plan runs in Go.
func (p *Plan) HasGo() bool { return p.hasGo }

// Conditional reports whether some plugin of the plan has conditions (which read the
// call's facts: the user, server, tenant, content type and matched attribute).
func (p *Plan) Conditional() bool { return p.conditional }

// UUIDBytes is the length of the UUIDs of every ref together (a host sizes the buffer of
// its context table keys with it).
func (p *Plan) UUIDBytes() int { return p.uuidBytes }
