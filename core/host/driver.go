package host

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"time"
	"unsafe"

	"github.com/cpex-go/cpex/core/engine"
	"github.com/cpex-go/cpex/core/plugin"
)

// goDriver carries out the steps of a Run for Go callers: Go plugins are called
// natively, the concurrent phase runs on goroutines, fire-and-forget plugins on
// tracked goroutines. It owns the data the Run does not: payloads, contexts, metadata.
type goDriver struct {
	m     *Manager
	ctx   context.Context
	run   *engine.Run
	r     engine.Run // the run itself, embedded: one allocation for both
	plan  *engine.Plan
	trace string

	original  *plugin.Payload
	current   *plugin.Payload
	candidate *plugin.Payload
	gctx      *plugin.GlobalContext
	local     plugin.ContextTable
	meta      map[string]any
	// opt: the call's options (invokeOptions): ext is every plugin's
	// PluginContext.Extensions (WithExtensions), noTable asks for no table back
	// (WithoutContextTable), into is the caller's result to fill (InvokeHookInto, nil for
	// a new one), noRecords asks for no records back (WithoutRecords: the run writes
	// them into recs, this driver's own array, which outlives the call, not reset;
	// nothing the call returns points into it).
	opt invokeOptions

	// slots: per plan index, the call's contexts (one slab per run: never another
	// run's)
	slots []ctxSlot
	// tabs: per plan index, the context the returned table holds for it (nil when none
	// was prepared); keys: its table key (rid + uuid), built only when the caller's table
	// is read (keyed). Both arrays are the driver's own, kept from call to call (not
	// reset): they are cleared or overwritten before a run and nothing the call returns
	// points into them (a table is a map of its own); until then a driver in the pool
	// keeps its last run's contexts alive, no longer than the pool keeps it. Outside the
	// slab, which the allocator hands out in size classes: 176 bytes a slot with them,
	// 152 without (10 slots: 1792 → 1536 bytes).
	tabs    []*plugin.PluginContext
	keys    []string
	keyed   bool
	recs    []plugin.ExecutionRecord
	timeout time.Duration // the run's per-plugin timeout
	// inPlugin is the plan index + 1 of the serial plugin running under steps' recover,
	// 0 when none; callStart is its start on the clock.
	inPlugin  int
	callStart int64
	// objectIn is the last payload found to be an object (plugin.PayloadNotObject): the
	// serial calls on it skip the check.
	objectIn *plugin.Payload
	viols    map[int]*plugin.Violation
	errs     map[int]error
	chain    string
	hasCSp   bool
	// clock is the end of the previous serial plugin when only fixed-cost driver work
	// happened since (no logs, spans, merges, candidates): the next plugin's start, so a
	// chain reads the clock once per boundary. 0: read it afresh.
	clock int64
}

// ctxSlot is one plan index's PluginContext, used when the caller passed none for it,
// and the context.Context of its serial call. The slab is made per run, and a plan
// index is called at most once per run in a serial phase: neither is ever another
// call's.
type ctxSlot struct {
	pc plugin.PluginContext
	cc callCtx
}

// drivers recycles goDriver values (with their embedded Run): a call of a short chain
// would otherwise spend more on allocating and collecting them than on its plugins.
// Nothing a call returns points into a goDriver.
var drivers = sync.Pool{New: func() any { return new(goDriver) }}

// drive runs plan to its end.
func (m *Manager) drive(ctx context.Context, plan *engine.Plan, payload *plugin.Payload, gctx *plugin.GlobalContext, local plugin.ContextTable, io *invokeOptions) (*HookResult, plugin.ContextTable, error) {
	d := drivers.Get().(*goDriver)
	d.reset(m, ctx, plan, payload, gctx, local, io)
	defer drivers.Put(d) // its fields are overwritten by the next Get: no zeroing here
	if m.observer != nil {
		d.trace = TraceID(ctx)
	}
	var facts engine.Facts
	d.facts(&facts, io)
	run := &d.r
	var records []plugin.ExecutionRecord // nil: the run makes the array the result returns
	switch {
	case io.noRecords:
		if cap(d.recs) < len(plan.Refs) {
			d.recs = make([]plugin.ExecutionRecord, 0, len(plan.Refs))
		}
		records = d.recs
	case io.into != nil:
		records = io.into.Executions
	}
	step := m.exec.StartIntoRecords(run, plan, &facts, records)
	d.run = run
	d.timeout = m.timeout(run)
	n := len(plan.Refs)
	d.slots = make([]ctxSlot, n)
	if cap(d.tabs) < n {
		d.tabs = make([]*plugin.PluginContext, n)
	} else {
		d.tabs = d.tabs[:n]
		clear(d.tabs) // ~45 instructions (a loop of pointer stores: ~17 each)
	}
	for {
		res, table, err, resume := d.steps(step)
		if resume == nil {
			return res, table, err
		}
		step = resume // a serial plugin panicked: its outcome is reported, go on
	}
}

