// Package jsonesc decodes the text of JSON strings for the project's hand-written JSON
// readers (core's payload tree decoder, pybind's protocol reader): the escape grammar in
// one place, with a choice of what a lone surrogate becomes.
package jsonesc

import (
	"unicode/utf16"
	"unicode/utf8"
)

// Lone says what a lone surrogate escape ("\ud800", which Python's json.loads makes
// from client input) becomes. A valid escaped pair is always the one character it
// encodes, as JSON defines.
type Lone bool

const (
	// Replace makes it U+FFFD, encoding/json's rule: what Go plugins read.
	Replace Lone = false
	// Keep keeps it as its three-byte generalized UTF-8 form (ED A0..BF 80..BF,
	// "WTF-8"), which no valid UTF-8 text contains: strings that only travel
	// Python → Go → Python, or are compared in Go, stay exact.
	Keep Lone = true
)

// Append decodes the string text s[j:] (just after the opening quote) into b, up to the
// closing quote. It answers b, the index of the closing quote and true; or the index
// of the fault and false for a bad escape, a control character or a missing closing
// quote. Invalid UTF-8 bytes become U+FFFD, as in encoding/json.
func Append(b []byte, s string, j int, lone Lone) ([]byte, int, bool) {
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

// AppendSurrogate appends the three-byte form of the surrogate code point r.
func AppendSurrogate(b []byte, r rune) []byte {
	return append(b, 0xE0|byte(r>>12), 0x80|byte(r>>6)&0x3F, 0x80|byte(r)&0x3F)
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
