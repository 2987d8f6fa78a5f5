package pybind

import (
	"encoding/json"
	"math"
	"slices"
	"strconv"
	"unicode/utf8"
)

// effects.payload carries the new payload as a JSON string holding JSON text. Going
// through json.Marshal and then escaping its output again cost a quarter of a guard
// chain's RunGo, so quotedTree writes the tree straight into that doubly escaped form,
// in one pass. Its output is byte for byte what w.str(string(json.Marshal(v))) writes:
// sorted keys, encoding/json's float format and string escapes (HTML characters,
// U+2028/9, invalid UTF-8 as \ufffd), then quotes and backslashes escaped once more.
// Values of other types (a plugin's own structs, ints) go through json.Marshal and the
// outer escape. The fuzz target checks the identity.

// maxTreeDepth hands deeper subtrees to json.Marshal, which detects cycles there.
const maxTreeDepth = 512

// quotedTree writes v as the JSON string literal of its JSON text. On error (NaN,
// unsupported types, invalid json.Number) it returns json.Marshal's error, and w may
// hold a partial value.
func (w *jw) quotedTree(v any) error {
	w.b = append(w.b, '"')
	if err := w.tree(v, 0); err != nil {
		_, jerr := json.Marshal(v)
		if jerr == nil {
			jerr = err // unreachable unless the encoders disagree
		}
		return jerr
	}
	w.b = append(w.b, '"')
	return nil
}

type errUnsupported struct{}

func (errUnsupported) Error() string { return "json: unsupported value" }

