package engine

import (
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/cpex-go/cpex/core/metrics/series"
	"github.com/cpex-go/cpex/core/plugin"
)

// Executor holds what upstream's PluginExecutor holds across calls: the timeout, the
// default hook policy, the runtime-disabled set and a plan cache. It is safe for
// concurrent use; runs started from it keep the options they started with.
type Executor struct {
	opts     atomic.Pointer[execOptions]
	disabled atomic.Pointer[map[string]struct{}] // copy on write; nil = empty
	disMu    sync.Mutex

	plansMu sync.RWMutex
	plans   map[planKey]*Plan
	flushes atomic.Uint64 // times plans overflowed and was emptied (PlanFlushes)

	metrics atomic.Pointer[series.Registry] // where runs count (metrics.go); nil: off
}

type execOptions struct {
	timeout     float64 // seconds
	timeoutText string  // as Python prints it
	deny        bool
}

type planKey struct {
	hook   string
	refs   string
	policy string
	deny   bool
}

// MaxCachedPlans bounds every plan cache of an executor: the core's, and the tables a
// foreign host keeps of the plans it was handed (pybind's handles, the Python driver's
// dict), which follow the core's flushes (docs/protocol.md, PlanGet "flush"). Callers
// that build refs per request would otherwise grow them forever. The one eviction rule:
// overflow empties the cache (plans are cheap to rebuild).
const MaxCachedPlans = 4096

// NewExecutor returns an executor with timeout seconds (DefaultTimeout when ≤ 0) and
// the given default policy.
func NewExecutor(timeoutSecs float64, def DefaultPolicy) *Executor {
	e := &Executor{plans: map[planKey]*Plan{}}
	if timeoutSecs <= 0 {
		timeoutSecs = plugin.DefaultTimeout
	}
	e.opts.Store(&execOptions{
		timeout: timeoutSecs, timeoutText: formatSeconds(timeoutSecs, true), deny: def == PolicyDeny,
	})
	return e
}

// SetTimeout changes the timeout of later runs. text is how the number should read in
// timeout messages ("30", "0.5"); empty derives it from secs.
func (e *Executor) SetTimeout(secs float64, text string) {
	if text == "" {
		text = formatSeconds(secs, true)
	}
	for {
		old := e.opts.Load()
		n := *old
		n.timeout, n.timeoutText = secs, text
		if e.opts.CompareAndSwap(old, &n) {
			return
		}
	}
}

// SetDefaultPolicy changes the default policy of later plans.
func (e *Executor) SetDefaultPolicy(def DefaultPolicy) {
	for {
		old := e.opts.Load()
		n := *old
		n.deny = def == PolicyDeny
		if e.opts.CompareAndSwap(old, &n) {
			return
		}
	}
}

// Timeout returns the timeout in seconds and its text form.
func (e *Executor) Timeout() (float64, string) {
	o := e.opts.Load()
	return o.timeout, o.timeoutText
}

// DefaultPolicy returns the default policy.
func (e *Executor) DefaultPolicy() DefaultPolicy {
	if e.opts.Load().deny {
		return PolicyDeny
	}
	return PolicyAllow
}

// Plan returns the cached plan for (hook, refs, policy) under the current default
// policy, building it on first use. fields/hasPolicy: the hook's HookPolicy.
func (e *Executor) Plan(hook string, refs []*Ref, fields []string, hasPolicy bool) *Plan {
	deny := e.opts.Load().deny
	key := planKey{hook: hook, refs: refsKey(refs), deny: deny}
	if hasPolicy {
		key.policy = newPolicy(fields).key
	}
	e.plansMu.RLock()
	p := e.plans[key]
	e.plansMu.RUnlock()
	if p != nil {
		return p
	}
	p = NewPlan(hook, refs, fields, hasPolicy, deny)
	e.plansMu.Lock()
	if len(e.plans) >= MaxCachedPlans {
		e.plans = map[planKey]*Plan{}
		e.flushes.Add(1)
	}
	e.plans[key] = p
	e.plansMu.Unlock()
	return p
}

// PlanFlushes counts how many times the plan cache overflowed and was emptied: a host
// that mirrors the cache empties its own when the count moves.
func (e *Executor) PlanFlushes() uint64 { return e.flushes.Load() }

// ForgetPlans drops every cached plan that uses ref (its registration was released).
func (e *Executor) ForgetPlans(ref *Ref) {
	e.plansMu.Lock()
	defer e.plansMu.Unlock()
	for k, p := range e.plans {
		for _, r := range p.Refs {
			if r == ref {
				delete(e.plans, k)
				break
			}
		}
	}
}

func refsKey(refs []*Ref) string {
	var b strings.Builder
	for i, r := range refs {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(strconv.FormatUint(r.seq, 36))
	}
	return b.String()
}

// RuntimeDisabled lists the runtime-disabled plugin names, sorted.
func (e *Executor) RuntimeDisabled() []string {
	m := e.disabled.Load()
	if m == nil {
		return []string{}
	}
	out := make([]string, 0, len(*m))
	for k := range *m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// IsRuntimeDisabled reports whether name is in the runtime-disabled set.
func (e *Executor) IsRuntimeDisabled(name string) bool {
	m := e.disabled.Load()
	if m == nil {
		return false
	}
	_, ok := (*m)[name]
	return ok
}

// Disable adds name to the runtime-disabled set (on_error: disable).
func (e *Executor) Disable(name string) int {
	return e.editDisabled(func(m map[string]struct{}) { m[name] = struct{}{} })
}

// Enable removes name from the runtime-disabled set.
func (e *Executor) Enable(name string) int {
	return e.editDisabled(func(m map[string]struct{}) { delete(m, name) })
}

// ResetRuntimeDisabled empties the runtime-disabled set.
func (e *Executor) ResetRuntimeDisabled() {
	e.disMu.Lock()
	e.disabled.Store(nil)
	e.disMu.Unlock()
}

func (e *Executor) editDisabled(edit func(map[string]struct{})) int {
	e.disMu.Lock()
	defer e.disMu.Unlock()
	n := map[string]struct{}{}
	if old := e.disabled.Load(); old != nil {
		for k := range *old {
			n[k] = struct{}{}
		}
	}
	edit(n)
	if len(n) == 0 {
		e.disabled.Store(nil)
		return 0
	}
	e.disabled.Store(&n)
	return len(n)
}

// FireAndForgetFailed applies on_error to a fire-and-forget task of ref that failed or
// timed out (its result is otherwise ignored); it reports whether ref was disabled.
func (e *Executor) FireAndForgetFailed(ref *Ref) bool {
	if ref.OnError == "disable" {
		e.Disable(ref.Name)
		return true
	}
	return false
}
