package host

import (
	"context"

	"github.com/cpex-go/cpex/core/engine"
	"github.com/cpex-go/cpex/core/plugin"
)

// CallTracer wraps every Go plugin call of a Manager (serial, concurrent and
// fire-and-forget): core/otelspan opens an OpenTelemetry span per call with it. It is
// separate from Observer, which keeps upstream's ObservabilityProvider contract (spans
// only under a trace id, string span ids); a tracer sees the call's context.Context, so
// its spans nest under the caller's. With none set a call pays one nil check.
type CallTracer interface {
	// StartCall is called before ref handles hook. The context it returns becomes the
	// parent of the plugin's context; end is called once, when the call returned.
	StartCall(ctx context.Context, ref *engine.Ref, hook string) (_ context.Context, end func(CallReport))
}

// CallReport is what a Go plugin call came to, as the plugin returned it (the executor's
// decision on it, e.g. a block suppressed in audit mode, is the run's).
type CallReport struct {
	Status engine.OutcomeStatus
	// Err is the error the plugin returned (nil for a timeout or a panic).
	Err error
	// Message is the error's text.
	Message string
	// Violation: the result (or a violation error) carried a violation.
	Violation bool
	// Block: the result asked to stop the chain.
	Block bool
	// Modified: the result carried a modified payload.
	Modified bool
	// DurationNs is the call's duration as the executor measured it.
	DurationNs int64
}

// WithCallTracer sets the manager's CallTracer (core/otelspan.Option builds one).
func WithCallTracer(t CallTracer) Option { return func(o *managerOptions) { o.tracer = t } }

// endCall reports the call's outcome to end (nil: not traced).
func endCall(end func(CallReport), o *engine.Outcome, res *plugin.Result) {
	if end == nil {
		return
	}
	r := CallReport{Status: o.Status, Err: o.Err, Message: o.Message, Violation: o.HasViolation, DurationNs: o.DurationNs}
	if res != nil {
		r.Violation = r.Violation || res.Violation != nil
		r.Block = res.Block
		r.Modified = res.ModifiedPayload != nil
	}
	end(r)
}
