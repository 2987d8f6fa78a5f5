package remote

import (
	"encoding/json"
	"fmt"
	"math"
	"reflect"
	"strconv"

	"google.golang.org/protobuf/types/known/structpb"
)

// MaxExactInt is 2^53: every integer of at most this magnitude is exactly a double,
// the only number google.protobuf.Struct has.
const MaxExactInt = 1 << 53

// RangeError reports an integer that a Struct cannot carry exactly. Upstream's
// json_format.ParseDict rounds such an integer to the nearest double without a word;
// here the conversion fails instead, naming where the number is, so a request id or an
// account number is never changed in transit.
type RangeError struct {
	Path  string // e.g. payload.args.id
	Value string
}

func (e *RangeError) Error() string {
	return fmt.Sprintf("%s: the integer %s is beyond ±2^53 and cannot cross a google.protobuf.Struct exactly (send it as a string)", e.Path, e.Value)
}

// ToStruct converts a JSON object tree (map[string]any with json.Number, float64,
// ints, strings, bools, nil, []any, nested maps, or any value encoding/json accepts) to
// a Struct. where names the tree in errors ("payload", "context.state").
func ToStruct(m map[string]any, where string) (*structpb.Struct, error) {
	out := &structpb.Struct{Fields: make(map[string]*structpb.Value, len(m))}
	for k, v := range m {
		pv, err := ToValue(v, where+"."+k)
		if err != nil {
			return nil, err
		}
		out.Fields[k] = pv
	}
	return out, nil
}

// ToValue converts one JSON value (see ToStruct).
func ToValue(v any, path string) (*structpb.Value, error) {
	switch x := v.(type) {
	case nil:
		return structpb.NewNullValue(), nil
	case bool:
		return structpb.NewBoolValue(x), nil
	case string:
		return structpb.NewStringValue(x), nil
	case json.Number:
		return numberValue(x, path)
	case float64:
		if math.IsNaN(x) || math.IsInf(x, 0) {
			return nil, fmt.Errorf("%s: %v is not a JSON number", path, x)
		}
		return structpb.NewNumberValue(x), nil
	case float32:
		return ToValue(float64(x), path)
	case int:
		return intValue(int64(x), path)
	case int64:
		return intValue(x, path)
	case int32:
		return structpb.NewNumberValue(float64(x)), nil
	case uint64:
		if x > MaxExactInt {
			return nil, &RangeError{Path: path, Value: strconv.FormatUint(x, 10)}
		}
		return structpb.NewNumberValue(float64(x)), nil
	case map[string]any:
		s, err := ToStruct(x, path)
		if err != nil {
			return nil, err
		}
		return structpb.NewStructValue(s), nil
	case []any:
		l := &structpb.ListValue{Values: make([]*structpb.Value, len(x))}
		for i, e := range x {
			pv, err := ToValue(e, fmt.Sprintf("%s[%d]", path, i))
			if err != nil {
				return nil, err
			}
			l.Values[i] = pv
		}
		return structpb.NewListValue(l), nil
	}
	// Anything else (typed maps and slices, structs with json tags): through JSON.
	rv := reflect.ValueOf(v)
	if rv.Kind() == reflect.Pointer && rv.IsNil() {
		return structpb.NewNullValue(), nil
	}
	b, err := json.Marshal(v)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	var tree any
	if err := UnmarshalExact(b, &tree); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return ToValue(tree, path)
}

func intValue(i int64, path string) (*structpb.Value, error) {
	if i > MaxExactInt || i < -MaxExactInt {
		return nil, &RangeError{Path: path, Value: strconv.FormatInt(i, 10)}
	}
	return structpb.NewNumberValue(float64(i)), nil
}

// numberValue: an integer literal must fit the exact range; a literal with a fraction
// or an exponent is a float, and rounds as any JSON float does.
func numberValue(n json.Number, path string) (*structpb.Value, error) {
	if i, err := n.Int64(); err == nil {
		return intValue(i, path)
	}
	f, err := n.Float64()
	if err != nil {
		return nil, fmt.Errorf("%s: %q is not a JSON number", path, string(n))
	}
	if isIntegerLiteral(string(n)) {
		// Beyond int64: certainly beyond 2^53.
		return nil, &RangeError{Path: path, Value: string(n)}
	}
	if math.IsInf(f, 0) {
		return nil, fmt.Errorf("%s: %s overflows a double", path, string(n))
	}
	return structpb.NewNumberValue(f), nil
}

func isIntegerLiteral(s string) bool {
	if s == "" {
		return false
	}
	for i, c := range s {
		if c == '-' && i == 0 {
			continue
		}
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}

// FromStruct converts a Struct to a JSON object tree; nil gives an empty map. Numbers
// come back as json.Number: an integral double within ±2^53 as an integer literal
// ("5", as the sender most likely wrote it), any other as the shortest float literal
// that reads back to the same double.
func FromStruct(s *structpb.Struct) map[string]any {
	out := make(map[string]any, len(s.GetFields()))
	for k, v := range s.GetFields() {
		out[k] = FromValue(v)
	}
	return out
}

// FromValue converts one Struct value (see FromStruct).
func FromValue(v *structpb.Value) any {
	switch k := v.GetKind().(type) {
	case *structpb.Value_BoolValue:
		return k.BoolValue
	case *structpb.Value_StringValue:
		return k.StringValue
	case *structpb.Value_NumberValue:
		return numberJSON(k.NumberValue)
	case *structpb.Value_StructValue:
		return FromStruct(k.StructValue)
	case *structpb.Value_ListValue:
		l := make([]any, len(k.ListValue.GetValues()))
		for i, e := range k.ListValue.GetValues() {
			l[i] = FromValue(e)
		}
		return l
	}
	return nil // null, or no kind set
}

func numberJSON(f float64) any {
	switch {
	case math.IsNaN(f) || math.IsInf(f, 0):
		// Not JSON: keep it a string rather than fail the whole answer.
		return strconv.FormatFloat(f, 'g', -1, 64)
	case f == math.Trunc(f) && math.Abs(f) <= MaxExactInt:
		return json.Number(strconv.FormatInt(int64(f), 10))
	}
	s := strconv.FormatFloat(f, 'g', -1, 64)
	if isIntegerLiteral(s) {
		s += ".0" // an integral double beyond 2^53 stays visibly a float
	}
	return json.Number(s)
}
