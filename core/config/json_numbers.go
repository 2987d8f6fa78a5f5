package config

import "encoding/json"

// NormalizeNumbers turns the json.Number values of a config decoded with UseNumber into
// int (when it fits) or float64, the forms a YAML-loaded config holds and plugin factories
// expect. Maps and lists are copied, never changed in place; nil stays nil.
func NormalizeNumbers(m map[string]any) map[string]any {
	if m == nil {
		return nil
	}
	out := make(map[string]any, len(m))
	for k, v := range m {
		out[k] = normalizeNumber(v)
	}
	return out
}

func normalizeNumber(v any) any {
	switch x := v.(type) {
	case json.Number:
		if i, err := x.Int64(); err == nil {
			return int(i)
		}
		f, _ := x.Float64()
		return f
	case map[string]any:
		return NormalizeNumbers(x)
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = normalizeNumber(e)
		}
		return out
	}
	return v
}
