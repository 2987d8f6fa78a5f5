package host

import (
	"context"

	"github.com/cpex-go/cpex/core/engine"
)

// Observer receives span boundaries (upstream ObservabilityProvider). Spans are produced
// only when the call's context carries a trace id (WithTraceID) and the manager has an
// observer. Panics in an observer are swallowed, as upstream swallows provider errors.
type Observer interface {
	// StartSpan opens a span and returns its id ("" when it kept none).
	StartSpan(traceID, name, kind, resourceType, resourceName string, attrs map[string]any) string
	// EndSpan closes a span with status "ok" or "error".
	EndSpan(spanID, status string, attrs map[string]any)
}

type traceKey struct{}

// WithTraceID returns a context whose hook calls are traced under id (upstream's
// current_trace_id context variable).
func WithTraceID(ctx context.Context, id string) context.Context {
	return context.WithValue(ctx, traceKey{}, id)
}

// TraceID returns the trace id of ctx, "" when none.
func TraceID(ctx context.Context) string {
	id, _ := ctx.Value(traceKey{}).(string)
	return id
}

func startSpan(o Observer, traceID, name, resType, resName string, attrs map[string]any) (id string) {
	defer func() { _ = recover() }()
	return o.StartSpan(traceID, name, "internal", resType, resName, attrs)
}

func endSpan(o Observer, id, status string, attrs map[string]any) {
	defer func() { _ = recover() }()
	o.EndSpan(id, status, attrs)
}

// PluginSpanAttrs are the attributes of a per-plugin span (spec §20).
func PluginSpanAttrs(ref *engine.Ref, timeout float64) map[string]any {
	return map[string]any{
		"plugin.name": ref.Name, "plugin.uuid": ref.UUID, "plugin.mode": string(ref.Mode),
		"plugin.priority": ref.Priority, "plugin.timeout": timeout,
	}
}