// steps carries out the run's steps from step on. It recovers the panic of a serial
// plugin (one defer for the whole chain instead of one per call, goCall.guard): the
// call ends as invokeRecovered would have ended it, and steps returns the step after
// it in resume. Any other panic is not the plugin's and goes on up.
func (d *goDriver) steps(step *engine.Step) (_ *HookResult, _ plugin.ContextTable, err error, resume *engine.Step) {
	defer func() {
		if d.inPlugin != 0 {
			if v := recover(); v != nil {
				resume, err = d.recovered(v)
			}
		}
	}()
	m, ctx, plan, run := d.m, d.ctx, d.plan, d.run
	for {
		if len(step.Logs) > 0 {
			m.emit(step.Logs)
			d.clock = 0
		}
		if step.Answer {
			if step.Commit {
				d.current = d.candidate
			}
			if d.candidate != nil { // a pointer write into the pooled driver is a write barrier while the GC marks
				d.candidate = nil
			}
		}
		if step.ChainSpan && d.trace != "" {
			d.chain, d.hasCSp = startSpan(m.observer, d.trace, "plugin.hook.invoke", "", "", run.ChainSpanAttrs()), true
		}
		switch step.Op {
		case engine.OpCall:
			var o engine.Outcome
			d.call(step.Call(), &o)
			if cerr := ctx.Err(); cerr != nil {
				return nil, nil, fmt.Errorf("hook %s: %w", plan.Hook, cerr), nil
			}
			step, err = run.Report(&o)
		case engine.OpConcurrent:
			step, err = d.concurrent(*step.Concurrent())
			d.clock = 0
		case engine.OpDone:
			res := d.done(step)
			return res, d.contextTable(), nil, nil
		case engine.OpRaise:
			return nil, nil, d.raise(step.Raise()), nil
		default:
			return nil, nil, fmt.Errorf("hook %s: unexpected step %s", plan.Hook, step.Op), nil
		}
		if err != nil {
			return nil, nil, fmt.Errorf("hook %s: %w", plan.Hook, err), nil
		}
	}
}

// recovered ends the serial call in flight, whose plugin panicked with v, as
// invokeRecovered and classifyCall would have (a panicError, the clock read at its end,
// its context released), reports it, and answers the next step (nil and the error when
// the run cannot go on).
func (d *goDriver) recovered(v any) (*engine.Step, error) {
	i := d.inPlugin - 1
	d.inPlugin = 0
	cc := &d.slots[i].cc
	end := nanotime()
	expired := end >= cc.own
	cc.release()
	var o engine.Outcome
	perr := &panicError{value: v}
	classifyErr(&o, perr, expired)
	o.DurationNs, o.Index = end-d.callStart, i
	d.clock = 0
	d.noteErr(i, perr)
	if cerr := d.ctx.Err(); cerr != nil {
		return nil, fmt.Errorf("hook %s: %w", d.plan.Hook, cerr)
	}
	next, err := d.run.Report(&o)
	if err != nil {
		return nil, fmt.Errorf("hook %s: %w", d.plan.Hook, err)
	}
	return next, nil
}

