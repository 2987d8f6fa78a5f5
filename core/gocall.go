package core

import (
	"context"
	"errors"
	"fmt"
	"os"
	"reflect"
	"time"
)

// callGo runs one Go plugin call with the timeout, containing panics, and classifies
// how it ended. The returned Outcome has everything but Index, Mod and Ext.
func callGo(ctx context.Context, ref *Ref, hook string, in *Payload, pctx *PluginContext, timeout time.Duration) (*Result, Outcome) {
	var o Outcome
	res, _ := callGoAt(ctx, new(callCtx), ref, hook, in, pctx, timeout, nanotime(), &o)
	return res, o
}

// callGoAt is callGo for a chain: start is the clock reading at the call's start (the
// Go driver passes the previous plugin's end, so a chain reads the clock once per
// plugin boundary), o must be zero and receives the outcome, and the clock reading at
// the call's end is returned. The plugin gets cc as its context (a zero callCtx of its
// own, no other call's), a child of ctx with the call's deadline, cancelled when the call
// returns.
func callGoAt(ctx context.Context, cc *callCtx, ref *Ref, hook string, in *Payload, pctx *PluginContext, timeout time.Duration, start int64, o *Outcome) (*Result, int64) {
	cc.init(ctx, start, timeout)
	var res *Result
	var err error
	if got := payloadNotObject(in); got != "" {
		err = &PayloadKindError{Plugin: ref.Name, Got: got}
	} else {
		res, err = invokeGuarded(ref.Plugin, cc, hook, in, pctx)
	}
	end := nanotime()
	o.DurationNs = end - start
	expired := end >= cc.own
	cc.release()
	if err != nil {
		o.err = err
		var pe *PluginError
		var ve *ViolationError
		switch {
		case errors.As(err, &ve):
			o.Status, o.Message = OutcomeViolationError, ve.Message
			if ve.Violation != nil {
				o.HasViolation, o.Violation = true, factsOf(ve.Violation)
			}
		case expired && (errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled)):
			o.Status = OutcomeTimeout
		case errors.As(err, &pe):
			o.Status, o.Message = OutcomePluginError, pe.Message
		case errors.Is(err, context.DeadlineExceeded) || errors.Is(err, os.ErrDeadlineExceeded):
			// A deadline of the plugin's own passed before the executor's (a sub-context,
			// a connection deadline): the Go form of a Python plugin raising TimeoutError,
			// which Run treats as the executor's timeout.
			o.Status, o.Message = OutcomeTimeoutRaised, err.Error()
		default:
			o.Status, o.Message = OutcomeError, err.Error()
		}
		return nil, end
	}
	if expired {
		// The plugin returned after its deadline: upstream would have cancelled it.
		o.Status, o.err = OutcomeTimeout, context.DeadlineExceeded
		return nil, end
	}
	o.Status, o.Continue = OutcomeOK, true
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
func invokeGuarded(p Plugin, cc context.Context, hook string, in *Payload, pctx *PluginContext) (res *Result, err error) {
	defer func() {
		if v := recover(); v != nil {
			res, err = nil, &panicError{value: v}
		}
	}()
	return p.Invoke(cc, hook, in, pctx)
}

type panicError struct{ value any }

func (p *panicError) Error() string { return fmt.Sprintf("panic: %v", p.value) }

func factsOf(v *Violation) ViolationFacts {
	return ViolationFacts{Reason: v.Reason, Code: v.Code, Description: v.Description}
}

// candidateOf turns a Go plugin's modified payload into a candidate (the Go
// counterpart of the Python driver's _candidate): Any takes the new tree as is, Policy
// keeps the changed top-level fields the policy allows (applied to the input, which is
// the current-or-original payload), None yields nothing. Rejected fields are logged.
// inIsCurrent: in is the current payload (some modification was accepted before);
// handing back the original while nothing is current is a modification upstream.
func candidateOf(p *Plan, apply Apply, in *Payload, mod any, inIsCurrent bool) (Mod, *Payload, string) {
	if mod == nil {
		return ModNone, nil, ""
	}
	switch apply {
	case ApplyAny:
		if inIsCurrent && in.isDecoded() && sameTree(in.value, mod) {
			return ModSame, in, ""
		}
		return ModCandidate, NewPayloadValue(mod), ""
	case ApplyPolicy:
		if p.Type.OtherResultType {
			return ModOtherType, NewPayloadValue(mod), ""
		}
		newMap, ok := mod.(map[string]any)
		if !ok {
			return ModIgnored, nil, ""
		}
		inv, err := in.Value()
		if err != nil {
			return ModIgnored, nil, ""
		}
		old, ok := inv.(map[string]any)
		if !ok {
			return ModIgnored, nil, ""
		}
		var changed []string
		for k, v := range newMap {
			if ov, had := old[k]; had && reflect.DeepEqual(ov, v) {
				continue
			}
			changed = append(changed, k)
		}
		verdict := PolicyDecision(p.Hook, changed, p.Writable)
		if len(verdict.Accepted) == 0 {
			return ModRejected, nil, verdict.Warning
		}
		out := make(map[string]any, len(old)+len(verdict.Accepted))
		for k, v := range old {
			out[k] = v
		}
		for _, k := range verdict.Accepted {
			out[k] = newMap[k]
		}
		return ModCandidate, NewPayloadValue(out), verdict.Warning
	}
	return ModIgnored, nil, ""
}

// sameTree reports whether b is the very tree a (a plugin handing its input back).
func sameTree(a, b any) bool {
	ma, ok1 := a.(map[string]any)
	mb, ok2 := b.(map[string]any)
	return ok1 && ok2 && ma != nil && reflect.ValueOf(ma).UnsafePointer() == reflect.ValueOf(mb).UnsafePointer()
}
