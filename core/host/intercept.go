package host

import (
	"context"
	"time"

	"github.com/cpex-go/cpex/core/engine"
	"github.com/cpex-go/cpex/core/plugin"
)

// One Go plugin call goes through a chain of interceptors, in the style of grpc-go's
// unary interceptors: each does its part before and after handing the call on, so
// what a call is wrapped in reads as a list (callChain) and every part is a small
// function of its own. The chain is built once; a call is a goCall the host fills (in
// its run's slab where it has one: nothing here allocates).

// goCall is one Go plugin call as the interceptors see it.
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

	span *callSpan // a traced call's per-plugin span, nil for none

	// cc becomes the plugin's context.Context: a zero callCtx of its own, never another
	// call's (a plugin may keep its ctx), so it lives in the caller's slab, not here: the
	// Go driver reuses one goCall for a run's serial calls.
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

// invoker runs a call; interceptor wraps one (grpc-go's UnaryServerInterceptor shape).
type (
	invoker     func(ctx context.Context, c *goCall) (*plugin.Result, error)
	interceptor func(ctx context.Context, c *goCall, next invoker) (*plugin.Result, error)
)

// chain composes the interceptors around last, the first outermost.
func chain(last invoker, ics ...interceptor) invoker {
	next := last
	for k := len(ics) - 1; k >= 0; k-- {
		ic, inner := ics[k], next
		next = func(ctx context.Context, c *goCall) (*plugin.Result, error) { return ic(ctx, c, inner) }
	}
	return next
}

// callChain is what every Go plugin call runs through, outermost first: the span
// around it all, the deadline (and the timing it shares a clock with), panics turned
// into errors, the payload-kind check, then the plugin.
var callChain = chain(invokePlugin, withSpan, withDeadline, recoverPanic, requireObject)

func invokePlugin(ctx context.Context, c *goCall) (*plugin.Result, error) {
	return c.ref.Plugin.Invoke(ctx, c.hook, c.in, c.pc)
}

// withSpan wraps a traced call in its plugin.execute span (spec §20).
func withSpan(ctx context.Context, c *goCall, next invoker) (*plugin.Result, error) {
	sp := c.span
	if sp == nil {
		return next(ctx, c)
	}
	id := startSpan(sp.observer, sp.trace, "plugin.execute."+c.ref.Name, "plugin", c.ref.Name, PluginSpanAttrs(c.ref, sp.secs))
	res, err := next(ctx, c)
	if err != nil || c.expired {
		endSpan(sp.observer, id, "error", nil)
	} else {
		endSpan(sp.observer, id, "ok", map[string]any{
			"plugin.had_violation":    res != nil && res.Violation != nil,
			"plugin.modified_payload": res != nil && res.ModifiedPayload != nil,
		})
	}
	return res, err
}

// withDeadline gives the plugin its context: a child of ctx with the call's deadline,
// cancelled when the call returns. It reads the clock at both ends: the call's duration
// and whether the deadline passed come from the same readings.
func withDeadline(ctx context.Context, c *goCall, next invoker) (*plugin.Result, error) {
	if c.start == 0 {
		c.start = nanotime()
	}
	c.cc.init(ctx, c.start, c.timeout)
	res, err := next(c.cc, c)
	c.end = nanotime()
	c.expired = c.end >= c.cc.own
	c.cc.release()
	return res, err
}

// recoverPanic turns a panic in the plugin into its error (the deferred recover sits in
// this frame, not the host's).
func recoverPanic(ctx context.Context, c *goCall, next invoker) (res *plugin.Result, err error) {
	defer func() {
		if v := recover(); v != nil {
			res, err = nil, &panicError{value: v}
		}
	}()
	return next(ctx, c)
}

// requireObject refuses a payload that is not a JSON object before the plugin sees it.
func requireObject(ctx context.Context, c *goCall, next invoker) (*plugin.Result, error) {
	if got := plugin.PayloadNotObject(c.in); got != "" {
		return nil, &plugin.PayloadKindError{Plugin: c.ref.Name, Got: got}
	}
	return next(ctx, c)
}
