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
func callGo(ctx context.Context, ref *engine.Ref, hook string, in *plugin.Payload, pctx *plugin.PluginContext, timeout time.Duration) (*plugin.Result, engine.Outcome) {
	var o engine.Outcome
	res, _ := callGoAt(ctx, new(callCtx), ref, hook, in, pctx, timeout, nanotime(), &o)
	return res, o
}

// callGoAt is callGo for a chain: start is the clock reading at the call's start (the
// Go driver passes the previous plugin's end, so a chain reads the clock once per
// plugin boundary), o must be zero and receives the outcome, and the clock reading at
// the call's end is returned. The plugin gets cc as its context (a zero callCtx of its
// own, no other call's), a child of ctx with the call's deadline, cancelled when the call
// returns.
func callGoAt(ctx context.Context, cc *callCtx, ref *engine.Ref, hook string, in *plugin.Payload, pctx *plugin.PluginContext, timeout time.Duration, start int64, o *engine.Outcome) (*plugin.Result, int64) {
	cc.init(ctx, start, timeout)
	var res *plugin.Result
	var err error
	if got := plugin.PayloadNotObject(in); got != "" {
		err = &plugin.PayloadKindError{Plugin: ref.Name, Got: got}
	} else {
		res, err = invokeGuarded(ref.Plugin, cc, hook, in, pctx)
	}
	end := nanotime()
	o.DurationNs = end - start
	expired := end >= cc.own
	cc.release()
	if err != nil {
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
		return nil, end
	}
	if expired {
		// The plugin returned after its deadline: upstream would have cancelled it.
		o.Status, o.Err = engine.OutcomeTimeout, context.DeadlineExceeded
		return nil, end
	}
	o.Status, o.Continue = engine.OutcomeOK, true
	if res != nil {
		o.Continue = !res.Block
		o.Retry = res.RetryDelayMs
		if res.Violation != nil {
			o.HasViolation, o.Violation = true, factsOf(res.Violation)
		}
	}
	return res, end
}

// invokeGuarded calls the plugin and turns a panic into an error (a separate function:
// its deferred recover must not sit in the caller's frame).
func invokeGuarded(p plugin.Plugin, cc context.Context, hook string, in *plugin.Payload, pctx *plugin.PluginContext) (res *plugin.Result, err error) {
	defer func() {
		if v := recover(); v != nil {
			res, err = nil, &panicError{value: v}
		}
	}()
	return p.Invoke(cc, hook, in, pctx)
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
