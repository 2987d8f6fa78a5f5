package host

import (
	"context"
	"time"

	"github.com/cpex-go/cpex/core/engine"
	"github.com/cpex-go/cpex/core/plugin"
)

// One Go plugin call goes through the parts of callChain, in order: a span, the deadline
// (and the timing it shares a clock with), the payload-kind check, panic recovery, then
// the plugin. A call is a goCall the host fills (in its run's slab where it has one:
// nothing here allocates). Panic recovery is a deferred recover per call
// (invokeRecovered), except for the Go driver's untraced serial calls, whose panics the
// driver recovers once per chain (goCall.guard, goDriver.steps): a defer per call was
// ~5 % of a chain of no-op plugins.

// goCall is one Go plugin call as callChain runs it.
type goCall struct {
	ref     *engine.Ref
	hook    string
	in      *plugin.Payload
	pc      *plugin.PluginContext
	timeout time.Duration

	// start: the clock at the call's start, or 0 to read it at the call (the Go driver
	// passes the previous plugin's end, so a chain reads the clock once per plugin
	// boundary); end: the clock when the plugin returned; expired: its deadline passed.
	start, end int64
	expired    bool

	span   *callSpan  // a traced call's per-plugin span, nil for none
	tracer CallTracer // the manager's CallTracer (core/otelspan), nil for none

	// objectIn: the caller found in an object already (a payload's kind never changes),
	// so the call skips the check.
	objectIn bool

	// guard, when set, is the Go driver's note of the serial call in flight: its
	// steps recover the plugin's panic, and callChain clears it when the plugin returned.
	guard *int

	// cc becomes the plugin's context.Context: a zero callCtx of its own, never another
	// call's (a plugin may keep its ctx), so it lives in the caller's slab, not here: the
	// host.ExecGo reuses one goCall for a go step's serial calls.
	cc *callCtx
}

// ownCall is a goCall with its own context, for calls made one by one (callGo).
type ownCall struct {
	call goCall
	cc   callCtx
}

func newCall(ref *engine.Ref, hook string, in *plugin.Payload, pc *plugin.PluginContext, timeout time.Duration) *goCall {
	oc := &ownCall{call: goCall{ref: ref, hook: hook, in: in, pc: pc, timeout: timeout}}
	oc.call.cc = &oc.cc
	return &oc.call
}

// callSpan is what a traced call's span needs: the trace id, the observer that records
// it, and the timeout as the span states it (only traced calls pay for it).
type callSpan struct {
	trace    string
	observer Observer
	secs     float64
}

// callChain runs one call through its parts, outermost first. They run flat in this
// one frame, not as nested interceptors (grpc-go's shape, tried first): the nested
// frames cost +17% on InvokeAllModes, whose concurrent and fire-and-forget calls run on
// fresh goroutines and grew their stacks; the flat form measured as the code before it.
func callChain(ctx context.Context, c *goCall) (res *plugin.Result, err error) {
	var span string
	if c.span != nil {
		span = c.span.start(c)
	}
	// The deadline: the plugin's context is a child of ctx with the call's deadline,
	// cancelled when the call returns. Start and end read the clock once each: the call's
	// duration and whether its deadline passed come from the same readings. (Written out
	// here: as functions of their own they were not inlined, two calls per plugin.)
	if c.start == 0 {
		c.start = nanotime()
	}
	c.cc.init(ctx, c.start, c.timeout)
	if got := c.notObject(); got != "" {
		// the plugin never sees a payload that is not an object
		err = &plugin.PayloadKindError{Plugin: c.ref.Name, Got: got}
	} else if c.guard != nil {
		// a caller up the stack recovers a panic (goDriver.steps): no defer per call
		res, err = c.ref.Plugin.Invoke(c.cc, c.hook, c.in, c.pc)
		*c.guard = 0
	} else {
		res, err = invokeRecovered(c)
	}
	c.end = nanotime()
	c.expired = c.end >= c.cc.own
	c.cc.release()
	if c.span != nil {
		c.span.end(span, c, res, err)
	}
	return res, err
}

// notObject is plugin.PayloadNotObject of the call's payload, unless the caller already
// found it an object (objectIn).
func (c *goCall) notObject() string {
	if c.objectIn {
		return ""
	}
	return plugin.PayloadNotObject(c.in)
}

// invokeRecovered calls the plugin and turns a panic into its error (the deferred
// recover sits in this frame, not the host's).
func invokeRecovered(c *goCall) (res *plugin.Result, err error) {
	defer func() {
		if v := recover(); v != nil {
			res, err = nil, &panicError{value: v}
		}
	}()
	return c.ref.Plugin.Invoke(c.cc, c.hook, c.in, c.pc)
}

// start and end are apart from callChain so that its frame stays small: every call,
// traced or not, goes through it, often on a fresh goroutine's stack.
//
//go:noinline
func (sp *callSpan) start(c *goCall) string {
	return startSpan(sp.observer, sp.trace, "plugin.execute."+c.ref.Name, "plugin", c.ref.Name, PluginSpanAttrs(c.ref, sp.secs))
}

//go:noinline
func (sp *callSpan) end(id string, c *goCall, res *plugin.Result, err error) {
	if err != nil || c.expired {
		endSpan(sp.observer, id, "error", nil)
		return
	}
	endSpan(sp.observer, id, "ok", map[string]any{
		"plugin.had_violation":    res != nil && res.Violation != nil,
		"plugin.modified_payload": res != nil && res.ModifiedPayload != nil,
	})
}
