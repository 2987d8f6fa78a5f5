package core

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"
)

// This file serves drivers whose own plugins run outside core (the Python driver via
// pybind): when a run reaches Go plugins, core runs them itself on the payload's JSON,
// back to back, and hands the driver the effects (docs/protocol.md, "go" steps).

// IsGoStep reports whether step is a call of a Go plugin or a concurrent step that
// includes Go plugins: a foreign driver answers it with a go step and ExecGo.
func (r *Run) IsGoStep(step *Step) bool {
	switch step.Op {
	case OpCall:
		return r.Ref(step.Index).Plugin != nil && r.single == nil
	case OpConcurrent:
		for _, i := range step.Indices {
			if r.plan.Refs[i].Plugin != nil {
				return true
			}
		}
	}
	return false
}

// GoIndices lists the Go plugins a go step will run: for a call, the consecutive Go
// plugins of the serial phases starting with it (the run may stop earlier: a block, an
// error); for a concurrent step, its Go plugins.
func (r *Run) GoIndices(step *Step) []int {
	var out []int
	if step.Op == OpConcurrent {
		for _, i := range step.Indices {
			if r.plan.Refs[i].Plugin != nil {
				out = append(out, i)
			}
		}
		return out
	}
	out = append(out, step.Index)
	r.goRunAhead(func(i int) { out = append(out, i) })
	return out
}

// serialGoCount is len(GoIndices(step)) for the serial go step at the run's position,
// without the slice.
func (r *Run) serialGoCount() int {
	return 1 + r.goRunAhead(nil)
}

// goRunAhead visits the Go plugins that follow the run's position in the serial phases,
// up to the first foreign one, and counts them: the rest of a serial go step.
func (r *Run) goRunAhead(visit func(i int)) int {
	n := 0
	ph, pos := r.phase, r.pos
	for ph <= PhaseAudit {
		b := r.phases[ph]
		if pos >= len(b) {
			ph++
			pos = 0
			continue
		}
		if r.plan.Refs[b[pos]].Plugin == nil {
			break
		}
		if visit != nil {
			visit(b[pos])
		}
		n++
		pos++
	}
	return n
}

// goCallSlot is what one Go plugin call of a foreign go step is handed.
type goCallSlot struct {
	cc callCtx
	pc PluginContext
}

// GoEffects is what the Go plugins of a go step did to the driver's data.
type GoEffects struct {
	// Payload is the new current payload, nil when unchanged.
	Payload *Payload
	// Meta is metadata to merge into the run's accumulator (no _decision_plugin).
	Meta map[string]any
	// Ran lists the plugins that ran, in order: each gets a context in the table.
	Ran []int
	// Violations are the Go plugins' violations (PluginName stamped), by index.
	Violations map[int]*Violation
	// Logs of every step produced during the go step, in order.
	Logs []LogEntry
}

