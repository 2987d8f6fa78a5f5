package wirejson

import (
	"errors"
	"math/bits"
	"unicode/utf16"
	"unicode/utf8"
	"unsafe"
)

// Lone says what a lone surrogate escape ("\ud800", which Python's json.loads makes
// from client input) becomes when a string is read, and what its three-byte form
// becomes when a string is written. A valid escaped pair is always the one character it
// encodes, as JSON defines.
type Lone bool

const (
	// Replace makes it U+FFFD, encoding/json's rule: what Go plugins read.
	Replace Lone = false
	// Keep keeps it as its three-byte generalized UTF-8 form (ED A0..BF 80..BF,
	// "WTF-8"), which no valid UTF-8 text contains, and writes that form back as the
	// same escape: strings that only travel Python → Go → Python, or are compared in
	// Go, stay exact.
	Keep Lone = true
)

// ErrString is the error of Unquote for a malformed string literal.
var ErrString = errors.New("invalid JSON string")

// AppendUnquoted decodes the string text s[j:] (just after the opening quote) into b,
// up to the closing quote. It answers b, the index of the closing quote and true; or
// the index of the fault and false for a bad escape, a control character or a missing
// closing quote. Invalid UTF-8 bytes become U+FFFD, as in encoding/json.
func AppendUnquoted(b []byte, s string, j int, lone Lone) ([]byte, int, bool) {
	for j < len(s) {
		c := s[j]
		switch {
		case c == '"':
			return b, j, true
		case c < 0x20:
			return b, j, false
		case c == '\\':
			if j+1 >= len(s) {
				return b, j, false
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
				r := Hex4(s, j+2)
				if r < 0 {
					return b, j, false
				}
				j += 6
				if !utf16.IsSurrogate(r) {
					b = utf8.AppendRune(b, r)
					continue
				}
				if r < 0xDC00 && j+1 < len(s) && s[j] == '\\' && s[j+1] == 'u' {
					if r2 := Hex4(s, j+2); r2 >= 0xDC00 && r2 <= 0xDFFF {
						b = utf8.AppendRune(b, utf16.DecodeRune(r, r2))
						j += 6
						continue
					}
				}
				// A lone surrogate; an escape that follows is decoded on its own.
				if lone == Keep {
					b = AppendSurrogate(b, r)
				} else {
					b = utf8.AppendRune(b, utf8.RuneError)
				}
				continue
			default:
				return b, j, false
			}
			j += 2
		case c < utf8.RuneSelf:
			b = append(b, c)
			j++
		default:
			r, size := utf8.DecodeRuneInString(s[j:])
			if r == utf8.RuneError && size == 1 {
				b = append(b, "\uFFFD"...)
			} else {
				b = append(b, s[j:j+size]...)
			}
			j += size
		}
	}
	return b, j, false
}

// Unquote decodes the JSON string literal raw (quotes included). A literal without
// escapes and with valid UTF-8 costs one copy.
func Unquote(raw []byte, lone Lone) (string, error) {
	if len(raw) < 2 || raw[0] != '"' || raw[len(raw)-1] != '"' {
		return "", ErrString
	}
	inner := raw[1 : len(raw)-1]
	if plainText(inner) {
		return string(inner), nil
	}
	// A view, not a copy: AppendUnquoted only reads it, the answer has its own buffer.
	body := bytesView(raw[1:])
	b, end, ok := AppendUnquoted(make([]byte, 0, len(body)), body, 0, lone)
	if !ok || end != len(body)-1 {
		return "", ErrString
	}
	return string(b), nil
}

// UnquoteView is Unquote without a copy for a literal that needs no decoding: the
// answer may alias raw, so it is only valid while raw is.
func UnquoteView(raw []byte, lone Lone) ([]byte, error) {
	if len(raw) < 2 || raw[0] != '"' || raw[len(raw)-1] != '"' {
		return nil, ErrString
	}
	if inner := raw[1 : len(raw)-1]; plainText(inner) {
		return inner, nil
	}
	s, err := Unquote(raw, lone)
	return []byte(s), err
}

