package core

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"
)

// This file serves drivers whose own plugins run outside core (the Python driver via
// pybind): when a run reaches Go plugins, core answers a go step (OpGo), runs them
// itself on the payload's JSON, back to back, when the driver calls ExecGo, and hands
// the driver the effects (docs/protocol.md, "go" steps).

// out is the step a Run answers a foreign driver with: where the run reached Go
// plugins (a call of a Go plugin, a concurrent phase that has some), core decides that
// it runs them itself and answers a go step standing for that call or phase (the one
// place that makes the choice, for every foreign host). The Go host never gets one.
func (r *Run) out(s *Step) *Step {
	if !r.foreign || r.finished {
		return s
	}
	switch s.Op {
	case OpCall:
		i := s.call.Index
		if r.plan.Refs[i].Plugin == nil {
			return s
		}
		r.goIdx = append(r.goIdx[:0], i)
		r.goRunAhead(func(i int) { r.goIdx = append(r.goIdx, i) })
		s.Op, s.goes = OpGo, GoStep{Indices: r.goIdx}
	case OpConcurrent:
		r.goIdx = r.goIdx[:0]
		for _, i := range s.conc.Indices {
			if r.plan.Refs[i].Plugin != nil {
				r.goIdx = append(r.goIdx, i)
			}
		}
		if len(r.goIdx) > 0 {
			s.Op, s.goes = OpGo, GoStep{Indices: r.goIdx, Concurrent: true}
		}
	}
	return s
}

// PendingGo is the go step awaiting the driver (ExecGo or Unreadable), nil for none.
func (r *Run) PendingGo() *GoStep {
	if r.finished || r.step.Op != OpGo {
		return nil
	}
	return &r.step.goes
}

// isGoCall: step is a serial call of a Go plugin (ExecGo runs those back to back).
func (r *Run) isGoCall(step *Step) bool {
	return step.Op == OpCall && r.plan.Refs[step.call.Index].Plugin != nil
}

// pendingGo checks that a go step awaits the driver and makes the run's step the call
// (or concurrent step) it stands for again.
func (r *Run) pendingGo() (*Step, error) {
	if r.finished {
		return nil, ErrRunFinished
	}
	s := &r.step
	if s.Op != OpGo {
		return nil, fmt.Errorf("%w: no go step is pending (%s)", ErrBadOutcome, s.Op)
	}
	if s.goes.Concurrent {
		s.Op = OpConcurrent
	} else {
		s.Op = OpCall
	}
	return s, nil
}

// serialGoCount is how many Go plugins the serial go step at the run's position runs
// at most, without a slice.
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

// ExecGo runs the Go plugins of the pending go step on in (the current-or-original
// payload the driver sent) and returns the next step for the driver. A concurrent go
// step whose phase still has foreign plugins is followed by a concurrent step of those.
func (r *Run) ExecGo(ctx context.Context, in *Payload, eff *GoEffects) (*Step, error) {
	step, err := r.pendingGo()
	if err != nil {
		return nil, err
	}
	timeout := time.Duration(r.opts.timeout * float64(time.Second))
	if step.Op == OpConcurrent {
		next, err := r.execGoConcurrent(ctx, step.conc, in, eff, timeout)
		if err != nil {
			return nil, err
		}
		return r.out(next), nil
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
	for r.isGoCall(step) {
		c := step.call
		i := c.Index
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
			r.goAfterReturn(i, res, c.Meta, eff)
			if res.ModifiedPayload != nil {
				var msg string
				o.Mod, cand, msg = candidateOf(r.plan, c.Apply, cur, res.ModifiedPayload, r.committed)
				if msg != "" {
					eff.Logs = append(eff.Logs, LogEntry{Level: "warning", Message: msg, Logger: PolicyLogger})
				}
			}
		}
		next, err := r.report(&o)
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
	return r.out(step), nil
}

func (r *Run) execGoConcurrent(ctx context.Context, step ConcurrentStep, in *Payload, eff *GoEffects, timeout time.Duration) (*Step, error) {
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
		next, err = r.report(&c.o)
		if err != nil {
			return nil, err
		}
		eff.Logs = append(eff.Logs, next.Logs...)
		if next.Op != OpNext {
			if cancels(next) {
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
	s.Op = OpConcurrent
	step.Indices = foreign
	s.conc = step
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

// Unreadable ends the run when the driver cannot give the Go plugins of the pending go
// step the payload (it cannot be written as JSON: a circular reference, nesting beyond
// the interpreter's limit). A guard that cannot see the payload never allows it,
// whatever its on_error: the run raises the first Go plugin's PluginError
// (docs/semantics.md). field: the top-level field that holds the value ("" for the
// payload as a whole); circular: the cause was a reference cycle; cause: the error's
// type and text.
func (r *Run) Unreadable(field string, circular bool, cause string) (*Step, error) {
	if r.finished {
		return nil, ErrRunFinished
	}
	if r.step.Op != OpGo {
		return nil, fmt.Errorf("%w: no go step is pending (%s)", ErrBadOutcome, r.step.Op)
	}
	i := r.step.goes.Indices[0]
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
