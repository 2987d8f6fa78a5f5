package engine

import (
	"errors"
	"fmt"
	"unsafe"

	"github.com/cpex-go/cpex/core/config"
	"github.com/cpex-go/cpex/core/metrics/series"
	"github.com/cpex-go/cpex/core/plugin"
)

// Run is one hook call as a state machine: it consumes plugin outcomes and answers
// with the next step. It holds every rule of the executor (spec §11–§13, §15) and no
// data: payloads, contexts and metadata belong to the driver (the Go driver for Go
// callers, the Python driver through pybind), which is why both drive the same rules.
// A Run is not safe for concurrent use; its driver reports one outcome at a time.
type Run struct {
	exec  *Executor
	plan  *Plan
	facts Facts
	opts  *execOptions

	single      *Ref // a single-plugin run (RunSingle)
	singleMerge bool
	singleMeta  bool

	phases  [numPhases][]int
	phase   Phase
	pos     int
	waiting int   // the serial index awaiting its report, -1 for none
	pending []int // concurrent indices started and not yet reported
	started bool  // the concurrent phase was started

	records      []plugin.ExecutionRecord
	recycled     bool // records' array holds an earlier run's records (StartIntoRecords)
	retry        int
	decision     string
	committed    bool
	extCommitted bool
	executed     int
	skipped      int
	stoppedBy    string
	finished     bool

	pm *planMetrics // the plan's series when metrics are on (metrics.go)
	t0 int64        // the run's start (hookClock), for the hook's duration
	// foreign: the driver runs no Go plugin itself (Start): core answers go steps.
	foreign bool
	goIdx   []int // the indices of the pending go step (GoStep.Indices)
	// callFor is the serial phase step.call was last filled for, plus one (0: none): the
	// calls of one phase differ only in their index.
	callFor Phase

	step Step
}

// Errors of a misbehaving driver.
var (
	ErrRunFinished = errors.New("the run has already ended")
	ErrBadOutcome  = errors.New("outcome does not match the step")
)

// Start begins a hook call of plan. facts describe the call (conditions, size guard,
// pool, violations as errors, tracing).
// Start is the entry of a foreign driver (one whose plugins run outside core: the
// Python driver through pybind): Go plugins of the plan come as go steps (OpGo), which
// core runs itself when the driver calls host.ExecGo.
func (e *Executor) Start(plan *Plan, facts *Facts) (*Run, *Step) {
	r := &Run{}
	s := e.StartInto(r, plan, facts)
	r.foreign = true
	return r, r.out(s)
}

// Probe begins a run of plan as Start does, except that it counts nothing (metrics are
// not started for it): a driver asks a probe what runs of plan would answer (pybind's
// chain rules) without a hook call to count. Answers do not depend on counting.
func (e *Executor) Probe(plan *Plan, facts *Facts) (*Run, *Step) {
	r := &Run{}
	r.init(e, plan, facts)
	r.records = make([]plugin.ExecutionRecord, 0, len(plan.Refs))
	s := r.begin()
	r.foreign = true
	return r, r.out(s)
}

// StartInto begins a hook call of plan driven by the Go host, which runs every plugin
// itself (no go steps), in r (the host embeds its Run to save an allocation).
func (e *Executor) StartInto(r *Run, plan *Plan, facts *Facts) *Step {
	return e.StartIntoRecords(r, plan, facts, nil)
}

// StartIntoRecords is StartInto with the array the run writes its records into: the
// host's own scratch array, or one its caller handed back (host.Manager.InvokeHookInto),
// reused when it holds a record per plugin of the plan (else a new one is made). The
// array is not cleared: newRecord rewrites a recycled record (rewriteRecord), and the
// other records are appended whole.
func (e *Executor) StartIntoRecords(r *Run, plan *Plan, facts *Facts, records []plugin.ExecutionRecord) *Step {
	r.init(e, plan, facts)
	if cap(records) >= len(plan.Refs) && cap(records) > 0 {
		r.records, r.recycled = records[:0], true
	} else {
		r.records = make([]plugin.ExecutionRecord, 0, len(plan.Refs))
	}
	r.startMetrics()
	return r.begin()
}

