package host

import (
	"context"
	"errors"
	"fmt"
	"os"
	"reflect"
	"time"

	"github.com/cpex-go/cpex/core/engine"
	"github.com/cpex-go/cpex/core/plugin"
)

// callGo runs one Go plugin call with the timeout, containing panics, and classifies
// how it ended. The returned Outcome has everything but Index, Mod and Ext.
// t is the manager's CallTracer (nil for none).
func callGo(ctx context.Context, t CallTracer, ref *engine.Ref, hook string, in *plugin.Payload, pctx *plugin.PluginContext, timeout time.Duration) (*plugin.Result, engine.Outcome) {
	var o engine.Outcome
	c := newCall(ref, hook, in, pctx, timeout)
	c.tracer = t
	res := callGoAt(ctx, c, &o)
	return res, o
}

// callGoAt runs c through callChain and classifies how it ended into o (zero before).
// c.start may hold the clock at the call's start; c.end holds it at the call's end. A
// call with a tracer runs under the tracer's context and reports its outcome to it.
func callGoAt(ctx context.Context, c *goCall, o *engine.Outcome) *plugin.Result {
	if c.tracer != nil {
		return callTraced(ctx, c, o)
	}
	return classifyCall(ctx, c, o)
}

func callTraced(ctx context.Context, c *goCall, o *engine.Outcome) *plugin.Result {
	tctx, end := c.tracer.StartCall(ctx, c.ref, c.hook)
	res := classifyCall(tctx, c, o)
	endCall(end, o, res)
	return res
}

func classifyCall(ctx context.Context, c *goCall, o *engine.Outcome) *plugin.Result {
	res, err := callChain(ctx, c)
	o.DurationNs = c.end - c.start
	expired := c.expired
	if err != nil {
		classifyErr(o, err, expired)
		return nil
	}
	if expired {
		// The plugin returned after its deadline: upstream would have cancelled it.
		o.Status, o.Err = engine.OutcomeTimeout, context.DeadlineExceeded
		return nil
	}
	o.Status, o.Continue = engine.OutcomeOK, true
	if res != nil {
		o.Continue = !res.Block
		o.Retry = res.RetryDelayMs
		if res.Violation != nil {
			o.HasViolation, o.Violation = true, factsOf(res.Violation)
		}
	}
	return res
}

// classifyErr classifies a call that ended with err (expired: its deadline passed).
func classifyErr(o *engine.Outcome, err error, expired bool) {
	o.Err = err
	var pe *plugin.PluginError
	var ve *plugin.ViolationError
	switch {
	case errors.As(err, &ve):
		o.Status, o.Message = engine.OutcomeViolationError, ve.Message
		if ve.Violation != nil {
			o.HasViolation, o.Violation = true, factsOf(ve.Violation)
		}
	case expired && (errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled)):
		o.Status = engine.OutcomeTimeout
	case errors.As(err, &pe):
		o.Status, o.Message = engine.OutcomePluginError, pe.Message
	case errors.Is(err, context.DeadlineExceeded) || errors.Is(err, os.ErrDeadlineExceeded):
		// A deadline of the plugin's own passed before the executor's (a sub-context,
		// a connection deadline): the Go form of a Python plugin raising TimeoutError,
		// which Run treats as the executor's timeout.
		o.Status, o.Message = engine.OutcomeTimeoutRaised, err.Error()
	default:
		o.Status, o.Message = engine.OutcomeError, err.Error()
	}
}

type panicError struct{ value any }

func (p *panicError) Error() string { return fmt.Sprintf("panic: %v", p.value) }

func factsOf(v *plugin.Violation) engine.ViolationFacts {
	return engine.ViolationFacts{Reason: v.Reason, Code: v.Code, Description: v.Description}
}

// candidateOf turns a Go plugin's modified payload into a candidate (the Go
// counterpart of the Python driver's _candidate): Any takes the new tree as is, Policy
// keeps the changed top-level fields the policy allows (applied to the input, which is
// the current-or-original payload), None yields nothing. Rejected fields are logged.
// inIsCurrent: in is the current payload (some modification was accepted before);
// handing back the original while nothing is current is a modification upstream.
func candidateOf(p *engine.Plan, apply engine.Apply, in *plugin.Payload, mod any, inIsCurrent bool) (engine.Mod, *plugin.Payload, string) {
	if mod == nil {
		return engine.ModNone, nil, ""
	}
	switch apply {
	case engine.ApplyAny:
		if v, ok := in.Decoded(); inIsCurrent && ok && sameTree(v, mod) {
			return engine.ModSame, in, ""
		}
		return engine.ModCandidate, plugin.NewPayloadValue(mod), ""
	case engine.ApplyPolicy:
		if p.Type.OtherResultType {
			return engine.ModOtherType, plugin.NewPayloadValue(mod), ""
		}
		newMap, ok := mod.(map[string]any)
		if !ok {
			return engine.ModIgnored, nil, ""
		}
		inv, err := in.Value()
		if err != nil {
			return engine.ModIgnored, nil, ""
		}
		old, ok := inv.(map[string]any)
		if !ok {
			return engine.ModIgnored, nil, ""
		}
		var changed []string
		for k, v := range newMap {
			if ov, had := old[k]; had && reflect.DeepEqual(ov, v) {
				continue
			}
			changed = append(changed, k)
		}
		verdict := engine.PolicyDecision(p.Hook, changed, p.Writable)
		if len(verdict.Accepted) == 0 {
			return engine.ModRejected, nil, verdict.Warning
		}
		out := make(map[string]any, len(old)+len(verdict.Accepted))
		for k, v := range old {
			out[k] = v
		}
		for _, k := range verdict.Accepted {
			out[k] = newMap[k]
		}
		return engine.ModCandidate, plugin.NewPayloadValue(out), verdict.Warning
	}
	return engine.ModIgnored, nil, ""
}

// sameTree reports whether b is the very tree a (a plugin handing its input back).
func sameTree(a, b any) bool {
	ma, ok1 := a.(map[string]any)
	mb, ok2 := b.(map[string]any)
	return ok1 && ok2 && ma != nil && reflect.ValueOf(ma).UnsafePointer() == reflect.ValueOf(mb).UnsafePointer()
}
