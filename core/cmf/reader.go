package cmf

import (
	"encoding/json"
	"fmt"
	"math"
	"slices"
	"strings"
)

// rd reads typed fields out of a decoded JSON object and keeps the first error, so a
// struct literal can read all its fields and the caller checks once.
type rd struct{ err *ValidationError }

func (r *rd) fail(loc []string, typ, msg string) {
	if r.err == nil {
		r.err = &ValidationError{Loc: slices.Clone(loc), Type: typ, Msg: msg}
	}
}

func (r *rd) errOr() error {
	if r.err != nil {
		return r.err
	}
	return nil
}

func at(loc []string, more ...string) []string {
	return append(slices.Clone(loc), more...)
}

func (r *rd) object(v any, loc []string, model string) map[string]any {
	m, ok := v.(map[string]any)
	if !ok && r.err == nil {
		msg := "Input should be a valid dictionary"
		if model != "" {
			msg += " or instance of " + model
		}
		r.fail(loc, "model_type", msg)
	}
	return m
}

func (r *rd) str(m map[string]any, loc []string, key string) string {
	v, ok := m[key]
	if !ok {
		r.fail(at(loc, key), "missing", "Field required")
		return ""
	}
	s, ok := v.(string)
	if !ok {
		r.fail(at(loc, key), "string_type", "Input should be a valid string")
	}
	return s
}

func (r *rd) optStr(m map[string]any, loc []string, key string) *string {
	v, ok := m[key]
	if !ok || v == nil {
		return nil
	}
	s, ok := v.(string)
	if !ok {
		r.fail(at(loc, key), "string_type", "Input should be a valid string")
		return nil
	}
	return &s
}

func (r *rd) optInt(m map[string]any, loc []string, key string) *int64 {
	v, ok := m[key]
	if !ok || v == nil {
		return nil
	}
	var n int64
	switch t := v.(type) {
	case json.Number:
		i, err := t.Int64()
		if err != nil {
			r.fail(at(loc, key), "int_type", "Input should be a valid integer")
			return nil
		}
		n = i
	case float64:
		if t != math.Trunc(t) || math.Abs(t) > 1<<53 {
			r.fail(at(loc, key), "int_type", "Input should be a valid integer")
			return nil
		}
		n = int64(t)
	case int64:
		n = t
	case int:
		n = int64(t)
	default:
		r.fail(at(loc, key), "int_type", "Input should be a valid integer")
		return nil
	}
	return &n
}

func (r *rd) boolean(m map[string]any, loc []string, key string) bool {
	v, ok := m[key]
	if !ok {
		return false
	}
	b, ok := v.(bool)
	if !ok {
		r.fail(at(loc, key), "bool_type", "Input should be a valid boolean")
	}
	return b
}

// dict reads a dict[str, Any] field that defaults to {} when absent.
func (r *rd) dict(m map[string]any, loc []string, key string) map[string]any {
	v, ok := m[key]
	if !ok {
		return map[string]any{}
	}
	d, ok := v.(map[string]any)
	if !ok {
		r.fail(at(loc, key), "dict_type", "Input should be a valid dictionary")
	}
	return d
}

func (r *rd) enum(m map[string]any, loc []string, key string, members []string, required bool) string {
	v, ok := m[key]
	if !ok {
		if required {
			r.fail(at(loc, key), "missing", "Field required")
		}
		return ""
	}
	s, _ := v.(string)
	if !contains(members, s) {
		r.fail(at(loc, key), "enum", "Input should be "+orList(members))
	}
	return s
}

func (r *rd) optEnum(m map[string]any, loc []string, key string, members []string) *string {
	if v, ok := m[key]; !ok || v == nil {
		return nil
	}
	s := r.enum(m, loc, key, members, false)
	return &s
}

func (r *rd) literal(m map[string]any, loc []string, key string, members []string) string {
	v, ok := m[key]
	if !ok {
		r.fail(at(loc, key), "missing", "Field required")
		return ""
	}
	s, _ := v.(string)
	if !contains(members, s) {
		r.fail(at(loc, key), "literal_error", "Input should be "+orList(members))
	}
	return s
}

func contains(list []string, s string) bool { return slices.Contains(list, s) }

func quoteList(list []string) string {
	q := make([]string, len(list))
	for i, s := range list {
		q[i] = "'" + s + "'"
	}
	return strings.Join(q, ", ")
}

// orList spells members the way pydantic does: 'a', 'b' or 'c'.
func orList(list []string) string {
	q := make([]string, len(list))
	for i, s := range list {
		q[i] = "'" + s + "'"
	}
	if len(q) == 1 {
		return q[0]
	}
	return fmt.Sprintf("%s or %s", strings.Join(q[:len(q)-1], ", "), q[len(q)-1])
}

func sortedKeys(m map[string]any) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}
