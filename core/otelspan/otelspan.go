// Package otelspan gives a Go service an OpenTelemetry span per plugin call:
//
//	m, err := core.NewManager(cfg, otelspan.Option(tracerProvider))
//
// Each Go plugin call of the manager (serial, concurrent and fire-and-forget) runs
// under a span named "plugin.execute.<plugin name>", a child of the span in the hook
// call's context.Context, with the attributes of upstream's per-plugin span (plugin.name,
// plugin.uuid, plugin.mode, plugin.priority) plus plugin.hook.type, and at its end
// plugin.had_violation, plugin.modified_payload, plugin.blocked and an error status for
// an error or a timeout.
//
// It is independent of core.Observer (upstream's ObservabilityProvider contract, kept
// as is): both may be set. A nil provider sets no tracer: a call then costs one nil
// check, nothing else.
package otelspan

import (
	"context"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/trace"

	"github.com/cpex-go/cpex/core"
)

// ScopeName is the instrumentation scope of the spans.
const ScopeName = "github.com/cpex-go/cpex/core/otelspan"

// Option returns the manager option that traces every plugin call with tp; a nil tp
// returns an option that sets nothing.
func Option(tp trace.TracerProvider) core.Option {
	if tp == nil {
		return core.WithCallTracer(nil)
	}
	return core.WithCallTracer(New(tp))
}

// Tracer is a core.CallTracer over an OpenTelemetry tracer.
type Tracer struct {
	tracer trace.Tracer
}

var _ core.CallTracer = (*Tracer)(nil)

// New returns a CallTracer that starts its spans with tp's tracer.
func New(tp trace.TracerProvider) *Tracer {
	return &Tracer{tracer: tp.Tracer(ScopeName)}
}

// StartCall opens the call's span.
func (t *Tracer) StartCall(ctx context.Context, ref *core.Ref, hook string) (context.Context, func(core.CallReport)) {
	ctx, span := t.tracer.Start(ctx, "plugin.execute."+ref.Name, trace.WithSpanKind(trace.SpanKindInternal),
		trace.WithAttributes(
			attribute.String("plugin.name", ref.Name),
			attribute.String("plugin.uuid", ref.UUID),
			attribute.String("plugin.mode", string(ref.Mode)),
			attribute.Int("plugin.priority", ref.Priority),
			attribute.String("plugin.hook.type", hook),
		))
	return ctx, func(r core.CallReport) {
		span.SetAttributes(
			attribute.Bool("plugin.had_violation", r.Violation),
			attribute.Bool("plugin.modified_payload", r.Modified),
			attribute.Bool("plugin.blocked", r.Block),
		)
		switch r.Status {
		case core.OutcomeOK:
			span.SetStatus(codes.Ok, "")
		case core.OutcomeTimeout:
			span.SetStatus(codes.Error, "timeout")
		default:
			if r.Err != nil {
				span.RecordError(r.Err)
			}
			span.SetStatus(codes.Error, r.Message)
		}
		span.End()
	}
}
