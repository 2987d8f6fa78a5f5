package pybind

import (
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"unicode/utf8"
)

// A small reader for the flat JSON objects Python sends on every step (facts,
// outcomes): encoding/json's reflection costs more than the whole step. It validates
// what it reads; nested values are handed back raw and decoded by encoding/json.

var errSyntax = errors.New("invalid JSON")

func isSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\n' || c == '\r' }

func skipSpace(b []byte, i int) int {
	for i < len(b) && isSpace(b[i]) {
		i++
	}
	return i
}

// eachMember calls fn with every key and raw value of the JSON object in b. The key is
// only valid during the call (it may alias b).
func eachMember(b []byte, fn func(key []byte, val []byte) error) error {
	i := skipSpace(b, 0)
	if i >= len(b) || b[i] != '{' {
		return errSyntax
	}
	i = skipSpace(b, i+1)
	if i < len(b) && b[i] == '}' {
		if skipSpace(b, i+1) != len(b) {
			return errSyntax
		}
		return nil
	}
	for {
		if i >= len(b) || b[i] != '"' {
			return errSyntax
		}
		end, err := skipString(b, i)
		if err != nil {
			return err
		}
		key, err := unquoteBytes(b[i:end])
		if err != nil {
			return err
		}
		i = skipSpace(b, end)
		if i >= len(b) || b[i] != ':' {
			return errSyntax
		}
		i = skipSpace(b, i+1)
		vEnd, err := skipValue(b, i, 0)
		if err != nil {
			return err
		}
		if err := fn(key, b[i:vEnd]); err != nil {
			return err
		}
		i = skipSpace(b, vEnd)
		if i >= len(b) {
			return errSyntax
		}
		if b[i] == '}' {
			if skipSpace(b, i+1) != len(b) {
				return errSyntax
			}
			return nil
		}
		if b[i] != ',' {
			return errSyntax
		}
		i = skipSpace(b, i+1)
	}
}

// skipString returns the index after the string starting at b[i] == '"'.
func skipString(b []byte, i int) (int, error) {
	for j := i + 1; j < len(b); j++ {
		switch c := b[j]; {
		case c == '"':
			return j + 1, nil
		case c == '\\':
			j++
		case c < 0x20:
			return 0, errSyntax
		}
	}
	return 0, errSyntax
}

const maxNesting = 64

// skipValue returns the index after the JSON value starting at b[i].
func skipValue(b []byte, i, depth int) (int, error) {
	if i >= len(b) {
		return 0, errSyntax
	}
	switch c := b[i]; {
	case c == '"':
		return skipString(b, i)
	case c == '{' || c == '[':
		if depth >= maxNesting {
			return 0, fmt.Errorf("JSON nested deeper than %d", maxNesting)
		}
		// Nested values are validated by encoding/json when they are decoded.
		closeC := byte('}')
		if c == '[' {
			closeC = ']'
		}
		j := skipSpace(b, i+1)
		if j < len(b) && b[j] == closeC {
			return j + 1, nil
		}
		for {
			if c == '{' {
				if j >= len(b) || b[j] != '"' {
					return 0, errSyntax
				}
				end, err := skipString(b, j)
				if err != nil {
					return 0, err
				}
				j = skipSpace(b, end)
				if j >= len(b) || b[j] != ':' {
					return 0, errSyntax
				}
				j = skipSpace(b, j+1)
			}
			end, err := skipValue(b, j, depth+1)
			if err != nil {
				return 0, err
			}
			j = skipSpace(b, end)
			if j >= len(b) {
				return 0, errSyntax
			}
			if b[j] == closeC {
				return j + 1, nil
			}
			if b[j] != ',' {
				return 0, errSyntax
			}
			j = skipSpace(b, j+1)
		}
	case c == 't':
		return literal(b, i, "true")
	case c == 'f':
		return literal(b, i, "false")
	case c == 'n':
		return literal(b, i, "null")
	case c == '-' || (c >= '0' && c <= '9'):
		j := i + 1
		plain := true
		for j < len(b) && (b[j] >= '0' && b[j] <= '9' || b[j] == '.' || b[j] == 'e' || b[j] == 'E' || b[j] == '+' || b[j] == '-') {
			if b[j] < '0' || b[j] > '9' {
				plain = false
			}
			j++
		}
		if !plain || c == '-' || (c == '0' && j-i > 1) {
			if !json.Valid(b[i:j]) {
				return 0, errSyntax
			}
		}
		return j, nil
	}
	return 0, errSyntax
}

func literal(b []byte, i int, lit string) (int, error) {
	if len(b)-i >= len(lit) && string(b[i:i+len(lit)]) == lit {
		return i + len(lit), nil
	}
	return 0, errSyntax
}

// unquoteBytes is unquote without a copy when the string has no escapes.
func unquoteBytes(raw []byte) ([]byte, error) {
	if len(raw) < 2 || raw[0] != '"' {
		return nil, errSyntax
	}
	inner := raw[1 : len(raw)-1]
	for _, c := range inner {
		if c == '\\' || c < 0x20 {
			s, err := unquote(raw)
			return []byte(s), err
		}
	}
	return inner, nil
}

// eachElement calls fn with every raw element of the JSON array in b.
func eachElement(b []byte, fn func(val []byte) error) error {
	i := skipSpace(b, 0)
	if i >= len(b) || b[i] != '[' {
		return errSyntax
	}
	i = skipSpace(b, i+1)
	if i < len(b) && b[i] == ']' {
		return nil
	}
	for {
		end, err := skipValue(b, i, 0)
		if err != nil {
			return err
		}
		if err := fn(b[i:end]); err != nil {
			return err
		}
		i = skipSpace(b, end)
		if i >= len(b) {
			return errSyntax
		}
		if b[i] == ']' {
			return nil
		}
		if b[i] != ',' {
			return errSyntax
		}
		i = skipSpace(b, i+1)
	}
}

// unquote decodes a JSON string value (fast path: no escapes, valid UTF-8).
func unquote(raw []byte) (string, error) {
	if len(raw) < 2 || raw[0] != '"' {
		return "", errSyntax
	}
	inner := raw[1 : len(raw)-1]
	simple := true
	for _, c := range inner {
		if c == '\\' || c < 0x20 {
			simple = false
			break
		}
	}
	if simple && utf8.Valid(inner) {
		return string(inner), nil
	}
	return unquoteText(raw) // escapes; lone surrogates survive (wtf8.go)
}

func isNull(v []byte) bool { return len(v) == 4 && string(v) == "null" }

// optString: a string or null.
func optString(v []byte) (*string, error) {
	if isNull(v) {
		return nil, nil
	}
	s, err := unquote(v)
	if err != nil {
		return nil, err
	}
	return &s, nil
}

func boolOf(v []byte) (bool, error) {
	switch string(v) {
	case "true":
		return true, nil
	case "false", "null":
		return false, nil
	}
	return false, errSyntax
}

// intOfRaw parses a JSON integer (a float with no fraction is accepted, as Python may
// send 5.0); null is 0.
func intOfRaw(v []byte) (int64, error) {
	if isNull(v) {
		return 0, nil
	}
	if n, err := strconv.ParseInt(string(v), 10, 64); err == nil {
		return n, nil
	}
	if !json.Valid(v) {
		return 0, errSyntax
	}
	f, err := strconv.ParseFloat(string(v), 64)
	if err != nil || f != float64(int64(f)) {
		return 0, fmt.Errorf("want an integer, got %s", v)
	}
	return int64(f), nil
}
