package pybind

import (
	"errors"
	"unicode/utf16"
	"unicode/utf8"
)

// Python strings may hold lone surrogates ("\ud800": json.loads makes them from client
// input), which UTF-8 cannot encode. Python sends them as JSON \uXXXX escapes; where a
// string only travels Python → Go → Python or is compared in Go (plugin names and ids,
// condition values, the request facts, violation texts), encoding/json's rule (a lone
// surrogate is U+FFFD) would lose it and make distinct strings equal. So these readers
// keep a lone surrogate as its generalized UTF-8 form (three bytes ED A0..BF 80..BF,
// "WTF-8"), which no valid UTF-8 text contains: Go compares it byte for byte, and the
// step writer (jw.str) sends it back as the same escape. A valid escaped pair is the one
// character it encodes, as JSON defines.

var errBadString = errors.New("invalid JSON string")

// unquoteText decodes the JSON string literal raw, keeping lone surrogates (see above).
// Invalid UTF-8 bytes in raw (which Python never sends) become U+FFFD, as in encoding/json.
func unquoteText(raw []byte) (string, error) {
	if len(raw) < 2 || raw[0] != '"' || raw[len(raw)-1] != '"' {
		return "", errBadString
	}
	s := raw[1 : len(raw)-1]
	b := make([]byte, 0, len(s))
	for j := 0; j < len(s); {
		c := s[j]
		switch {
		case c == '"' || c < 0x20:
			return "", errBadString
		case c == '\\':
			if j+1 >= len(s) {
				return "", errBadString
			}
			switch e := s[j+1]; e {
			case '"', '\\', '/':
				b = append(b, e)
			case 'b':
				b = append(b, '\b')
			case 'f':
				b = append(b, '\f')
			case 'n':
				b = append(b, '\n')
			case 'r':
				b = append(b, '\r')
			case 't':
				b = append(b, '\t')
			case 'u':
				r := hex4b(s, j+2)
				if r < 0 {
					return "", errBadString
				}
				j += 6
				if utf16.IsSurrogate(r) {
					if r < 0xDC00 && j+6 <= len(s) && s[j] == '\\' && s[j+1] == 'u' {
						if r2 := hex4b(s, j+2); r2 >= 0xDC00 && r2 <= 0xDFFF {
							b = utf8.AppendRune(b, utf16.DecodeRune(r, r2))
							j += 6
							continue
						}
					}
					b = appendSurrogate(b, r)
					continue
				}
				b = utf8.AppendRune(b, r)
				continue
			default:
				return "", errBadString
			}
			j += 2
		case c < utf8.RuneSelf:
			b = append(b, c)
			j++
		default:
			r, size := utf8.DecodeRune(s[j:])
			if r == utf8.RuneError && size == 1 {
				b = append(b, "\uFFFD"...)
			} else {
				b = append(b, s[j:j+size]...)
			}
			j += size
		}
	}
	return string(b), nil
}

// appendSurrogate appends the three-byte form of the surrogate code point r.
func appendSurrogate(b []byte, r rune) []byte {
	return append(b, 0xE0|byte(r>>12), 0x80|byte(r>>6)&0x3F, 0x80|byte(r)&0x3F)
}

// surrogateAt returns the surrogate whose three-byte form starts at s[i], if one does.
func surrogateAt(s string, i int) (rune, bool) {
	if i+2 < len(s) && s[i] == 0xED && s[i+1] >= 0xA0 && s[i+1] <= 0xBF && s[i+2] >= 0x80 && s[i+2] <= 0xBF {
		return 0xD000 | rune(s[i+1]&0x3F)<<6 | rune(s[i+2]&0x3F), true
	}
	return 0, false
}

// hex4b reads the four hex digits at s[i:] (-1 when they are not there).
func hex4b(s []byte, i int) rune {
	if i+4 > len(s) {
		return -1
	}
	var r rune
	for _, c := range s[i : i+4] {
		switch {
		case c >= '0' && c <= '9':
			c -= '0'
		case c >= 'a' && c <= 'f':
			c = c - 'a' + 10
		case c >= 'A' && c <= 'F':
			c = c - 'A' + 10
		default:
			return -1
		}
		r = r<<4 | rune(c)
	}
	return r
}

// text is a JSON string decoded by unquoteText, for the documents encoding/json reads
// (RefRegister's info): a lone surrogate in a plugin name or a condition value survives.
type text string

func (t *text) UnmarshalJSON(raw []byte) error {
	if string(raw) == "null" {
		return nil // as encoding/json leaves a string on null
	}
	s, err := unquoteText(raw)
	if err != nil {
		return err
	}
	*t = text(s)
	return nil
}

// textStrings converts a list of texts (nil stays nil: "no condition on this field").
func textStrings(xs []text) []string {
	if xs == nil {
		return nil
	}
	out := make([]string, len(xs))
	for i, x := range xs {
		out[i] = string(x)
	}
	return out
}