// plainText: no escape, quote or control character, and valid UTF-8 (the text is its
// own decoding). ASCII text is checked eight bytes at a time; only text with other
// bytes pays for the UTF-8 check.
func plainText(inner []byte) bool {
	s := bytesView(inner)
	high := false
	for i := plainRun(s, 0); i < len(s); i++ {
		c := s[i]
		if c == '\\' || c == '"' || c < 0x20 {
			return false
		}
		high = high || c >= utf8.RuneSelf
	}
	return !high || utf8.Valid(inner)
}

// AppendSurrogate appends the three-byte form of the surrogate code point r.
func AppendSurrogate(b []byte, r rune) []byte {
	return append(b, 0xE0|byte(r>>12), 0x80|byte(r>>6)&0x3F, 0x80|byte(r)&0x3F)
}

// SurrogateAt returns the surrogate whose three-byte form starts at s[i], if one does.
func SurrogateAt(s string, i int) (rune, bool) {
	if i+2 < len(s) && s[i] == 0xED && s[i+1] >= 0xA0 && s[i+1] <= 0xBF && s[i+2] >= 0x80 && s[i+2] <= 0xBF {
		return 0xD000 | rune(s[i+1]&0x3F)<<6 | rune(s[i+2]&0x3F), true
	}
	return 0, false
}

// Hex4 reads the four hex digits at s[i:] (-1 when they are not there).
func Hex4(s string, i int) rune {
	if i+4 > len(s) {
		return -1
	}
	var r rune
	for k := i; k < i+4; k++ {
		c := s[k]
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

const hexDigits = "0123456789abcdef"

// AppendQuoted appends s as a JSON string literal: quotes, backslashes and control
// characters escaped, other text as it is (no HTML escaping: the reader is a JSON
// parser, never a browser). Invalid UTF-8 becomes \ufffd per byte, as encoding/json
// writes it, except that with Keep a lone surrogate's three-byte form is written as its
// \uXXXX escape (the inverse of reading with Keep).
func AppendQuoted(b []byte, s string, lone Lone) []byte {
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); {
		if i = plainRun(s, i); i >= len(s) {
			break
		}
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
		if r != utf8.RuneError || size != 1 {
			i += size
			continue
		}
		b = append(b, s[start:i]...)
		if sr, ok := SurrogateAt(s, i); ok && lone == Keep {
			b = append(b, '\\', 'u', hexDigits[sr>>12], hexDigits[sr>>8&0xf], hexDigits[sr>>4&0xf], hexDigits[sr&0xf])
			i += 3
		} else {
			b = append(b, `\ufffd`...)
			i++
		}
		start = i
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}

// plainRun skips, eight bytes at a time, the ASCII text from s[j] that is its own JSON
// string form (no quote, backslash, control or non-ASCII byte), and returns the index
// of the first byte that is not, or where fewer than eight bytes remain: the byte loop
// of the caller takes over there. It must stop exactly at the special byte, not at the
// start of its block: the callers step one byte and call it again, so stopping at the
// block would rescan the block once per byte before the quote of every short string.
func plainRun(s string, j int) int {
	const ones, highs = 0x0101010101010101, 0x8080808080808080
	for ; j+8 <= len(s); j += 8 {
		w := s[j : j+8] // of known length: no bounds checks, and the eight loads become one
		x := uint64(w[0]) | uint64(w[1])<<8 | uint64(w[2])<<16 | uint64(w[3])<<24 |
			uint64(w[4])<<32 | uint64(w[5])<<40 | uint64(w[6])<<48 | uint64(w[7])<<56
		q := x ^ ones*'"'
		b := x ^ ones*'\\'
		// m has a high bit set for each byte < 0x20, '"', '\\' or >= 0x80, and possibly
		// for bytes above such a byte ((v-ones*n)&^v&highs flags a byte of v below n, and
		// its borrow may flag bytes above it; a byte equal to c is a zero byte of
		// x^(ones*c)); the lowest flag is therefore always a true hit.
		m := ((x-ones*0x20)&^x | (q-ones)&^q | (b-ones)&^b | x) & highs
		if m != 0 {
			return j + bits.TrailingZeros64(m)>>3
		}
	}
	return j
}

// bytesView is b as a string without a copy; only for reads that end before b changes.
func bytesView(b []byte) string { return unsafe.String(unsafe.SliceData(b), len(b)) }