// init readies r (a new Run, or a finished one a host recycles) for a run of plan,
// field by field rather than *r = Run{...}: that would also clear the step, a third of
// the Run, whose header begin clears (reset) and whose parts are written whole when
// their Op is answered. TestRunInitClearsEveryField keeps this list complete.
func (r *Run) init(e *Executor, plan *Plan, facts *Facts) {
	r.exec, r.plan, r.facts, r.opts = e, plan, *facts, e.opts.Load()
	r.single, r.singleMerge, r.singleMeta = nil, false, false
	r.phases, r.phase, r.pos, r.waiting, r.pending, r.started = [numPhases][]int{}, 0, 0, -1, nil, false
	r.records, r.recycled, r.retry, r.decision, r.committed, r.extCommitted = nil, false, 0, "", false, false
	r.executed, r.skipped, r.stoppedBy, r.finished = 0, 0, "", false
	r.pm, r.t0, r.foreign, r.goIdx, r.callFor = nil, 0, false, nil, 0
}

// StartSingle begins a lone execute_plugin of ref (spec §10.4, §11.5): no filtering, no
// records, no size check. merge: a global context was given; meta: an accumulator.
func (e *Executor) StartSingle(ref *Ref, facts *Facts, merge, meta bool) (*Run, *Step) {
	r := &Run{}
	return r, e.StartSingleInto(r, ref, facts, merge, meta)
}

// StartSingleInto is StartSingle in r, which it overwrites whole (a driver that runs
// many single calls may reuse a finished run's memory).
func (e *Executor) StartSingleInto(r *Run, ref *Ref, facts *Facts, merge, meta bool) *Step {
	*r = Run{exec: e, facts: *facts, opts: e.opts.Load(), waiting: 0, single: ref, singleMeta: meta}
	r.singleMerge = merge && (ref.Mode == config.ModeSequential || ref.Mode == config.ModeTransform || ref.Mode == config.ModeConcurrent)
	s := r.reset()
	s.Op = OpCall
	s.call = CallStep{Index: 0, Merge: r.singleMerge, Meta: meta, Apply: ApplyNone, Span: facts.Trace,
		Timeout: r.opts.timeout, TimeoutText: r.opts.timeoutText}
	r.startSingleMetrics(facts.Hook)
	return s
}

// Plan returns the run's plan (nil for a single-plugin run).
func (r *Run) Plan() *Plan { return r.plan }

// Ref returns the plugin at index i of the plan (or the single plugin).
func (r *Run) Ref(i int) *Ref {
	if r.single != nil {
		return r.single
	}
	return r.plan.Refs[i]
}

// Finished reports whether the run has ended (done or raise was returned).
func (r *Run) Finished() bool { return r.finished }

// Facts returns the facts the run started with.
func (r *Run) Facts() *Facts { return &r.facts }

// Timeout returns the timeout of the run's calls (seconds and text form).
func (r *Run) Timeout() (float64, string) { return r.opts.timeout, r.opts.timeoutText }

// hook names the hook in messages: the caller's text for it when given (upstream
// formats the HookRef's hook there), else the hook type.
func (r *Run) hook() string {
	if r.facts.Hook != "" || r.plan == nil {
		return r.facts.Hook
	}
	return r.plan.Hook
}

// reset clears the step's header for the next answer. The part of the Op answered is
// written whole where the Op is set, so the parts need no clearing (no part is read
// under another Op). The log buffer is kept for reuse.
func (r *Run) reset() *Step {
	s := &r.step
	if len(s.Logs) > 0 {
		s.Logs = s.Logs[:0]
	}
	s.Op, s.Answer, s.Commit, s.CommitExt, s.ChainSpan, s.ChainEnd = 0, false, false, false, false, false
	if s.Accept != nil {
		s.Accept = nil
	}
	return s
}

func (r *Run) log(level, format string, args ...any) {
	r.step.Logs = append(r.step.Logs, LogEntry{Level: level, Message: fmt.Sprintf(format, args...)})
}

