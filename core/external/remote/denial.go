package remote

import (
	"encoding/json"
	"math"
	"regexp"

	"github.com/cpex-go/cpex/proto/cpexpb"
)

// Denial metrics (cpex 0.1.4's denial_metadata) are opt-in numeric telemetry about a
// block. They travel in result_base.denial_metadata, typed (a Struct number would make
// every integer a double), and are sanitised on both sides as upstream does: at most
// maxDenialMetrics entries (a larger map is dropped whole), keys of 1 to 64 of
// [A-Za-z0-9._-], values booleans, 64-bit integers or finite floats; anything else is
// left out rather than sent.
const maxDenialMetrics = 16

var denialKey = regexp.MustCompile(`^[A-Za-z0-9._-]{1,64}$`)

// SanitizeDenial keeps the safe entries of m (see above): bool, int64 or float64 values.
func SanitizeDenial(m map[string]any) map[string]any {
	out := map[string]any{}
	if len(m) > maxDenialMetrics {
		return out
	}
	for k, v := range m {
		if !denialKey.MatchString(k) {
			continue
		}
		switch x := v.(type) {
		case bool, int64:
			out[k] = x
		case int:
			out[k] = int64(x)
		case float64:
			if !math.IsInf(x, 0) && !math.IsNaN(x) {
				out[k] = x
			}
		case json.Number:
			if i, err := x.Int64(); err == nil {
				out[k] = i
			} else if isIntegerLiteral(x.String()) {
				continue // an integer beyond 64 bits is not a metric
			} else if f, err := x.Float64(); err == nil && !math.IsInf(f, 0) {
				out[k] = f
			}
		}
	}
	return out
}

// DenialToProto is the typed wire form of the safe entries of m.
func DenialToProto(m map[string]any) *cpexpb.DenialMetadata {
	out := &cpexpb.DenialMetadata{Fields: map[string]*cpexpb.DenialMetric{}}
	for k, v := range SanitizeDenial(m) {
		switch x := v.(type) {
		case bool:
			out.Fields[k] = &cpexpb.DenialMetric{Value: &cpexpb.DenialMetric_Boolean{Boolean: x}}
		case int64:
			out.Fields[k] = &cpexpb.DenialMetric{Value: &cpexpb.DenialMetric_Integer{Integer: x}}
		case float64:
			out.Fields[k] = &cpexpb.DenialMetric{Value: &cpexpb.DenialMetric_Floating{Floating: x}}
		}
	}
	return out
}

// DenialFromProto reads a peer's denial metrics, sanitised again (the peer is not
// trusted): integers as int64, floats as float64, booleans as bool.
func DenialFromProto(d *cpexpb.DenialMetadata) map[string]any {
	in := make(map[string]any, len(d.GetFields()))
	for k, m := range d.GetFields() {
		switch v := m.GetValue().(type) {
		case *cpexpb.DenialMetric_Boolean:
			in[k] = v.Boolean
		case *cpexpb.DenialMetric_Integer:
			in[k] = v.Integer
		case *cpexpb.DenialMetric_Floating:
			in[k] = v.Floating
		}
	}
	return SanitizeDenial(in)
}
