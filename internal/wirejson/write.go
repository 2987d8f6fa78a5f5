package wirejson

import (
	"encoding/json"
	"math"
	"slices"
	"strconv"
)

// Writer appends JSON by hand: the wire's steps are answered on every plugin call, and
// encoding/json's reflection would cost more than the rest of the step. B is the text
// written so far; the zero Writer is ready to use. The writer never emits a raw newline
// (every string is escaped, no whitespace between tokens), which the wire's framing
// relies on (docs/protocol.md, "Framing").
type Writer struct{ B []byte }

// Raw appends s as it is (a literal, or JSON text the caller vouches for).
func (w *Writer) Raw(s string) { w.B = append(w.B, s...) }

// Comma appends the separator before a member or element, unless one just opened.
func (w *Writer) Comma() {
	if n := len(w.B); n > 0 && w.B[n-1] != '{' && w.B[n-1] != '[' {
		w.B = append(w.B, ',')
	}
}

// Key appends an object key (a constant of the protocol: written without escaping)
// and its colon, after a comma when a member precedes it.
func (w *Writer) Key(k string) {
	w.Comma()
	w.B = append(w.B, '"')
	w.B = append(w.B, k...)
	w.B = append(w.B, '"', ':')
}

// Int appends n.
func (w *Writer) Int(n int) { w.B = strconv.AppendInt(w.B, int64(n), 10) }

// Int64 appends n.
func (w *Writer) Int64(n int64) { w.B = strconv.AppendInt(w.B, n, 10) }

// Bool appends v.
func (w *Writer) Bool(v bool) { w.B = strconv.AppendBool(w.B, v) }

// Ints appends a list of ints.
func (w *Writer) Ints(xs []int) {
	w.B = append(w.B, '[')
	for i, x := range xs {
		if i > 0 {
			w.B = append(w.B, ',')
		}
		w.B = strconv.AppendInt(w.B, int64(x), 10)
	}
	w.B = append(w.B, ']')
}

// Str appends s as a JSON string; a lone surrogate read with Keep goes back as its
// escape, other invalid UTF-8 as \ufffd.
func (w *Writer) Str(s string) { w.B = AppendQuoted(w.B, s, Keep) }

// Strs appends a list of strings, as Str writes them.
func (w *Writer) Strs(xs []string) {
	w.B = append(w.B, '[')
	for i, x := range xs {
		if i > 0 {
			w.B = append(w.B, ',')
		}
		w.Str(x)
	}
	w.B = append(w.B, ']')
}

// OptStr appends *s, or null.
func (w *Writer) OptStr(s *string) {
	if s == nil {
		w.Raw("null")
		return
	}
	w.Str(*s)
}

// Any appends v as json.Marshal writes it (metadata, violation details: rare values
// of any type).
func (w *Writer) Any(v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	w.B = append(w.B, b...)
	return nil
}

// maxTreeDepth hands deeper subtrees to json.Marshal, which detects cycles there.
const maxTreeDepth = 512

// Value appends v, a payload tree (what Decode builds, as a plugin changed it), in
// one pass: keys sorted and floats formatted as encoding/json does, strings as
// AppendQuoted writes them with Replace (so encoding/json reads back what it would
// read from json.Marshal's text). Values of other types (a plugin's own structs, ints)
// go through json.Marshal. On an error (NaN, an unsupported type, an invalid
// json.Number) it answers json.Marshal's and leaves B as it was.
func (w *Writer) Value(v any) error {
	n := len(w.B)
	if err := w.tree(v, 0); err != nil {
		w.B = w.B[:n]
		if _, jerr := json.Marshal(v); jerr != nil {
			return jerr
		}
		return err // unreachable unless the encoders disagree
	}
	return nil
}

type errUnsupported struct{}

func (errUnsupported) Error() string { return "json: unsupported value" }

func (w *Writer) tree(v any, depth int) error {
	if depth > maxTreeDepth {
		return w.Any(v)
	}
	switch x := v.(type) {
	case nil:
		w.B = append(w.B, "null"...)
	case string:
		w.B = AppendQuoted(w.B, x, Replace)
	case bool:
		w.B = strconv.AppendBool(w.B, x)
	case float64:
		return w.float(x)
	case json.Number:
		s := string(x)
		if s == "" {
			s = "0"
		}
		if !ValidNumber(s) {
			return errUnsupported{}
		}
		w.B = append(w.B, s...)
	case map[string]any:
		if x == nil {
			w.B = append(w.B, "null"...)
			return nil
		}
		// the keys of the small maps plugins return (payloads, metadata) sort on the
		// stack: a slice per map was a tenth of a small Go plugin call's allocations
		var small [16]string
		keys := small[:0]
		if len(x) > len(small) {
			keys = make([]string, 0, len(x))
		}
		for k := range x {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		w.B = append(w.B, '{')
		for i, k := range keys {
			if i > 0 {
				w.B = append(w.B, ',')
			}
			w.B = AppendQuoted(w.B, k, Replace)
			w.B = append(w.B, ':')
			if err := w.tree(x[k], depth+1); err != nil {
				return err
			}
		}
		w.B = append(w.B, '}')
	case int: // the counts plugins put in metadata: json.Marshal's text, without its reflection
		w.B = strconv.AppendInt(w.B, int64(x), 10)
	case int64:
		w.B = strconv.AppendInt(w.B, x, 10)
	case []string: // json.Marshal's text for it, without its reflection
		if x == nil {
			w.B = append(w.B, "null"...)
			return nil
		}
		w.B = append(w.B, '[')
		for i, e := range x {
			if i > 0 {
				w.B = append(w.B, ',')
			}
			w.B = AppendQuoted(w.B, e, Replace)
		}
		w.B = append(w.B, ']')
	case []any:
		if x == nil {
			w.B = append(w.B, "null"...)
			return nil
		}
		w.B = append(w.B, '[')
		for i, e := range x {
			if i > 0 {
				w.B = append(w.B, ',')
			}
			if err := w.tree(e, depth+1); err != nil {
				return err
			}
		}
		w.B = append(w.B, ']')
	default:
		return w.Any(v)
	}
	return nil
}

// float writes f as encoding/json does (shortest repr, exponent form outside
// [1e-6, 1e21), "e-07" shortened to "e-7").
func (w *Writer) float(f float64) error {
	if math.IsInf(f, 0) || math.IsNaN(f) {
		return errUnsupported{}
	}
	format := byte('f')
	if abs := math.Abs(f); abs != 0 && (abs < 1e-6 || abs >= 1e21) {
		format = 'e'
	}
	b := strconv.AppendFloat(w.B, f, format, -1, 64)
	if format == 'e' {
		if n := len(b); n >= 4 && b[n-4] == 'e' && b[n-3] == '-' && b[n-2] == '0' {
			b[n-2] = b[n-1]
			b = b[:n-1]
		}
	}
	w.B = b
	return nil
}

// ValidNumber reports whether s is a JSON number (what encoding/json checks a
// json.Number against).
func ValidNumber(s string) bool {
	if s == "" {
		return false
	}
	end, _, _, _ := numberEnd(s, 0)
	return end == len(s)
}