// begin: size guard, chain span, filtering, then the first step.
func (r *Run) begin() *Step {
	s := r.reset()
	if len(r.plan.Refs) == 0 {
		// No plugin for the hook: the call answers an allow before any rule runs (no
		// size check, no span, no records), as upstream's invoke_hook returns before its
		// executor. Hosts may answer this without a run (Manager.InvokeHook, the Python
		// manager's empty_chain_result); TestEmptyChainIsAnAllowBeforeAnyRule pins it.
		st := r.done(true, -1, false)
		st.ChainEnd = false
		return st
	}
	if f := &r.facts; f.SizeAttr != "" && f.Size > plugin.MaxPayloadSize {
		what := "Payload"
		if f.SizeAttr == "result" {
			what = "Result"
		}
		return r.raise(RaiseSize, -1, fmt.Sprintf("%s size %d exceeds limit of %d bytes", what, f.Size, plugin.MaxPayloadSize), false, false)
	}
	s.ChainSpan = r.facts.Trace
	r.filter()
	return r.advance()
}

// filter applies the per-call rules: runtime-disabled names and conditions, the latter
// evaluated once against the original payload (spec §11.1 step 6, quirk §30.12).
func (r *Run) filter() {
	p := r.plan
	r.skipped = p.staticSkipped
	dis := r.exec.disabled.Load()
	if dis == nil && !p.conditional {
		r.phases = p.buckets // shared, never written
		return
	}
	for ph := range p.buckets {
		var keep []int
		for _, i := range p.buckets[ph] {
			ref := p.Refs[i]
			if dis != nil {
				if _, off := (*dis)[ref.Name]; off {
					r.skipped++
					r.countSkip(i, series.Disabled)
					continue
				}
			}
			if len(ref.Conditions) > 0 && !payloadMatches(ref.Conditions, &p.Type, &r.facts) {
				r.skipped++
				r.countSkip(i, series.SkippedCondition)
				continue
			}
			keep = append(keep, i)
		}
		r.phases[ph] = keep
	}
}

// advance moves to the next thing to do and fills the step with it.
func (r *Run) advance() *Step {
	s := &r.step
	for {
		switch {
		case r.phase <= PhaseAudit:
			b := r.phases[r.phase]
			if r.pos < len(b) {
				i := b[r.pos]
				r.pos++
				r.waiting = i
				s.Op = OpCall
				if r.callFor == r.phase+1 {
					s.call.Index = i
					return s
				}
				apply := r.plan.Apply
				if r.phase == PhaseAudit {
					apply = ApplyNone
				}
				s.call = CallStep{Index: i, Timeout: r.opts.timeout, TimeoutText: r.opts.timeoutText,
					Merge: r.phase != PhaseAudit, Meta: true, Apply: apply, Span: r.facts.Trace, Diff: apply == ApplyPolicy}
				r.callFor = r.phase + 1
				return s
			}
			r.phase++
			r.pos = 0
		case r.phase == PhaseConcurrent:
			b := r.phases[PhaseConcurrent]
			if !r.started && len(b) > 0 {
				r.started = true
				r.pending = append(r.pending[:0], b...)
				s.Op = OpConcurrent
				s.conc = ConcurrentStep{Indices: b, Pool: r.facts.Pool, Timeout: r.opts.timeout, TimeoutText: r.opts.timeoutText, Span: r.facts.Trace}
				return s
			}
			if len(r.pending) > 0 {
				s.Op = OpNext
				return s
			}
			r.phase++
		default:
			return r.done(true, -1, false)
		}
	}
}

// done ends the run with a result: on success (cont) or on a halt by index blocker.
func (r *Run) done(cont bool, blocker int, cancel bool) *Step {
	s := &r.step
	r.finished = true
	r.countEnd()
	faf := r.phases[PhaseFireAndForget]
	for _, i := range faf {
		ref := r.plan.Refs[i]
		r.records = append(r.records, r.record(ref, plugin.StatusCompleted))
		r.records[len(r.records)-1].EffectiveAllow = true
	}
	s.Op = OpDone
	s.done = DoneStep{Continue: cont, ViolationIndex: blocker, Cancel: cancel, FAF: faf, Payload: r.committed, Records: r.records,
		FAFCount: len(faf) > 0 && r.exec.metrics.Load() != nil}
	if cont {
		s.done.Retry = r.retry
		s.done.Ext = r.extCommitted
	}
	if r.plan.Type.Decision && r.decision != "" {
		s.done.Decision = r.decision
	}
	s.ChainEnd = r.facts.Trace
	return s
}

