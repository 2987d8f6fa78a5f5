package engine

import (
	"fmt"

	"github.com/cpex-go/cpex/core/plugin"
)

// This file serves drivers whose own plugins run outside core (the Python driver via
// pybind): when a run reaches Go plugins, core answers a go step (OpGo), runs them
// itself on the payload's JSON, back to back, when the driver calls host.ExecGo, and hands
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

// The host side of a go step (host.ExecGo) works through these: ResumeGo takes the
// pending go step back as the call (or concurrent step) it stands for, ReportGo reports
// each Go plugin's outcome without turning the next call of a Go plugin into another go
// step, and EndGo turns the step the host ends on into the foreign driver's answer.

// ResumeGo checks that a go step is pending and answers the call or concurrent step it
// stands for.
func (r *Run) ResumeGo() (*Step, error) { return r.pendingGo() }

// ReportGo is Report for the Go plugins of a resumed go step.
func (r *Run) ReportGo(o *Outcome) (*Step, error) { return r.report(o) }

// EndGo is the answer to the foreign driver once the Go plugins of a go step ran.
func (r *Run) EndGo(s *Step) *Step { return r.out(s) }

// IsGoCall reports whether step is a serial call of a Go plugin (ExecGo runs those
// back to back).
func (r *Run) IsGoCall(step *Step) bool { return r.isGoCall(step) }

// GoCallCount is how many Go plugins the serial go step at the run's position runs at
// most.
func (r *Run) GoCallCount() int { return r.serialGoCount() }

// Committed reports whether a modification was accepted so far (a current payload
// exists).
func (r *Run) Committed() bool { return r.committed }

// ForeignContext is the context every Go plugin of a foreign run gets (a fresh copy).
func (r *Run) ForeignContext() *plugin.PluginContext { return r.foreignContext() }

// RestConcurrent is the concurrent step of the foreign plugins c lists, once the Go
// plugins of the phase were consumed.
func (r *Run) RestConcurrent(c ConcurrentStep) *Step {
	s := r.reset()
	s.Op, s.conc = OpConcurrent, c
	return s
}

// isGoCall: step is a serial call of a Go plugin.
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
	return r.serialAhead(true, func(_ Phase, i int) {
		if visit != nil {
			visit(i)
		}
	})
}

// serialAhead visits the plugins that follow the run's position in the serial phases
// while they are Go plugins (goPlugins) or foreign ones (!goPlugins), in order, and
// counts them.
func (r *Run) serialAhead(goPlugins bool, visit func(ph Phase, i int)) int {
	n := 0
	ph, pos := r.phase, r.pos
	for ph <= PhaseAudit {
		b := r.phases[ph]
		if pos >= len(b) {
			ph++
			pos = 0
			continue
		}
		i := b[pos]
		if (r.plan.Refs[i].Plugin != nil) != goPlugins {
			break
		}
		visit(ph, i)
		n++
		pos++
	}
	return n
}

// foreignContext: Go plugins of a foreign run see the request facts only; their state
// lives in the foreign driver's contexts.
func (r *Run) foreignContext() *plugin.PluginContext {
	f := &r.facts
	pc := &plugin.PluginContext{RequestID: f.RequestID}
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
