package host

import (
	"context"
	"errors"
	"sync"
	"time"

	"github.com/cpex-go/cpex/core/engine"
	"github.com/cpex-go/cpex/core/plugin"
)

// Go plugins inside a run driven by a foreign host (the Python driver via pybind): the
// run answers a go step (engine.OpGo), and ExecGo runs its Go plugins here, back to
// back (or together for a concurrent phase), reporting each outcome to the run.

// goCallSlot is what one Go plugin call of a foreign go step is handed.
type goCallSlot struct {
	cc callCtx
	pc plugin.PluginContext
}

// serialCalls recycles the one goCall a go step's serial calls share (each call's
// context is in its slot): it would otherwise cost an allocation per go step.
var serialCalls = sync.Pool{New: func() any { return new(goCall) }}

// GoEffects is what the Go plugins of a go step did to the driver's data.
type GoEffects struct {
	// Payload is the new current payload, nil when unchanged.
	Payload *plugin.Payload
	// Meta is metadata to merge into the run's accumulator (no _decision_plugin).
	Meta map[string]any
	// Ran lists the plugins that ran, in order: each gets a context in the table.
	Ran []int
	// Violations are the Go plugins' violations (PluginName stamped), by index.
	Violations map[int]*plugin.Violation
	// Denials are the denial metadata of the Go plugins' returned results, by index: a
	// violation raised for one of them carries it, as upstream's does for any plugin.
	Denials map[int]map[string]any
	// Logs of every step produced during the go step, in order.
	Logs []engine.LogEntry

	// In is the context state the driver sent for the step (nil: none; foreign_state.go).
	In *GoState
	// Global and Metadata are the shared keys the Go plugins set to a value other than
	// the one sent (nil when none): the driver merges them into its GlobalContext.
	Global, Metadata map[string]any
	// Local is the new local state of each plugin whose state changed, by plan index.
	Local map[int]map[string]any
}