// raise ends the run with an error; records go along only for violations.
func (r *Run) raise(kind RaiseKind, i int, msg string, withRecords, cancel bool) *Step {
	s := &r.step
	r.finished = true
	r.countEnd()
	s.Op = OpRaise
	s.raise = RaiseStep{Kind: kind, Index: i, Message: msg, Cancel: cancel}
	if withRecords {
		s.raise.Records = r.records
	}
	return s
}

// ChainSpanAttrs are the attributes of the hook-chain span at its start (spec §20).
func (r *Run) ChainSpanAttrs() map[string]any {
	return map[string]any{"plugin.hook.type": r.plan.Hook, "plugin.chain.length": len(r.plan.Refs)}
}

// ChainEndAttrs are the attributes of the hook-chain span at its end.
func (r *Run) ChainEndAttrs() map[string]any {
	return map[string]any{
		"plugin.executed_count":   r.executed,
		"plugin.skipped_count":    r.skipped,
		"plugin.chain.stopped":    r.stoppedBy != "",
		"plugin.chain.stopped_by": r.stoppedBy,
	}
}

// Report folds in the outcome of a plugin call and answers with the next step.
func (r *Run) Report(o *Outcome) (*Step, error) {
	// Only a foreign run has go steps (out writes them): a Go host's run skips both.
	if r.foreign && r.step.Op == OpGo && !r.finished {
		return nil, fmt.Errorf("%w: a go step is pending (ExecGo), not an outcome", ErrBadOutcome)
	}
	s, err := r.report(o)
	if err != nil {
		return nil, err
	}
	if r.foreign {
		s = r.out(s)
	}
	return s, nil
}

// report is Report without the go-step rewrite: ExecGo reports its Go plugins' outcomes
// through it.
func (r *Run) report(o *Outcome) (*Step, error) {
	if r.finished {
		return nil, ErrRunFinished
	}
	if o.Status > outcomeLast {
		return nil, fmt.Errorf("%w: status %d out of range", ErrBadOutcome, o.Status)
	}
	o = asExecutorTimeout(o)
	if r.single != nil {
		if o.Index != 0 {
			return nil, fmt.Errorf("%w: index %d, the single plugin is 0", ErrBadOutcome, o.Index)
		}
		return r.reportSingle(o), nil
	}
	if o.Mod > ModSame || o.Ext > ExtOther || o.Ret.Kind > returnedLast {
		return nil, fmt.Errorf("%w: status %d, mod %d, ext %d, ret %d out of range", ErrBadOutcome, o.Status, o.Mod, o.Ext, o.Ret.Kind)
	}
	if r.phase == PhaseConcurrent && r.started {
		at := -1
		for k, i := range r.pending {
			if i == o.Index {
				at = k
				break
			}
		}
		if at < 0 {
			return nil, fmt.Errorf("%w: index %d is not a running concurrent plugin", ErrBadOutcome, o.Index)
		}
		r.pending = append(r.pending[:at], r.pending[at+1:]...)
		s := r.reset()
		s.Answer = true
		return r.concurrent(o), nil
	}
	if o.Index != r.waiting || r.waiting < 0 {
		return nil, fmt.Errorf("%w: index %d, expected %d", ErrBadOutcome, o.Index, r.waiting)
	}
	r.waiting = -1
	s := r.reset()
	s.Answer = true
	return r.serial(o), nil
}

