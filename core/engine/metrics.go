package engine

import (
	"time"

	"github.com/cpex-go/cpex/core/metrics/series"
	"github.com/cpex-go/cpex/core/plugin"
)

// hookClock reads the monotonic clock a hook call's duration is measured with (no wall
// clock: time.Since on a Time holding a monotonic reading).
func hookClock() int64 { return int64(time.Since(clockBase)) }

var clockBase = time.Now()

// Metrics: the run counts every plugin call it is told about (Report) into the series of
// its plan, Python-driven and Go-driven runs alike, from the facts it already has (the
// outcome and the duration the driver measured). Series are looked up once per plan and
// registry (planMetrics), so a call costs a few atomic adds.

// planMetrics are the series of one plan under one registry, by plan index.
type planMetrics struct {
	reg   *series.Registry
	calls []*series.Call
	hook  *series.Hook
}

// metricsFor returns the plan's series in reg, built on the plan's first run under reg.
// A plan shared by two registries (never in practice: a plan belongs to one executor)
// only rebuilds its series when the registry changes.
func (p *Plan) metricsFor(reg *series.Registry) *planMetrics {
	if pm := p.metrics.Load(); pm != nil && pm.reg == reg {
		return pm
	}
	pm := &planMetrics{reg: reg, calls: make([]*series.Call, len(p.Refs)), hook: reg.Hook(p.Hook)}
	for i, r := range p.Refs {
		pm.calls[i] = reg.Call(r.Name, p.Hook)
	}
	p.metrics.Store(pm)
	return pm
}

// SetMetrics makes later runs count into reg (nil: no counting).
func (e *Executor) SetMetrics(reg *series.Registry) { e.metrics.Store(reg) }

// Metrics returns the registry runs count into, nil when off.
func (e *Executor) Metrics() *series.Registry { return e.metrics.Load() }

// startMetrics is called by startInto: the run's series and its start time.
func (r *Run) startMetrics() {
	if reg := r.exec.metrics.Load(); reg != nil && r.plan != nil {
		r.pm = r.plan.metricsFor(reg)
		r.t0 = hookClock()
	}
}

// startSingleMetrics is startMetrics of a single-plugin run (invoke_hook_for_plugin, a
// plugin server's call): the plugin's call series only; it is no hook call, so no hook
// duration or chain length. One registry lookup per call, on a path that costs
// microseconds anyway.
func (r *Run) startSingleMetrics(hook string) {
	if reg := r.exec.metrics.Load(); reg != nil {
		r.pm = &planMetrics{reg: reg, calls: []*series.Call{reg.Call(r.single.Name, hook)}}
	}
}

// count records the outcome of plan index i.
func (r *Run) count(i int, o series.Outcome, ns int64) {
	if r.pm != nil {
		r.pm.calls[i].Observe(o, ns)
	}
}

// countSkip records a plugin filtered out of the call.
func (r *Run) countSkip(i int, o series.Outcome) {
	if r.pm != nil {
		r.pm.calls[i].Count(o)
	}
}

// countEnd records the whole hook call when the run ends (done or raise).
func (r *Run) countEnd() {
	if r.pm != nil {
		if r.pm.hook != nil {
			r.pm.hook.Observe(hookClock()-r.t0, r.executed)
		}
		r.pm = nil // a run ends once
	}
}

// failureOutcome is the outcome of an error or timeout status.
func failureOutcome(st OutcomeStatus) series.Outcome {
	if st == OutcomeTimeout {
		return series.Timeout
	}
	return series.Error
}

// completedOutcome is the outcome of a call that returned: blocked when it halted the
// chain, modified when a change of its was applied.
func completedOutcome(rec *plugin.ExecutionRecord, halted bool) series.Outcome {
	switch {
	case halted:
		return series.Blocked
	case rec.PayloadModified || rec.ExtensionsModified:
		return series.Modified
	}
	return series.Allowed
}
