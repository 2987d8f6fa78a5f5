package pybind

import (
	"context"
	"fmt"
	"time"

	"github.com/cpex-go/cpex/core"
)

// A Go plugin's direct call from Python: GoPluginInvoke (exec.go: a Python caller awaiting
// the plugin's hook method) and GoPluginSingle (below: invoke_hook_for_plugin's single
// run, the call and the engine's rule in one crossing). Both answer the same head
// {"cont", "payload", "violation", "metadata", "retry", "async"}, GoPluginSingle adds
// "step"; a modified payload follows as the second frame.

// goCallPlugin runs the plugin; the duration is the call's alone (the outcome's). The
// callers measure the whole crossing into the plugin's off-loop estimate as they return,
// after their answer carried the threshold from the calls before.
func goCallPlugin(ctx context.Context, fn string, p *goPluginEntry, hook string, raw string, pc *core.PluginContext, timeout time.Duration) (*core.Result, int64, error) {
	start := time.Now()
	res, err := core.CallPlugin(ctx, p.plugin, hook, core.NewPayloadText(raw), pc, timeout)
	dur := int64(time.Since(start))
	if err != nil {
		return nil, dur, fmt.Errorf("%s: plugin %q: %w", fn, p.name, err)
	}
	return res, dur, nil
}

// writeInvokeHead writes the answer's head without its closing brace.
func writeInvokeHead(w *jw, fn string, p *goPluginEntry, res *core.Result) error {
	w.Raw(`{"cont":`)
	w.Bool(res == nil || !res.Block)
	w.Raw(`,"payload":`) // the modified payload follows as the second frame (framed)
	w.Bool(res != nil && res.ModifiedPayload != nil)
	w.Raw(`,"violation":`)
	if res != nil && res.Violation != nil {
		v := *res.Violation
		v.PluginName = p.name
		if err := writeViolation(w, &v); err != nil {
			return err
		}
	} else {
		w.Raw("null")
	}
	w.Raw(`,"metadata":`)
	retry := 0
	if res != nil && res.Metadata != nil {
		// wirejson's tree writer: the same text json.Marshal writes for the maps, slices
		// and scalars plugins put there, without its reflection (a fifth of a PII
		// filter call's CPU); other types still go through json.Marshal.
		if err := w.Value(res.Metadata); err != nil {
			return fmt.Errorf("%s: plugin %q: metadata: %w", fn, p.name, err)
		}
	} else {
		w.Raw("{}")
	}
	if res != nil {
		retry = res.RetryDelayMs
	}
	w.Raw(`,"retry":`)
	w.Int(retry)
	// The off-loop threshold for the plugin's next direct call, from its measured cost up
	// to this call: one crossing less per call than asking GoPluginAsync each time.
	w.Raw(`,"async":`)
	w.Int(offLoopFrom(&p.cost, 1, core.IsBlocking(p.plugin)))
	if ignoresContext(p.plugin) {
		// the plugin never reads its PluginContext (builtins.ContextFree): the driver
		// may send only the timeout as the next calls' facts
		w.Raw(`,"ctx":false`)
	}
	return nil
}

// ignoresContext: p declared that its Invoke never reads its PluginContext
// (core/builtins.ContextFree), so its calls need none of the request's facts.
func ignoresContext(p core.Plugin) bool {
	c, ok := p.(interface{ IgnoresContext() bool })
	return ok && c.IgnoresContext()
}

// writeInvokeFrame appends the modified payload frame, if any.
func writeInvokeFrame(w *jw, fn string, p *goPluginEntry, res *core.Result) error {
	if res == nil || res.ModifiedPayload == nil {
		return nil
	}
	w.B = append(w.B, '\n')
	if err := w.Value(res.ModifiedPayload); err != nil {
		return fmt.Errorf("%s: plugin %q: modified payload: %w", fn, p.name, err)
	}
	return nil
}