// serial applies one outcome of the sequential, transform or audit phase (§11.2).
func (r *Run) serial(o *Outcome) *Step {
	s := &r.step
	ref := r.plan.Refs[o.Index]
	phase := r.phase
	switch o.Status {
	case OutcomeViolationError:
		return r.violationRaised(ref, o, false)
	case OutcomeTimeout, OutcomeError, OutcomePluginError:
		if st := r.failure(ref, o, phase == PhaseSequential); st != nil {
			return st
		}
		r.executed++
		return r.advance()
	}
	r.executed++
	var accept []string
	if o.Ret.Kind != ReturnedNone {
		apply := r.plan.Apply
		if phase == PhaseAudit {
			apply = ApplyNone
		}
		var warn string
		o.Mod, accept, warn = classifyReturned(r.plan, apply, &o.Ret)
		if warn != "" {
			r.step.Logs = append(r.step.Logs, LogEntry{Level: "warning", Message: warn, Logger: PolicyLogger})
		}
	}
	// The record is built in place: this is the path every plugin of a chain takes.
	var rec *plugin.ExecutionRecord
	if r.recycled {
		rec = r.rewrittenRecord(ref, plugin.StatusCompleted)
	} else {
		rec = r.newRecord(ref, plugin.StatusCompleted)
	}
	rec.EffectiveAllow = true
	rec.DurationNs = o.DurationNs
	if !o.Continue && phase == PhaseSequential {
		// A block: the converted result drops the modification, extensions and retry.
		r.count(o.Index, series.Blocked, o.DurationNs)
		rec.RequestedAllow, rec.EffectiveAllow, rec.Matched, rec.Applied = plugin.False, false, plugin.True, true
		r.log("warning", "Plugin %s blocked %s: %s", ref.Name, r.plan.Hook, violationSummary(o))
		if r.facts.ViolationsAsErrors {
			msg := blockedMessage(r.hook(), ref.Name, o)
			setDenialFacts(rec, o, msg)
			return r.raise(RaiseViolation, o.Index, msg, true, false)
		}
		setViolationFacts(rec, o)
		r.stoppedBy = ref.Name
		return r.done(false, o.Index, false)
	}
	converted := !o.Continue // transform/audit: the block is suppressed
	if converted {
		r.log("warning", "Plugin %s raised violation in %s mode (blocking suppressed): %s", ref.Name, ref.Mode, violationSummary(o))
	} else if o.Retry > r.retry {
		r.retry = o.Retry
	}
	if phase != PhaseAudit && o.hasCandidate() {
		s.Commit, s.Accept = true, accept
		r.committed = true
		r.decision = ref.Name
		rec.PayloadModified = o.Mod != ModSame
	} else if o.Mod == ModIgnored && phase != PhaseAudit {
		r.logIgnored(ref)
	}
	if !converted && o.Ext != ExtNone {
		if phase != PhaseAudit {
			s.CommitExt = true
			r.extCommitted = true
		}
		rec.ExtensionsModified = o.Ext == ExtOther
	}
	matched := rec.PayloadModified || rec.ExtensionsModified
	rec.RequestedAllow, rec.Matched, rec.Applied = plugin.True, plugin.OptBoolOf(matched), matched
	r.count(o.Index, completedOutcome(rec, false), o.DurationNs)
	return r.advance()
}

func (r *Run) logIgnored(ref *Ref) {
	if r.plan.Apply == ApplyNone {
		r.log("warning", "Plugin %s modified the payload of %s, rejected by the default hook policy (deny)", ref.Name, r.plan.Hook)
	} else {
		r.log("warning", "Plugin %s returned a modified payload of an unsupported type for %s: ignored", ref.Name, r.plan.Hook)
	}
}

// concurrent applies one completion of the concurrent phase (§11.6).
func (r *Run) concurrent(o *Outcome) *Step {
	ref := r.plan.Refs[o.Index]
	switch o.Status {
	case OutcomeViolationError:
		return r.violationRaised(ref, o, true)
	case OutcomeTimeout, OutcomeError, OutcomePluginError:
		if st := r.failure(ref, o, false); st != nil {
			return st
		}
		r.executed++
		return r.advance()
	}
	r.executed++
	if o.Ret.Kind != ReturnedNone {
		o.Mod = ModIgnored // a concurrent plugin's payload never applies (no policy runs)
	}
	rec := r.record(ref, plugin.StatusCompleted)
	if o.HasViolation {
		setViolationFacts(&rec, o)
	}
	if o.Mod != ModNone {
		r.log("debug", "Plugin %s returned a modified payload in concurrent mode: discarded", ref.Name)
	}
	r.count(o.Index, completedOutcome(&rec, !o.Continue), o.DurationNs)
	if o.Continue {
		rec.RequestedAllow, rec.EffectiveAllow, rec.Matched = plugin.True, true, plugin.False
		r.records = append(r.records, rec)
		if o.Retry > r.retry {
			r.retry = o.Retry
		}
		return r.advance()
	}
	rec.RequestedAllow, rec.EffectiveAllow, rec.Matched, rec.Applied = plugin.False, false, plugin.True, true
	r.log("warning", "Plugin %s blocked %s: %s", ref.Name, r.plan.Hook, violationSummary(o))
	if r.facts.ViolationsAsErrors {
		msg := blockedMessage(r.hook(), ref.Name, o)
		setDenialFacts(&rec, o, msg)
		r.records = append(r.records, rec)
		return r.raise(RaiseViolation, o.Index, msg, true, true)
	}
	r.records = append(r.records, rec)
	r.stoppedBy = ref.Name
	return r.done(false, o.Index, true)
}