// ExecGo runs the Go plugins of the pending go step on in (the current-or-original
// payload the driver sent) and returns the next step for the driver. A concurrent go
// step whose phase still has foreign plugins is followed by a concurrent step of those.
func ExecGo(ctx context.Context, r *engine.Run, in *plugin.Payload, eff *GoEffects) (*engine.Step, error) {
	step, err := r.ResumeGo()
	if err != nil {
		return nil, err
	}
	secs, _ := r.Timeout()
	timeout := time.Duration(secs * float64(time.Second))
	if step.Op == engine.OpConcurrent {
		next, err := execGoConcurrent(ctx, r, *step.Concurrent(), in, eff, timeout)
		if err != nil {
			return nil, err
		}
		return r.EndGo(next), nil
	}
	cur := in
	shared := newGoShared(eff.In)
	// Every call gets its own context.Context and its own copy of the request facts (a
	// plugin may keep what it was given: nothing it holds is rewritten by a later call),
	// from one slab per go step.
	tmpl := r.ForeignContext()
	slab := make([]goCallSlot, r.GoCallCount())
	if eff.Ran == nil {
		eff.Ran = make([]int, 0, 8)
	}
	hook := r.Plan().Hook
	gc := serialCalls.Get().(*goCall)
	defer func() { *gc = goCall{}; serialCalls.Put(gc) }() // holds no payload once done
	for r.IsGoCall(step) {
		c := step.Call()
		i := c.Index
		ref := r.Ref(i)
		if len(slab) == 0 { // never with a count that is right, but a fresh one is always safe
			slab = make([]goCallSlot, 1)
		}
		sl := &slab[0]
		slab = slab[1:]
		pc := &sl.pc
		*pc = *tmpl
		shared.prepare(i, pc)
		var o engine.Outcome
		*gc = goCall{ref: ref, hook: hook, in: cur, pc: pc, timeout: timeout, cc: &sl.cc}
		res := callGoAt(ctx, gc, &o)
		o.Index = i
		eff.Ran = append(eff.Ran, i)
		if o.Status != engine.OutcomeTimeout { // a plugin past its deadline may still write
			shared.local(i, pc, eff)
		}
		goViolationError(r, i, &o, eff)
		if o.Status == engine.OutcomeOK {
			if c.Merge {
				shared.merge(pc)
			}
			// only a plugin that returned: one that timed out may still hold its maps
			shared.recycle(pc)
		}
		var cand *plugin.Payload
		if o.Status == engine.OutcomeOK && res != nil {
			goAfterReturn(r, i, res, c.Meta, eff)
			if res.ModifiedPayload != nil {
				var msg string
				o.Mod, cand, msg = candidateOf(r.Plan(), c.Apply, cur, res.ModifiedPayload, r.Committed())
				if msg != "" {
					eff.Logs = append(eff.Logs, engine.LogEntry{Level: "warning", Message: msg, Logger: engine.PolicyLogger})
				}
			}
		}
		next, err := r.ReportGo(&o)
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
	shared.finish(eff)
	return r.EndGo(step), nil
}

func execGoConcurrent(ctx context.Context, r *engine.Run, step engine.ConcurrentStep, in *plugin.Payload, eff *GoEffects, timeout time.Duration) (*engine.Step, error) {
	var goIdx, foreign []int
	for _, i := range step.Indices {
		if r.Ref(i).Plugin != nil {
			goIdx = append(goIdx, i)
		} else {
			foreign = append(foreign, i)
		}
	}
	type done struct {
		res *plugin.Result
		o   engine.Outcome
		pc  *plugin.PluginContext
	}
	shared := newGoShared(eff.In)
	defer shared.finish(eff)
	cctx, cancel := context.WithCancel(ctx)
	defer cancel()
	out := make(chan done, len(goIdx))
	sem := newPool(step.Pool, len(goIdx))
	var wg sync.WaitGroup
	for _, i := range goIdx {
		eff.Ran = append(eff.Ran, i)
		ref := r.Ref(i)
		pc := r.ForeignContext()
		shared.prepare(i, pc) // every plugin of the phase sees the state as it stood before it
		wg.Add(1)
		goWork(func() {
			defer wg.Done()
			if !sem.enter(cctx) {
				return
			}
			defer sem.leave()
			res, o := callGo(cctx, nil, ref, r.Plan().Hook, in, pc, timeout)
			o.Index, o.DurationNs = i, 0
			out <- done{res, o, pc}
		})
	}
	defer wg.Wait()
	var next *engine.Step
	for range goIdx {
		c := <-out
		goViolationError(r, c.o.Index, &c.o, eff)
		if c.o.Status != engine.OutcomeTimeout {
			shared.local(c.o.Index, c.pc, eff)
		}
		if c.o.Status == engine.OutcomeOK {
			shared.merge(c.pc)
		}
		if c.o.Status == engine.OutcomeOK && c.res != nil {
			goAfterReturn(r, c.o.Index, c.res, true, eff)
			if c.res.ModifiedPayload != nil {
				c.o.Mod = engine.ModIgnored
			}
		}
		var err error
		next, err = r.ReportGo(&c.o)
		if err != nil {
			return nil, err
		}
		eff.Logs = append(eff.Logs, next.Logs...)
		if next.Op != engine.OpNext {
			if engine.Cancels(next) {
				cancel()
			}
			for {
				select {
				case c := <-out: // completed but not consumed: metadata still merged (quirk §30.11)
					if c.o.Status != engine.OutcomeTimeout {
						shared.local(c.o.Index, c.pc, eff)
					}
					if c.o.Status == engine.OutcomeOK {
						shared.merge(c.pc)
					}
					if c.o.Status == engine.OutcomeOK && c.res != nil {
						goAfterReturn(r, c.o.Index, c.res, true, eff)
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
	step.Indices = foreign
	return r.RestConcurrent(step), nil
}

// goViolationError keeps the violation of a *ViolationError a Go plugin returned.
func goViolationError(r *engine.Run, i int, o *engine.Outcome, eff *GoEffects) {
	if o.Status != engine.OutcomeViolationError {
		return
	}
	keepViolationError(r, i, o.Err, eff)
}

func keepViolationError(r *engine.Run, i int, err error, eff *GoEffects) {
	var ve *plugin.ViolationError
	if !errors.As(err, &ve) || ve.Violation == nil {
		return
	}
	v := *ve.Violation
	v.PluginName = r.Ref(i).Name
	if eff.Violations == nil {
		eff.Violations = map[int]*plugin.Violation{}
	}
	eff.Violations[i] = &v
}

func goAfterReturn(r *engine.Run, i int, res *plugin.Result, meta bool, eff *GoEffects) {
	absorbResult(res, i, r.Ref(i).Name, meta, &eff.Meta, &eff.Violations)
	if len(res.DenialMetadata) > 0 {
		if eff.Denials == nil {
			eff.Denials = map[int]map[string]any{}
		}
		eff.Denials[i] = res.DenialMetadata
	}
}

// CallPlugin runs one Go plugin call directly (no executor rules): the hook method of a
// Go plugin called by a foreign caller. Panics come back as errors; timeout ≤ 0 means
// DefaultTimeout.
func CallPlugin(ctx context.Context, p plugin.Plugin, hook string, in *plugin.Payload, pctx *plugin.PluginContext, timeout time.Duration) (*plugin.Result, error) {
	if timeout <= 0 {
		timeout = plugin.DefaultTimeout * time.Second
	}
	res, o := callGo(ctx, nil, &engine.Ref{Plugin: p}, hook, in, pctx, timeout)
	if o.Status == engine.OutcomeTimeout {
		return nil, context.DeadlineExceeded
	}
	if o.Err != nil {
		return nil, o.Err
	}
	return res, nil
}
