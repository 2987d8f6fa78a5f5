package plugin

import (
	"bytes"
	"encoding/json"
	"strconv"
	"unicode/utf8"
)

// rawField reads one top-level member of the JSON object in doc without decoding the
// others: Payload.Field on a payload still in JSON text (a rate limiter reading "name"
// must not pay for decoding the arguments). The skipped members are validated, not
// decoded, so the answer is exactly what decoding the whole document would give: nil
// for invalid JSON or a non-object, the last occurrence of a repeated key (as
// encoding/json keeps it), numbers as float64.
func rawField(doc []byte, name string) any {
	var found []byte
	i := skipWS(doc, 0)
	if i >= len(doc) || doc[i] != '{' {
		return nil
	}
	i = skipWS(doc, i+1)
	if i < len(doc) && doc[i] == '}' {
		return nil // {} has no members; trailing text is checked below
	}
	for {
		if i >= len(doc) || doc[i] != '"' {
			return nil
		}
		kEnd, ok := scanString(doc, i)
		if !ok {
			return nil
		}
		key := doc[i:kEnd]
		i = skipWS(doc, kEnd)
		if i >= len(doc) || doc[i] != ':' {
			return nil
		}
		i = skipWS(doc, i+1)
		vEnd, ok := scanValue(doc, i, 1)
		if !ok {
			return nil
		}
		if keyIs(key, name) {
			found = doc[i:vEnd]
		}
		i = skipWS(doc, vEnd)
		if i >= len(doc) {
			return nil
		}
		if doc[i] == '}' {
			break
		}
		if doc[i] != ',' {
			return nil
		}
		i = skipWS(doc, i+1)
	}
	if skipWS(doc, i+1) != len(doc) || found == nil {
		return nil
	}
	v, err := decodeTree(found)
	if err != nil {
		return nil
	}
	return v
}

// keyIs compares a quoted JSON key with name as encoding/json would decode it: escapes
// are resolved and invalid UTF-8 becomes U+FFFD, so only plain valid keys are compared
// byte for byte.
func keyIs(quoted []byte, name string) bool {
	inner := quoted[1 : len(quoted)-1]
	if bytes.IndexByte(inner, '\\') < 0 && utf8.Valid(inner) {
		return string(inner) == name
	}
	var k string
	return json.Unmarshal(quoted, &k) == nil && k == name
}

func skipWS(b []byte, i int) int {
	for i < len(b) && (b[i] == ' ' || b[i] == '\t' || b[i] == '\n' || b[i] == '\r') {
		i++
	}
	return i
}

// scanString returns the index after the string starting at b[i] == '"', validating
// its escapes and rejecting control characters as encoding/json does.
func scanString(b []byte, i int) (int, bool) {
	for j := i + 1; j < len(b); j++ {
		switch c := b[j]; {
		case c == '"':
			return j + 1, true
		case c < 0x20:
			return 0, false
		case c == '\\':
			j++
			if j >= len(b) {
				return 0, false
			}
			switch b[j] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
			case 'u':
				if j+4 >= len(b) {
					return 0, false
				}
				for _, h := range b[j+1 : j+5] {
					if !isHex(h) {
						return 0, false
					}
				}
				j += 4
			default:
				return 0, false
			}
		}
	}
	return 0, false
}

func isHex(c byte) bool {
	return c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F'
}

// maxRawDepth is encoding/json's nesting limit: deeper documents are invalid there.
const maxRawDepth = 10000

// scanValue returns the index after the JSON value starting at b[i] (depth: the nesting
// level of that value, 1 for a member of the top-level object).
func scanValue(b []byte, i, depth int) (int, bool) {
	if i >= len(b) {
		return 0, false
	}
	switch c := b[i]; {
	case c == '"':
		return scanString(b, i)
	case c == '{' || c == '[':
		if depth >= maxRawDepth {
			return 0, false
		}
		closeC := byte('}')
		if c == '[' {
			closeC = ']'
		}
		j := skipWS(b, i+1)
		if j < len(b) && b[j] == closeC {
			return j + 1, true
		}
		for {
			if c == '{' {
				if j >= len(b) || b[j] != '"' {
					return 0, false
				}
				end, ok := scanString(b, j)
				if !ok {
					return 0, false
				}
				j = skipWS(b, end)
				if j >= len(b) || b[j] != ':' {
					return 0, false
				}
				j = skipWS(b, j+1)
			}
			end, ok := scanValue(b, j, depth+1)
			if !ok {
				return 0, false
			}
			j = skipWS(b, end)
			if j >= len(b) {
				return 0, false
			}
			if b[j] == closeC {
				return j + 1, true
			}
			if b[j] != ',' {
				return 0, false
			}
			j = skipWS(b, j+1)
		}
	case c == 't':
		return scanLiteral(b, i, "true")
	case c == 'f':
		return scanLiteral(b, i, "false")
	case c == 'n':
		return scanLiteral(b, i, "null")
	case c == '-' || c >= '0' && c <= '9':
		return scanNumber(b, i)
	}
	return 0, false
}

func scanLiteral(b []byte, i int, lit string) (int, bool) {
	if len(b)-i >= len(lit) && string(b[i:i+len(lit)]) == lit {
		return i + len(lit), true
	}
	return 0, false
}

// scanNumber follows the JSON number grammar -?(0|[1-9][0-9]*)(.[0-9]+)?([eE][+-]?[0-9]+)?
// and, like encoding/json decoding into any, rejects numbers beyond float64's range
// (only an exponent or more than 308 digits can get there).
func scanNumber(b []byte, i int) (int, bool) {
	start := i
	if b[i] == '-' {
		i++
	}
	digits := func() bool {
		start := i
		for i < len(b) && b[i] >= '0' && b[i] <= '9' {
			i++
		}
		return i > start
	}
	switch {
	case i < len(b) && b[i] == '0':
		i++
	case !digits():
		return 0, false
	}
	if i < len(b) && b[i] == '.' {
		i++
		if !digits() {
			return 0, false
		}
	}
	if i < len(b) && (b[i] == 'e' || b[i] == 'E') {
		i++
		if i < len(b) && (b[i] == '+' || b[i] == '-') {
			i++
		}
		if !digits() {
			return 0, false
		}
		return i, inRange(b[start:i])
	}
	if i-start > 308 {
		return i, inRange(b[start:i])
	}
	return i, true
}

func inRange(num []byte) bool {
	_, err := strconv.ParseFloat(string(num), 64)
	return err == nil
}