// violationRaised: the hook raised a violation error itself; it escapes as is, with
// a denial record and the records so far (§11.2, §11.6).
func (r *Run) violationRaised(ref *Ref, o *Outcome, cancel bool) *Step {
	r.count(o.Index, series.Blocked, o.DurationNs)
	rec := r.record(ref, plugin.StatusCompleted)
	rec.DurationNs = o.DurationNs
	if ref.Mode == config.ModeConcurrent {
		rec.DurationNs = 0
	}
	rec.RequestedAllow, rec.EffectiveAllow, rec.Matched, rec.Applied = plugin.False, false, plugin.True, true
	setDenialFacts(&rec, o, o.Message)
	r.records = append(r.records, rec)
	s := r.raise(RaiseViolation, o.Index, o.Message, true, cancel)
	s.raise.Own = true // the plugin's own violation error escapes as is
	return s
}

// failure applies on_error to an error or a timeout (§11.4). It returns the raise step
// under fail, or nil after recording a swallowed failure (ignore/disable).
// appliedOnTimeout: a timeout record counts as applied in the sequential phase.
func (r *Run) failure(ref *Ref, o *Outcome, appliedOnTimeout bool) *Step {
	r.count(o.Index, failureOutcome(o.Status), o.DurationNs)
	concurrent := ref.Mode == config.ModeConcurrent
	if ref.OnError == config.OnErrorFail || (ref.OnError != config.OnErrorIgnore && ref.OnError != config.OnErrorDisable) {
		kind, msg := RaiseError, o.Message
		if o.Status == OutcomeTimeout {
			kind, msg = RaiseTimeout, timeoutMessage(ref.Name, r.opts.timeoutText)
		}
		// The error record is appended as upstream does, though no error carries it
		// (quirk §30.5).
		rec := r.record(ref, plugin.StatusError)
		rec.Applied = true
		rec.Reason, rec.ErrorCode = strPtr(Truncate(msg, maxRecordString)), strPtr("plugin_error")
		if !concurrent {
			rec.DurationNs = o.DurationNs
		}
		r.records = append(r.records, rec)
		// Unfinished concurrent siblings are cancelled (quirk §30.6, decided: upstream
		// leaves them running detached, a leak).
		s := r.raise(kind, o.Index, msg, false, concurrent)
		r.raiseParts(s, o)
		return s
	}
	if ref.OnError == config.OnErrorDisable {
		r.exec.Disable(ref.Name)
	}
	if o.Status == OutcomeTimeout {
		msg := timeoutMessage(ref.Name, r.opts.timeoutText)
		r.log("warning", "%s (on_error=%s): continuing", msg, ref.OnError)
		rec := r.record(ref, plugin.StatusTimeout)
		rec.EffectiveAllow = true
		rec.Applied = appliedOnTimeout
		if !concurrent {
			rec.DurationNs = o.DurationNs
		}
		rec.Reason, rec.ErrorCode = strPtr(Truncate(msg, maxRecordString)), strPtr("plugin_timeout")
		r.records = append(r.records, rec)
		return nil
	}
	// A swallowed exception reads as a clean allow (quirk §30.4).
	r.log("error", "Plugin %s failed on %s (on_error=%s): %s", ref.Name, r.hook(), ref.OnError, o.Message)
	rec := r.record(ref, plugin.StatusCompleted)
	rec.RequestedAllow, rec.EffectiveAllow, rec.Matched = plugin.True, true, plugin.False
	if !concurrent {
		rec.DurationNs = o.DurationNs
	}
	r.records = append(r.records, rec)
	return nil
}