// GoPluginSingle runs a lone execute_plugin of the Go plugin id under the single rule
// (SingleRule, single.go) in one crossing: the call as GoPluginInvoke makes it, then
// the engine's single run on its outcome, as RunSinglePlain / RunSingleReport would
// decide and count it. The answer is GoPluginInvoke's plus "step": null when the run
// ends with the plugin's own result, else the final step to carry out; false when the
// plugin returned a modified payload: no run is started, the driver validates the
// payload and reports the call (RunSingleReport), so a payload its model rejects is
// decided and counted once, as the hook's error. A call that
// fails (the plugin's error, its timeout, a bad argument) is an error exactly as
// GoPluginInvoke's, and no run is started: the driver reports it as the outcome of a
// call that raised (RunSingleReport), as for any hook.
func GoPluginSingle(rule int, id int, hook string, payload string, facts string) (_ string, err error) {
	defer guard("GoPluginSingle", &err)
	sr, err := singleRuleOf("GoPluginSingle", rule)
	if err != nil {
		return "", err
	}
	// "GoPluginInvoke" in the call's errors: the text a plugin error carries stays the
	// one it had when the driver called the plugin's hook method.
	p, raw, pc, timeout, err := goInvokeInput("GoPluginInvoke", id, payload, facts, true)
	if err != nil {
		return "", err
	}
	defer observeOnLoop(p, len(raw), threadCPU(), time.Now())
	res, dur, err := goCallPlugin(context.Background(), "GoPluginInvoke", p, hook, raw, pc, timeout)
	if err != nil {
		return "", err
	}
	bp := bufs.Get().(*[]byte)
	w := jw{B: (*bp)[:0]}
	defer func() {
		if cap(w.B) <= 1<<16 {
			*bp = w.B
			bufs.Put(bp)
		}
	}()
	if err := writeInvokeHead(&w, "GoPluginSingle", p, res); err != nil {
		return "", err
	}
	if res != nil && res.ModifiedPayload != nil {
		// The driver validates the payload into its model before anything is decided or
		// counted: a payload the model rejects is the hook's error, reported (and counted)
		// once, as on the general path. It reports the call itself (RunSingleReport).
		w.Raw(`,"step":false}`)
	} else {
		o := singleOutcome(res, dur)
		step, err := sr.finish("GoPluginSingle", &o)
		if err != nil {
			return "", err
		}
		w.Raw(`,"step":`)
		if step == "" {
			w.Raw("null")
		} else {
			w.Raw(step)
		}
		w.Raw("}")
	}
	if err := writeInvokeFrame(&w, "GoPluginSingle", p, res); err != nil {
		return "", err
	}
	return string(w.B), nil
}

// singleOutcome is the outcome the driver reports for the result it builds from
// GoPluginInvoke's answer (run.py _outcome_fields): a modified payload is validated
// into the input's own model type, a new object ("same", not the current payload).
func singleOutcome(res *core.Result, dur int64) core.Outcome {
	o := core.Outcome{Status: core.OutcomeOK, Continue: true, DurationNs: dur}
	if res == nil {
		return o
	}
	o.Continue = !res.Block
	if res.ModifiedPayload != nil {
		o.Ret = core.Returned{Kind: core.ReturnedSameType}
	}
	if v := res.Violation; v != nil {
		o.HasViolation = true
		o.Violation = core.ViolationFacts{Reason: v.Reason, Code: v.Code, Description: v.Description}
	}
	o.Retry = res.RetryDelayMs
	return o
}

// cpuCheckFrom: a direct call on the caller's thread whose wall time reaches it is
// measured in CPU time too. Below it the wall time is the cost (one clock read, no
// system call); above it a busy machine may have descheduled the thread in the middle
// of a cheap call, and that wall time would move the plugin's next calls off the loop
// (the estimate rises half way toward a slow run, see core.LoopCost), where each costs
// ~150 µs more: the p99 of a loaded run. Half the budget: a run at or above it is the
// only kind that can push a small payload's estimate over the budget.
var cpuCheckFrom = loopBudget / 2

// observeOnLoop measures a direct call that ran on the caller's thread into the plugin's
// off-loop estimate: its wall time, or its CPU time when that is less and the wall time
// reached cpuCheckFrom (cpu0: threadCPU at its start).
func observeOnLoop(p *goPluginEntry, n int, cpu0 int64, start time.Time) {
	p.cost.Observe(n, int64(onLoopCost(cpu0, start)))
}

// onLoopCost is the cost of work that started at start: its wall time, or, when that
// reached cpuCheckFrom and cpu0 ≥ 0 (threadCPU at the start, on the caller's thread),
// the CPU time the thread spent since if that is less.
func onLoopCost(cpu0 int64, start time.Time) time.Duration {
	cost := time.Since(start)
	if cost >= cpuCheckFrom && cpu0 >= 0 {
		if cpu1 := threadCPU(); cpu1 >= cpu0 && time.Duration(cpu1-cpu0) < cost {
			cost = time.Duration(cpu1 - cpu0)
		}
	}
	return cost
}