// reset readies a recycled driver for a call. Field by field, not *d = goDriver{...}:
// that would clear the embedded Run (StartInto initialises it) too, a large copy with
// write barriers on every call. Nothing a plugin is handed lives in the driver.
// TestDriverResetClearsEveryField keeps this list complete.
func (d *goDriver) reset(m *Manager, ctx context.Context, plan *engine.Plan, payload *plugin.Payload, gctx *plugin.GlobalContext, local plugin.ContextTable, io *invokeOptions) {
	d.m, d.ctx, d.run, d.plan, d.trace = m, ctx, nil, plan, ""
	d.original, d.current, d.candidate, d.gctx = payload, nil, nil, gctx
	d.local, d.meta, d.slots, d.keyed, d.timeout, d.objectIn = local, nil, nil, false, 0, nil
	d.opt = *io
	d.inPlugin, d.callStart = 0, 0
	d.viols, d.errs, d.chain, d.hasCSp, d.clock = nil, nil, "", false, 0
}

// facts: only what the plan needs is computed (no payload decode otherwise).
func (d *goDriver) facts(f *engine.Facts, io *invokeOptions) {
	g := d.gctx
	f.RequestID, f.Pool, f.ViolationsAsErrors, f.Trace = g.RequestID, d.m.pool, io.vexc, d.trace != ""
	if io.pool >= 0 {
		f.Pool = io.pool
	}
	d.plan.PayloadFacts(f, g, d.original)
}

func (d *goDriver) effective() *plugin.Payload {
	if d.current != nil {
		return d.current
	}
	return d.original
}

// key is plugin i's context table key (request id + plugin uuid); all the run's keys
// are built at once, in one buffer, on first use (the table at the end of the run, or a
// lookup in the caller's table).
func (d *goDriver) key(i int) string {
	if !d.keyed {
		d.buildKeys()
	}
	return d.keys[i]
}

func (d *goDriver) buildKeys() {
	rid, refs := d.gctx.RequestID, d.plan.Refs
	buf := make([]byte, 0, len(refs)*len(rid)+d.plan.UUIDBytes())
	if cap(d.keys) < len(refs) {
		d.keys = make([]string, len(refs))
	}
	d.keys = d.keys[:len(refs)]
	for j, r := range refs {
		at := len(buf)
		buf = append(buf, rid...)
		buf = append(buf, r.UUID...)
		// a key's bytes are never written again (append writes past them, or moves on to a
		// new array when the plan's size was short)
		d.keys[j] = unsafe.String(unsafe.SliceData(buf[at:]), len(buf)-at)
	}
	d.keyed = true
}

// context prepares plugin i's context (spec §13.2): a snapshot of the shared state and
// metadata, the caller's context object reused when reuse and the table has one. The
// context becomes plugin i's entry of the returned table (contextTable).
func (d *goDriver) context(i int, reuse bool) *plugin.PluginContext {
	var pc *plugin.PluginContext
	if reuse && d.local != nil {
		pc = d.local[d.key(i)]
	}
	if pc == nil {
		pc = &d.slots[i].pc
		if !reuse && d.tabs[i] == pc { // fire-and-forget of a plugin that also ran: a new one
			pc = &plugin.PluginContext{}
		}
	}
	g := d.gctx
	pc.RequestID, pc.User, pc.TenantID, pc.ServerID, pc.ContentType = g.RequestID, g.User, g.TenantID, g.ServerID, g.ContentType
	pc.GlobalState, pc.Metadata = nil, nil
	if len(g.State) > 0 { // tested here: copyMap is not inlined, and most calls have none
		pc.GlobalState = copyMap(g.State)
	}
	if len(g.Metadata) > 0 {
		pc.Metadata = copyMap(g.Metadata)
	}
	pc.Extensions = d.opt.ext
	d.tabs[i] = pc
	return pc
}

// contextTable is the table the call returns: every context the run prepared, by key
// (nil with WithoutContextTable). Built once at the end, in one pass, its keys in one
// buffer: a run that raises never builds it.
func (d *goDriver) contextTable() plugin.ContextTable {
	if d.opt.noTable {
		return nil
	}
	tabs, refs := d.tabs, d.plan.Refs
	t := make(plugin.ContextTable, len(tabs))
	if d.keyed {
		for k, tab := range tabs {
			if tab != nil {
				t[d.keys[k]] = tab
			}
		}
		clear(d.keys) // its strings are the table's now: the pooled driver keeps none
		return t
	}
	rid := d.gctx.RequestID
	buf := make([]byte, 0, len(refs)*len(rid)+d.plan.UUIDBytes())
	for k, tab := range tabs {
		if tab != nil {
			at := len(buf)
			buf = append(buf, rid...)
			buf = append(buf, refs[k].UUID...)
			t[unsafe.String(unsafe.SliceData(buf[at:]), len(buf)-at)] = tab // never written again
		}
	}
	return t
}