// ExecGo runs the Go plugins of a go step on in (the current-or-original payload
// the driver sent) and returns the next step for the driver. A held concurrent step
// that still has foreign plugins comes back as a concurrent step of those only.
func (r *Run) ExecGo(ctx context.Context, step *Step, in *Payload, eff *GoEffects) (*Step, error) {
	if r.finished {
		return nil, ErrRunFinished
	}
	if !r.IsGoStep(step) {
		return nil, fmt.Errorf("%w: not a Go step (%s)", ErrBadOutcome, step.Op)
	}
	timeout := time.Duration(r.opts.timeout * float64(time.Second))
	if step.Op == OpConcurrent {
		held := *step // the Run reuses its step: keep what the phase needs
		held.Indices = append([]int(nil), step.Indices...)
		return r.execGoConcurrent(ctx, &held, in, eff, timeout)
	}
	cur := in
	// Every call gets its own context.Context and its own copy of the request facts (a
	// plugin may keep what it was given: nothing it holds is rewritten by a later call),
	// from one slab per go step.
	tmpl := r.foreignContext()
	slab := make([]goCallSlot, r.serialGoCount())
	if eff.Ran == nil {
		eff.Ran = make([]int, 0, 8)
	}
	for step.Op == OpCall && r.IsGoStep(step) {
		i := step.Index
		ref := r.plan.Refs[i]
		if len(slab) == 0 { // never with a count that is right, but a fresh one is always safe
			slab = make([]goCallSlot, 1)
		}
		sl := &slab[0]
		slab = slab[1:]
		pc := &sl.pc
		*pc = *tmpl
		var o Outcome
		res, _ := callGoAt(ctx, &sl.cc, ref, r.plan.Hook, cur, pc, timeout, nanotime(), &o)
		o.Index = i
		eff.Ran = append(eff.Ran, i)
		r.goViolationError(i, &o, eff)
		var cand *Payload
		if o.Status == OutcomeOK && res != nil {
			r.goAfterReturn(i, res, step.Meta, eff)
			if res.ModifiedPayload != nil {
				var msg string
				o.Mod, cand, msg = candidateOf(r.plan, step.Apply, cur, res.ModifiedPayload, r.committed)
				if msg != "" {
					eff.Logs = append(eff.Logs, LogEntry{Level: "warning", Message: msg, Logger: PolicyLogger})
				}
			}
		}
		next, err := r.Report(&o)
		if err != nil {
			return nil, err
		}
		if next.Commit && cand != nil {
			cur = cand
			eff.Payload = cand
		}
		eff.Logs = append(eff.Logs, next.Logs...)
		step = next
	}
	return step, nil
}

func (r *Run) execGoConcurrent(ctx context.Context, step *Step, in *Payload, eff *GoEffects, timeout time.Duration) (*Step, error) {
	var goIdx, foreign []int
	for _, i := range step.Indices {
		if r.plan.Refs[i].Plugin != nil {
			goIdx = append(goIdx, i)
		} else {
			foreign = append(foreign, i)
		}
	}
	type done struct {
		res *Result
		o   Outcome
	}
	cctx, cancel := context.WithCancel(ctx)
	defer cancel()
	out := make(chan done, len(goIdx))
	var sem chan struct{}
	if p := PoolBound(step.Pool, len(goIdx)); p > 0 {
		sem = make(chan struct{}, p)
	}
	var wg sync.WaitGroup
	for _, i := range goIdx {
		eff.Ran = append(eff.Ran, i)
		ref := r.plan.Refs[i]
		pc := r.foreignContext()
		wg.Add(1)
		go func() {
			defer wg.Done()
			if sem != nil {
				select {
				case sem <- struct{}{}:
					defer func() { <-sem }()
				case <-cctx.Done():
					return
				}
			}
			res, o := callGo(cctx, ref, r.plan.Hook, in, pc, timeout)
			o.Index, o.DurationNs = i, 0
			out <- done{res, o}
		}()
	}
	defer wg.Wait()
	var next *Step
	for range goIdx {
		c := <-out
		r.goViolationError(c.o.Index, &c.o, eff)
		if c.o.Status == OutcomeOK && c.res != nil {
			r.goAfterReturn(c.o.Index, c.res, true, eff)
			if c.res.ModifiedPayload != nil {
				c.o.Mod = ModIgnored
			}
		}
		var err error
		next, err = r.Report(&c.o)
		if err != nil {
			return nil, err
		}
		eff.Logs = append(eff.Logs, next.Logs...)
		if next.Op != OpNext {
			if next.Cancel {
				cancel()
			}
			for {
				select {
				case c := <-out: // completed but not consumed: metadata still merged (quirk §30.11)
					if c.o.Status == OutcomeOK && c.res != nil {
						r.goAfterReturn(c.o.Index, c.res, true, eff)
					}
					continue
				default:
				}
				break
			}
			return next, nil
		}
	}
	// Only foreign plugins are still running: the driver starts them now.
	s := r.reset()
	s.Op, s.Indices, s.Pool, s.Span = OpConcurrent, foreign, step.Pool, step.Span
	s.Timeout, s.TimeoutText = step.Timeout, step.TimeoutText
	return s, nil
}

