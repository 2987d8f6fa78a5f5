package engine

import "fmt"

// Batches let a foreign driver (Python through pybind) call several consecutive serial
// plugins before reporting (docs/protocol.md, "Batches"). The driver decides
// nothing but "this outcome is plain": core lists the calls that would follow plain
// outcomes, and replays the reported outcomes through Report one by one, so every
// rule (records, metadata, on_error, logs) is still applied here, in the same order.

// BatchCall is one call a driver may make without reporting first, as the call step
// core would answer with.
type BatchCall struct {
	Index int
	Merge bool
	Apply Apply
}

// Plain reports whether o is an outcome whose answer is fixed in advance: a clean
// allow with nothing to commit, log or remember. serial() answers it with the next
// call and no commit, which is what lets the driver go on without asking.
func (o *Outcome) Plain() bool {
	return o.Status == OutcomeOK && o.Continue && o.Mod == ModNone && o.Ret.Kind == ReturnedNone && o.Ext == ExtNone &&
		!o.HasViolation && o.Retry == 0
}

// AppendBatch appends to dst the calls that follow the awaited serial call if every
// outcome is plain: the next plugins of the serial phases, in order, up to the first
// Go plugin (core runs those itself) or the end of the audit phase. It appends nothing
// unless a serial call of a foreign plugin is awaited.
func (r *Run) AppendBatch(dst []BatchCall) []BatchCall {
	if r.finished || r.single != nil || r.waiting < 0 || r.phase > PhaseAudit {
		return dst
	}
	if r.plan.Refs[r.waiting].Plugin != nil {
		return dst
	}
	r.serialAhead(false, func(ph Phase, i int) {
		// the same fields advance() puts in the call step of i
		c := BatchCall{Index: i, Merge: ph != PhaseAudit, Apply: r.plan.Apply}
		if ph == PhaseAudit {
			c.Apply = ApplyNone
		}
		dst = append(dst, c)
	})
	return dst
}

// ReportBatch folds in the outcomes of a batch in order, each exactly as Report would,
// and answers the step after the last. Every outcome but the last must be plain and
// the outcomes must be those of the awaited call and the calls AppendBatch lists, in
// order; this is checked before anything is folded in, so a bad batch leaves the run
// untouched.
func (r *Run) ReportBatch(os []Outcome) (*Step, error) {
	if len(os) == 0 {
		return nil, fmt.Errorf("%w: an empty batch", ErrBadOutcome)
	}
	if r.finished {
		return nil, ErrRunFinished
	}
	if r.step.Op == OpGo {
		return nil, fmt.Errorf("%w: a go step is pending (ExecGo), not outcomes", ErrBadOutcome)
	}
	if len(os) > 1 {
		if err := r.checkBatch(os); err != nil {
			return nil, err
		}
	}
	for k := range os {
		step, err := r.report(&os[k])
		if err != nil {
			return nil, fmt.Errorf("outcome %d: %w", k, err)
		}
		if k == len(os)-1 {
			return r.out(step), nil
		}
		// A plain outcome is answered by the call of the next listed plugin with no
		// commit and no logs: the driver acted on exactly that answer.
		if step.Op != OpCall || step.call.Index != os[k+1].Index || step.Commit || step.CommitExt || len(step.Logs) > 0 {
			return nil, fmt.Errorf("%w: outcome %d: core answered %s, not the next call", ErrBadOutcome, k, step.Op)
		}
	}
	return nil, nil // not reached
}

func (r *Run) checkBatch(os []Outcome) error {
	if r.single != nil || r.waiting < 0 || r.phase > PhaseAudit {
		return fmt.Errorf("%w: a batch of %d outcomes, but no serial call is awaited", ErrBadOutcome, len(os))
	}
	var buf [16]BatchCall
	next := r.AppendBatch(buf[:0])
	if len(os)-1 > len(next) {
		return fmt.Errorf("%w: a batch of %d outcomes, at most %d calls were listed", ErrBadOutcome, len(os), len(next)+1)
	}
	for k := range os {
		want := r.waiting
		if k > 0 {
			want = next[k-1].Index
		}
		if o := &os[k]; o.Status > outcomeLast || o.Mod > ModSame || o.Ext > ExtOther || o.Ret.Kind > returnedLast {
			return fmt.Errorf("%w: outcome %d: status %d, mod %d, ext %d, ret %d out of range", ErrBadOutcome, k, o.Status, o.Mod, o.Ext, o.Ret.Kind)
		}
		if os[k].Index != want {
			return fmt.Errorf("%w: outcome %d: index %d, expected %d", ErrBadOutcome, k, os[k].Index, want)
		}
		if k < len(os)-1 && !os[k].Plain() {
			return fmt.Errorf("%w: outcome %d (index %d) is not plain: the batch must end with it", ErrBadOutcome, k, os[k].Index)
		}
	}
	return nil
}

// Awaiting is the index of the serial call whose outcome the run awaits, -1 for none.
func (r *Run) Awaiting() int {
	if r.finished || r.single != nil {
		return -1
	}
	return r.waiting
}