func copyMap(m map[string]any) map[string]any {
	if len(m) == 0 {
		return nil
	}
	out := make(map[string]any, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out
}

// afterReturn is what execute_plugin does with a returned result (spec §11.5 2–4).
func (d *goDriver) afterReturn(i int, res *plugin.Result, pc *plugin.PluginContext, merge, meta bool) {
	if merge {
		if len(pc.GlobalState) > 0 {
			if d.gctx.State == nil {
				d.gctx.State = make(map[string]any, len(pc.GlobalState))
			}
			for k, v := range pc.GlobalState {
				d.gctx.State[k] = v
			}
		}
		if len(pc.Metadata) > 0 {
			if d.gctx.Metadata == nil {
				d.gctx.Metadata = make(map[string]any, len(pc.Metadata))
			}
			for k, v := range pc.Metadata {
				d.gctx.Metadata[k] = v
			}
		}
	}
	if res != nil {
		absorbResult(res, i, d.plan.Refs[i].Name, meta, &d.meta, &d.viols)
	}
}

// absorbResult is the part of a normal return that every driver shares (spec §11.5 3–4,
// §11.8): the plugin's metadata, minus the reserved _decision_plugin key, joins the run's
// accumulator when meta is set, and its violation is kept stamped with the trusted
// plugin name (§30.21).
func absorbResult(res *plugin.Result, i int, name string, meta bool, acc *map[string]any, viols *map[int]*plugin.Violation) {
	if meta && len(res.Metadata) > 0 {
		if *acc == nil {
			*acc = make(map[string]any, len(res.Metadata))
		}
		for k, v := range res.Metadata {
			if k != plugin.DecisionPluginKey {
				(*acc)[k] = v
			}
		}
	}
	if res.Violation != nil {
		v := *res.Violation
		v.PluginName = name
		if *viols == nil {
			*viols = map[int]*plugin.Violation{}
		}
		(*viols)[i] = &v
	}
}

func (d *goDriver) noteErr(i int, err error) {
	if d.errs == nil {
		d.errs = map[int]error{}
	}
	d.errs[i] = err
}

// call runs one serial plugin; o (zero) receives its outcome.
func (d *goDriver) call(step *engine.CallStep, o *engine.Outcome) {
	i := step.Index
	ref := d.plan.Refs[i]
	pc := d.context(i, true)
	in := d.effective()
	if in != d.objectIn && plugin.PayloadNotObject(in) == "" {
		d.objectIn = in
	}
	c := &goCall{ref: ref, hook: d.plan.Hook, in: in, pc: pc, timeout: d.timeout, cc: &d.slots[i].cc,
		start: d.clock, tracer: d.m.tracer, objectIn: in == d.objectIn}
	if step.Span && d.trace != "" {
		c.span = &callSpan{trace: d.trace, observer: d.m.observer, secs: step.Timeout}
		c.start = 0 // read after the span started: its work is not the plugin's
	}
	if pc.GlobalState != nil || pc.Metadata != nil {
		c.start = 0 // variable-cost work since the last boundary: not the plugin's
	}
	var res *plugin.Result
	if c.tracer == nil && c.span == nil {
		// callGoAt, written out, under steps' recover (goCall.guard)
		if c.start == 0 {
			c.start = nanotime()
		}
		d.callStart, d.inPlugin, c.guard = c.start, i+1, &d.inPlugin
		res = classifyCall(d.ctx, c, o)
	} else {
		res = callGoAt(d.ctx, c, o)
	}
	end := c.end
	o.Index = i
	d.clock = 0
	if o.Status != engine.OutcomeOK {
		if o.Err != nil {
			d.noteErr(i, o.Err)
		}
		return
	}
	if res == nil {
		d.clock = end
		if step.Merge && (pc.GlobalState != nil || pc.Metadata != nil) {
			d.clock = 0
		}
	}
	if res == nil && (!step.Merge || (pc.GlobalState == nil && pc.Metadata == nil)) {
		return // nothing to merge or absorb (most calls of a chain of guards)
	}
	d.afterReturn(i, res, pc, step.Merge, step.Meta)
	if res != nil && res.ModifiedPayload != nil {
		var msg string
		o.Mod, d.candidate, msg = candidateOf(d.plan, step.Apply, in, res.ModifiedPayload, d.current != nil)
		if msg != "" {
			d.m.emit([]engine.LogEntry{{Level: "warning", Message: msg, Logger: engine.PolicyLogger}})
		}
	}
}

type completion struct {
	i   int
	res *plugin.Result
	o   engine.Outcome
	err error
	pc  *plugin.PluginContext
}

// concurrent runs the concurrent phase on goroutines, bounded by the pool, and
// reports completions in the order they arrive (spec §11.6).
func (d *goDriver) concurrent(step engine.ConcurrentStep) (*engine.Step, error) {
	indices := append([]int(nil), step.Indices...)
	pool := step.Pool
	var span *callSpan // one for the phase's calls (read only)
	if step.Span && d.trace != "" {
		span = &callSpan{trace: d.trace, observer: d.m.observer, secs: step.Timeout}
	}
	hook, timeout := d.plan.Hook, d.timeout
	calls := make([]ownCall, len(indices)) // one allocation for the phase, made here, not on the goroutines
	for k, i := range indices {
		calls[k].call = goCall{ref: d.plan.Refs[i], hook: hook, pc: d.context(i, true), timeout: timeout, span: span, tracer: d.m.tracer, cc: &calls[k].cc}
	}
	in := d.effective()
	cctx, cancel := context.WithCancel(d.ctx)
	defer cancel()
	out := make(chan completion, len(indices))
	sem := newPool(pool, len(indices))
	var wg sync.WaitGroup
	for k, i := range indices {
		c := &calls[k].call
		c.in = in
		wg.Add(1)
		goWork(func() {
			defer wg.Done()
			if !sem.enter(cctx) {
				return
			}
			defer sem.leave()
			var o engine.Outcome
			res := callGoAt(cctx, c, &o)
			o.Index = i // its DurationNs feeds metrics only: concurrent records carry none
			out <- completion{i: i, res: res, o: o, err: o.Err, pc: c.pc}
		})
	}
	defer wg.Wait() // cancelled siblings are awaited, as upstream awaits cancelled tasks
	for range indices {
		c := <-out
		d.complete(c)
		next, err := d.run.Report(&c.o)
		if err != nil {
			return nil, err
		}
		if next.Op != engine.OpNext {
			if engine.Cancels(next) {
				cancel()
			}
			// Siblings that completed but were not consumed still had their state
			// merged (quirk §30.11), and get no record.
			for {
				select {
				case c := <-out:
					d.complete(c)
					continue
				default:
				}
				break
			}
			return next, nil
		}
		if len(next.Logs) > 0 {
			d.m.emit(next.Logs)
		}
	}
	return nil, fmt.Errorf("the concurrent phase ended without a final step")
}

func (d *goDriver) complete(c completion) {
	if c.o.Status != engine.OutcomeOK {
		if c.err != nil {
			d.noteErr(c.i, c.err)
		}
		return
	}
	d.afterReturn(c.i, c.res, c.pc, true, true)
	if c.res != nil && c.res.ModifiedPayload != nil {
		c.o.Mod = engine.ModIgnored
	}
}

// done builds the result and spawns the fire-and-forget plugins.
func (d *goDriver) done(s *engine.Step) *HookResult {
	step := s.Done()
	r := d.opt.into
	if r == nil {
		r = newResult()
	} else {
		*r = HookResult{}
	}
	r.ContinueProcessing, r.RetryDelayMs, r.Executions, r.Metadata = step.Continue, step.Retry, step.Records, d.meta
	if d.opt.noRecords {
		r.Executions = nil
	}
	if step.Payload {
		r.ModifiedPayload = d.current
	}
	if step.ViolationIndex >= 0 {
		r.Violation = d.viols[step.ViolationIndex]
	}
	if step.Decision != "" {
		if r.Metadata == nil {
			r.Metadata = map[string]any{}
		}
		r.Metadata[plugin.DecisionPluginKey] = step.Decision
	}
	if len(step.FAF) > 0 {
		r.Background = d.spawn(step.FAF)
	}
	if s.ChainEnd && d.hasCSp {
		endSpan(d.m.observer, d.chain, "ok", d.run.ChainEndAttrs())
	}
	return r
}

// spawn starts the fire-and-forget plugins on the original payload, each with a fresh
// context and its own timeout; failures apply on_error (spec §11.9).
func (d *goDriver) spawn(indices []int) *Background {
	bg := &Background{}
	sem := newPool(d.run.Facts().Pool, len(indices))
	ctx := context.WithoutCancel(d.ctx)
	timeout := d.timeout
	// The tasks outlive the call and d is recycled: they capture only these.
	m, hook, original := d.m, d.plan.Hook, d.original
	for _, i := range indices {
		ref := d.plan.Refs[i]
		pc := d.context(i, false)
		bg.wg.Add(1)
		m.bg.Add(1)
		goWork(func() {
			defer m.bg.Done()
			defer bg.wg.Done()
			sem.enter(ctx) // ctx never ends: the task always runs
			defer sem.leave()
			_, o := callGo(ctx, m.tracer, ref, hook, original, pc, timeout)
			m.exec.FireAndForgetDone(ref, hook, &o)
			if o.Status == engine.OutcomeOK {
				return
			}
			v := m.exec.FireAndForgetFailure(ref, &o)
			m.emit([]engine.LogEntry{v.Log})
			bg.fail(&plugin.PluginError{PluginName: ref.Name, Message: v.Message, Timeout: o.Status == engine.OutcomeTimeout, Err: o.Err})
		})
	}
	return bg
}

// raise turns a raise step into the error InvokeHook returns.
func (d *goDriver) raise(step *engine.RaiseStep) error {
	i := step.Index
	switch step.Kind {
	case engine.RaiseSize:
		return &plugin.PayloadSizeError{Message: step.Message}
	case engine.RaiseViolation:
		records := append([]plugin.ExecutionRecord(nil), step.Records...)
		if ve, ok := d.errs[i].(*plugin.ViolationError); ok && step.Own {
			out := *ve
			out.Executions = records
			if out.Violation != nil {
				v := *out.Violation
				v.PluginName = d.plan.Refs[i].Name
				out.Violation = &v
			}
			return &out
		}
		return &plugin.ViolationError{Message: step.Message, Violation: d.viols[i], Executions: records}
	case engine.RaiseTimeout:
		return &plugin.PluginError{PluginName: d.plan.Refs[i].Name, Message: step.Message, Timeout: true}
	}
	if pe, ok := d.errs[i].(*plugin.PluginError); ok && step.Own {
		if pe.PluginName != "" {
			return pe // the plugin's own error, unchanged
		}
		named := *pe // unnamed: name it with the trusted name (a copy: never mutate it)
		named.PluginName = d.plan.Refs[i].Name
		return &named
	}
	err := &plugin.PluginError{PluginName: d.plan.Refs[i].Name, Message: step.Message}
	if step.Cause {
		err.Err = d.errs[i]
	}
	return err
}

func (m *Manager) emit(logs []engine.LogEntry) {
	l := m.logger
	if l == nil {
		return
	}
	for _, e := range logs {
		level := slog.LevelWarn
		switch e.Level {
		case "debug":
			level = slog.LevelDebug
		case "info":
			level = slog.LevelInfo
		case "error":
			level = slog.LevelError
		}
		if e.Logger != "" {
			l.Log(context.Background(), level, e.Message, "logger", e.Logger)
		} else {
			l.Log(context.Background(), level, e.Message)
		}
	}
}

func (m *Manager) timeout(r *engine.Run) time.Duration {
	secs, _ := r.Timeout()
	return time.Duration(secs * float64(time.Second))
}