// reportSingle: the outcome of a lone execute_plugin (§11.5, §10.4).
func (r *Run) reportSingle(o *Outcome) *Step {
	s := r.reset()
	s.Answer = true
	ref := r.single
	// the plugin's call series counts each branch's outcome (metrics.go); a single run
	// judges no modification, so a call that returned is allowed unless it blocked
	switch o.Status {
	case OutcomeViolationError:
		r.count(0, series.Blocked, o.DurationNs)
		s := r.raise(RaiseViolation, 0, o.Message, false, false)
		s.raise.Own = true
		return s
	case OutcomeTimeout, OutcomeError, OutcomePluginError:
		r.count(0, failureOutcome(o.Status), o.DurationNs)
		msg := o.Message
		if o.Status == OutcomeTimeout {
			msg = timeoutMessage(ref.Name, r.opts.timeoutText)
		}
		switch ref.OnError {
		case config.OnErrorIgnore, config.OnErrorDisable:
			if ref.OnError == config.OnErrorDisable {
				r.exec.Disable(ref.Name)
			}
			if o.Status == OutcomeTimeout {
				s := r.raise(RaisePluginTimeout, 0, msg, false, false)
				s.raise.Cause = true
				return s
			}
			r.log("error", "Plugin %s failed (on_error=%s): %s", ref.Name, ref.OnError, msg)
			r.finished = true
			s.Op = OpDone
			s.done = DoneStep{Single: SingleEmpty, Continue: true, ViolationIndex: -1}
			return s
		}
		kind := RaiseError
		if o.Status == OutcomeTimeout {
			kind = RaiseTimeout
		}
		s := r.raise(kind, 0, msg, false, false)
		r.raiseParts(s, o)
		return s
	}
	r.finished = true
	s.Op = OpDone
	s.done = DoneStep{Single: SinglePlugin, ViolationIndex: -1}
	if o.Continue {
		r.count(0, series.Allowed, o.DurationNs)
		return s
	}
	d := &s.done
	switch ref.Mode {
	case config.ModeSequential, config.ModeConcurrent:
		r.count(0, series.Blocked, o.DurationNs)
		r.log("warning", "Plugin %s blocked %s: %s", ref.Name, r.hook(), violationSummary(o))
		if r.facts.ViolationsAsErrors {
			return r.raise(RaiseViolation, 0, blockedMessage(r.hook(), ref.Name, o), false, false)
		}
		d.Single, d.Continue, d.Violation, d.Denial = SingleNew, false, true, true
	case config.ModeTransform, config.ModeAudit:
		r.count(0, series.Allowed, o.DurationNs)
		r.log("warning", "Plugin %s raised violation in %s mode (blocking suppressed): %s", ref.Name, ref.Mode, violationSummary(o))
		d.Single, d.Continue, d.Payload = SingleNew, true, ref.Mode == config.ModeTransform
	default:
		r.count(0, series.Allowed, o.DurationNs)
	}
	return s
}

// newRecord appends a record of ref and returns it for filling in. The slice was
// sized for one record per plugin at Start, so this normally writes into zeroed memory
// with no copy. Not into a recycled array (rewrittenRecord).
func (r *Run) newRecord(ref *Ref, st plugin.ExecutionStatus) *plugin.ExecutionRecord {
	n := len(r.records)
	if n == cap(r.records) {
		r.records = append(r.records, plugin.ExecutionRecord{})
	} else {
		r.records = r.records[:n+1]
	}
	rec := &r.records[n]
	rec.PluginID, rec.PluginName, rec.PluginKind, rec.HookName = ref.UUID, ref.Name, ref.recordKind, r.plan.Hook
	rec.Mode, rec.Status, rec.ConfigKeys = ref.Mode, st, ref.ConfigKeys
	return rec
}

// rewrittenRecord is newRecord into a recycled array: the earlier run's record in the
// slot is rewritten (rewriteRecord).
func (r *Run) rewrittenRecord(ref *Ref, st plugin.ExecutionStatus) *plugin.ExecutionRecord {
	n := len(r.records)
	if n == cap(r.records) {
		return r.newRecord(ref, st) // a new array: zeroed memory
	}
	r.records = r.records[:n+1]
	rec := &r.records[n]
	rewriteRecord(rec, ref, st, r.plan.Hook)
	return rec
}