func (w *jw) tree(v any, depth int) error {
	if depth > maxTreeDepth {
		return w.marshalled(v)
	}
	switch x := v.(type) {
	case nil:
		w.b = append(w.b, "null"...)
	case string:
		w.treeStr(x)
	case bool:
		w.b = strconv.AppendBool(w.b, x)
	case float64:
		return w.float(x)
	case json.Number:
		s := string(x)
		if s == "" {
			s = "0"
		}
		if !validNumber(s) {
			return errUnsupported{}
		}
		w.b = append(w.b, s...)
	case map[string]any:
		if x == nil {
			w.b = append(w.b, "null"...)
			return nil
		}
		keys := make([]string, 0, len(x))
		for k := range x {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		w.b = append(w.b, '{')
		for i, k := range keys {
			if i > 0 {
				w.b = append(w.b, ',')
			}
			w.treeStr(k)
			w.b = append(w.b, ':')
			if err := w.tree(x[k], depth+1); err != nil {
				return err
			}
		}
		w.b = append(w.b, '}')
	case []any:
		if x == nil {
			w.b = append(w.b, "null"...)
			return nil
		}
		w.b = append(w.b, '[')
		for i, e := range x {
			if i > 0 {
				w.b = append(w.b, ',')
			}
			if err := w.tree(e, depth+1); err != nil {
				return err
			}
		}
		w.b = append(w.b, ']')
	default:
		return w.marshalled(v)
	}
	return nil
}

// marshalled writes json.Marshal(v) with the outer escape (its text is valid UTF-8
// without control characters, so only quotes and backslashes change).
func (w *jw) marshalled(v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	for _, c := range b {
		if c == '"' || c == '\\' {
			w.b = append(w.b, '\\')
		}
		w.b = append(w.b, c)
	}
	return nil
}

// float writes f as encoding/json does (shortest repr, exponent form outside
// [1e-6, 1e21), "e-07" shortened to "e-7").
func (w *jw) float(f float64) error {
	if math.IsInf(f, 0) || math.IsNaN(f) {
		return errUnsupported{}
	}
	format := byte('f')
	if abs := math.Abs(f); abs != 0 && (abs < 1e-6 || abs >= 1e21) {
		format = 'e'
	}
	b := strconv.AppendFloat(w.b, f, format, -1, 64)
	if format == 'e' {
		if n := len(b); n >= 4 && b[n-4] == 'e' && b[n-3] == '-' && b[n-2] == '0' {
			b[n-2] = b[n-1]
			b = b[:n-1]
		}
	}
	w.b = b
	return nil
}

// treeEsc is the doubly escaped form of each ASCII byte that needs escaping ("" for
// the bytes written as they are): the inner escape of encoding/json followed by the
// outer escape of a JSON string (every backslash and quote preceded by a backslash).
var treeEsc = func() (t [utf8.RuneSelf]string) {
	for c := 0; c < utf8.RuneSelf; c++ {
		inner := ""
		switch c {
		case '"':
			inner = `\"`
		case '\\':
			inner = `\\`
		case '\b':
			inner = `\b`
		case '\f':
			inner = `\f`
		case '\n':
			inner = `\n`
		case '\r':
			inner = `\r`
		case '\t':
			inner = `\t`
		default:
			if c < 0x20 || c == '<' || c == '>' || c == '&' {
				inner = `\u00` + string(hexDigits[c>>4]) + string(hexDigits[c&0xf])
			}
		}
		if inner == "" {
			continue
		}
		outer := make([]byte, 0, 2*len(inner))
		for i := 0; i < len(inner); i++ {
			if inner[i] == '"' || inner[i] == '\\' {
				outer = append(outer, '\\')
			}
			outer = append(outer, inner[i])
		}
		t[c] = string(outer)
	}
	return t
}()

// treeStr writes a string of the tree: its JSON string literal, escaped once more.
func (w *jw) treeStr(s string) {
	b := append(w.b, '\\', '"')
	start := 0
	for i := 0; i < len(s); {
		if i = asIsRun(s, i); i >= len(s) {
			break
		}
		c := s[i]
		if c < utf8.RuneSelf {
			if e := treeEsc[c]; e != "" {
				b = append(b, s[start:i]...)
				b = append(b, e...)
				i++
				start = i
				continue
			}
			i++
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && size == 1:
			b = append(b, s[start:i]...)
			b = append(b, `\\ufffd`...)
		case r == '\u2028' || r == '\u2029':
			b = append(b, s[start:i]...)
			b = append(b, `\\u202`...)
			b = append(b, hexDigits[r&0xf])
		default:
			i += size
			continue
		}
		i += size
		start = i
	}
	b = append(b, s[start:]...)
	w.b = append(b, '\\', '"')
}

// validNumber is the JSON number grammar, which encoding/json checks json.Number against.
func validNumber(s string) bool {
	i := 0
	if i < len(s) && s[i] == '-' {
		i++
	}
	digits := func() bool {
		j := i
		for i < len(s) && s[i] >= '0' && s[i] <= '9' {
			i++
		}
		return i > j
	}
	switch {
	case i < len(s) && s[i] == '0':
		i++
	case !digits():
		return false
	}
	if i < len(s) && s[i] == '.' {
		i++
		if !digits() {
			return false
		}
	}
	if i < len(s) && (s[i] == 'e' || s[i] == 'E') {
		i++
		if i < len(s) && (s[i] == '+' || s[i] == '-') {
			i++
		}
		if !digits() {
			return false
		}
	}
	return i == len(s)
}

// asIsRun skips, eight bytes at a time, the text from s[i] that treeStr copies as it is
// (ASCII without control characters, quotes, backslashes or <, >, &), and returns where
// the byte-by-byte loop must look.
func asIsRun(s string, i int) int {
	const ones, highs = 0x0101010101010101, 0x8080808080808080
	for ; i+8 <= len(s); i += 8 {
		x := uint64(s[i]) | uint64(s[i+1])<<8 | uint64(s[i+2])<<16 | uint64(s[i+3])<<24 |
			uint64(s[i+4])<<32 | uint64(s[i+5])<<40 | uint64(s[i+6])<<48 | uint64(s[i+7])<<56
		// m has a high bit set iff some byte is below 0x20, >= 0x80 or one of the five
		// escaped characters: (v-ones)&^v&highs is non-zero iff v has a zero byte, and
		// a byte equal to c is a zero byte of x^(ones*c).
		q, bs, lt, gt, amp := x^(ones*'"'), x^(ones*'\\'), x^(ones*'<'), x^(ones*'>'), x^(ones*'&')
		m := (x-ones*0x20)&^x | x | (q-ones)&^q | (bs-ones)&^bs | (lt-ones)&^lt | (gt-ones)&^gt | (amp-ones)&^amp
		if m&highs != 0 {
			return i
		}
	}
	return i
}