// foreignContext: Go plugins of a foreign run see the request facts only; their state
// lives in the foreign driver's contexts.
func (r *Run) foreignContext() *PluginContext {
	f := &r.facts
	pc := &PluginContext{RequestID: f.RequestID}
	if f.ServerID != nil {
		pc.ServerID = *f.ServerID
	}
	if f.TenantID != nil {
		pc.TenantID = *f.TenantID
	}
	if f.ContentType != nil {
		pc.ContentType = *f.ContentType
	}
	pc.User = f.ContextUser()
	return pc
}

// ContextUser is the user as Go plugins see it in PluginContext.User: nil, the string
// user, or a dict user's keys with their values (nil for a key a driver sent no value
// for).
func (f *Facts) ContextUser() any {
	if !f.UserSet {
		return nil
	}
	if !f.UserIsKeys {
		return f.User
	}
	u := make(map[string]any, len(f.UserKeys))
	for _, k := range f.UserKeys {
		u[k] = f.UserValues[k]
	}
	return u
}

// goViolationError keeps the violation of a *ViolationError a Go plugin returned.
func (r *Run) goViolationError(i int, o *Outcome, eff *GoEffects) {
	if o.Status != OutcomeViolationError {
		return
	}
	r.keepViolationError(i, o.err, eff)
}

func (r *Run) keepViolationError(i int, err error, eff *GoEffects) {
	var ve *ViolationError
	if !errors.As(err, &ve) || ve.Violation == nil {
		return
	}
	v := *ve.Violation
	v.PluginName = r.plan.Refs[i].Name
	if eff.Violations == nil {
		eff.Violations = map[int]*Violation{}
	}
	eff.Violations[i] = &v
}

func (r *Run) goAfterReturn(i int, res *Result, meta bool, eff *GoEffects) {
	absorbResult(res, i, r.plan.Refs[i].Name, meta, &eff.Meta, &eff.Violations)
}

// CallPlugin runs one Go plugin call directly (no executor rules): the hook method of a
// Go plugin called by a foreign caller. Panics come back as errors; timeout ≤ 0 means
// DefaultTimeout.
func CallPlugin(ctx context.Context, p Plugin, hook string, in *Payload, pctx *PluginContext, timeout time.Duration) (*Result, error) {
	if timeout <= 0 {
		timeout = DefaultTimeout * time.Second
	}
	res, o := callGo(ctx, &Ref{Plugin: p}, hook, in, pctx, timeout)
	if o.Status == OutcomeTimeout {
		return nil, context.DeadlineExceeded
	}
	if o.err != nil {
		return nil, o.err
	}
	return res, nil
}

// Unreadable ends the run when the driver cannot give the Go plugins of a go step the
// payload (it cannot be written as JSON: a circular reference, nesting beyond the
// interpreter's limit). A guard that cannot see the payload never allows it, whatever
// its on_error: the run raises the first Go plugin's PluginError (docs/semantics.md).
// field: the top-level field that holds the value ("" for the payload as a whole);
// circular: the cause was a reference cycle; cause: the error's type and text.
func (r *Run) Unreadable(step *Step, field string, circular bool, cause string) (*Step, error) {
	if r.finished {
		return nil, ErrRunFinished
	}
	if !r.IsGoStep(step) {
		return nil, fmt.Errorf("%w: not a Go step (%s)", ErrBadOutcome, step.Op)
	}
	i := step.Index
	if step.Op == OpConcurrent {
		i = r.GoIndices(step)[0]
	}
	where := "the payload"
	if field != "" {
		where = "field '" + field + "'"
	}
	what := cause
	if circular {
		what = "circular reference"
	}
	r.reset()
	msg := fmt.Sprintf("Plugin %s: %s cannot be encoded as JSON for Go plugins (%s)", r.plan.Refs[i].Name, where, what)
	return r.raise(RaiseError, i, msg, false, false), nil
}