// rewriteRecord makes rec, an earlier run's record, the zero record newRecord fills,
// writing a pointer field only where it differs. A pointer written into the heap while
// the collector marks is shaded, old value and new: clearing a recycled array of ten
// records and refilling it cost ~1.6k instructions per call on average (Go API, S6),
// while the same plan's records mostly hold the very strings again.
// TestRewriteRecordIsNewRecord keeps it complete.
func rewriteRecord(rec *plugin.ExecutionRecord, ref *Ref, st plugin.ExecutionStatus, hook string) {
	if !sameString(rec.PluginID, ref.UUID) {
		rec.PluginID = ref.UUID
	}
	if !sameString(rec.PluginName, ref.Name) {
		rec.PluginName = ref.Name
	}
	if !sameString(rec.PluginKind, ref.recordKind) {
		rec.PluginKind = ref.recordKind
	}
	if !sameString(rec.HookName, hook) {
		rec.HookName = hook
	}
	if !sameString(string(rec.Mode), string(ref.Mode)) {
		rec.Mode = ref.Mode
	}
	if !sameString(string(rec.Status), string(st)) {
		rec.Status = st
	}
	if !sameSlice(rec.ConfigKeys, ref.ConfigKeys) {
		rec.ConfigKeys = ref.ConfigKeys
	}
	if rec.Reason != nil {
		rec.Reason = nil
	}
	if rec.ErrorCode != nil {
		rec.ErrorCode = nil
	}
	rec.RequestedAllow, rec.EffectiveAllow, rec.Matched, rec.Applied = plugin.None, false, plugin.None, false
	rec.PayloadModified, rec.ExtensionsModified, rec.DurationNs = false, false, 0
}

// sameString: a and b are the same string (same bytes at the same address; equal
// strings elsewhere are rewritten, which is only a barrier more). Not a != b: that
// compares bytes in a runtime call, ~25 instructions a field.
func sameString(a, b string) bool {
	return len(a) == len(b) && (len(a) == 0 || unsafe.StringData(a) == unsafe.StringData(b))
}

// sameSlice: a and b are the same slice (array, length, capacity, nil-ness).
func sameSlice(a, b []string) bool {
	if (a == nil) != (b == nil) || len(a) != len(b) || cap(a) != cap(b) {
		return false
	}
	return cap(a) == 0 || &a[:1][0] == &b[:1][0]
}

func (r *Run) record(ref *Ref, st plugin.ExecutionStatus) plugin.ExecutionRecord {
	return plugin.ExecutionRecord{
		PluginID: ref.UUID, PluginName: ref.Name, PluginKind: ref.recordKind, HookName: r.plan.Hook,
		Mode: ref.Mode, Status: st, ConfigKeys: ref.ConfigKeys,
	}
}

// setDenialFacts: the record of a violation error carries the violation's reason and
// code, or the error's message and "plugin_violation" when it has no violation.
func setDenialFacts(rec *plugin.ExecutionRecord, o *Outcome, msg string) {
	reason, code := msg, "plugin_violation"
	if o.HasViolation {
		reason, code = o.Violation.Reason, o.Violation.Code
	}
	rec.Reason, rec.ErrorCode = strPtr(Truncate(reason, maxRecordString)), strPtr(Truncate(code, maxRecordString))
}

func setViolationFacts(rec *plugin.ExecutionRecord, o *Outcome) {
	if o.HasViolation {
		rec.Reason = strPtr(Truncate(o.Violation.Reason, maxRecordString))
		rec.ErrorCode = strPtr(Truncate(o.Violation.Code, maxRecordString))
	}
}

// blockedMessage is the PluginViolationError message of a block (spec §11.5).
func blockedMessage(hook, name string, o *Outcome) string {
	if !o.HasViolation {
		return hook + " blocked by plugin"
	}
	v := &o.Violation
	return fmt.Sprintf("%s blocked by plugin %s: %s - %s (%s)", hook, name, v.Code, v.Reason, v.Description)
}

func violationSummary(o *Outcome) string {
	if !o.HasViolation {
		return "no violation given"
	}
	return o.Violation.Code + " - " + o.Violation.Reason
}

func strPtr(s string) *string { return &s }

// raiseParts says how a driver builds the error of a failed call (on_error fail): a
// PluginError the plugin raised escapes as is; any other error or timeout becomes a new
// PluginError with the plugin's exception as its cause.
func (r *Run) raiseParts(s *Step, o *Outcome) {
	s.raise.Own = o.Status == OutcomePluginError
	s.raise.Cause = !s.raise.Own
}
