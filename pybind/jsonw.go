package pybind

import (
	"encoding/json"
	"strconv"
	"unicode/utf8"
)

// jw appends JSON by hand: steps are answered on every plugin call, and
// encoding/json's reflection would cost more than the rest of the step.
type jw struct{ b []byte }

func (w *jw) raw(s string) { w.b = append(w.b, s...) }

func (w *jw) key(k string) {
	if n := len(w.b); n > 0 && w.b[n-1] != '{' && w.b[n-1] != '[' {
		w.b = append(w.b, ',')
	}
	w.b = append(w.b, '"')
	w.b = append(w.b, k...)
	w.b = append(w.b, '"', ':')
}

func (w *jw) comma() {
	if n := len(w.b); n > 0 && w.b[n-1] != '{' && w.b[n-1] != '[' {
		w.b = append(w.b, ',')
	}
}

func (w *jw) int(n int) { w.b = strconv.AppendInt(w.b, int64(n), 10) }

func (w *jw) bool(v bool) { w.b = strconv.AppendBool(w.b, v) }

func (w *jw) ints(xs []int) {
	w.b = append(w.b, '[')
	for i, x := range xs {
		if i > 0 {
			w.b = append(w.b, ',')
		}
		w.b = strconv.AppendInt(w.b, int64(x), 10)
	}
	w.b = append(w.b, ']')
}

func (w *jw) strs(xs []string) {
	w.b = append(w.b, '[')
	for i, x := range xs {
		if i > 0 {
			w.b = append(w.b, ',')
		}
		w.str(x)
	}
	w.b = append(w.b, ']')
}

func (w *jw) optStr(s *string) {
	if s == nil {
		w.raw("null")
		return
	}
	w.str(s)
}

// any encodes a value with encoding/json (metadata, violation details).
func (w *jw) any(v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	w.b = append(w.b, b...)
	return nil
}

const hexDigits = "0123456789abcdef"

// str writes a JSON string: quotes, backslashes and control characters escaped, a lone
// surrogate's three-byte form as its \uXXXX escape (wtf8.go), other invalid UTF-8
// replaced by U+FFFD (as encoding/json does).
func (w *jw) str(v any) {
	var s string
	switch x := v.(type) {
	case string:
		s = x
	case *string:
		s = *x
	}
	b := append(w.b, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' {
				i++
				continue
			}
			b = append(b, s[start:i]...)
			switch c {
			case '"', '\\':
				b = append(b, '\\', c)
			case '\n':
				b = append(b, '\\', 'n')
			case '\r':
				b = append(b, '\\', 'r')
			case '\t':
				b = append(b, '\\', 't')
			default:
				b = append(b, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xf])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			b = append(b, s[start:i]...)
			if sr, ok := surrogateAt(s, i); ok {
				// a lone surrogate kept by unquoteText goes back as its escape (wtf8.go)
				b = append(b, '\\', 'u', hexDigits[sr>>12], hexDigits[sr>>8&0xf], hexDigits[sr>>4&0xf], hexDigits[sr&0xf])
				i += 3
			} else {
				b = append(b, `\ufffd`...)
				i += size
			}
			start = i
			continue
		}
		i += size
	}
	b = append(b, s[start:]...)
	w.b = append(b, '"')
}
