package wirejson

import (
	"errors"
	"strconv"
)

// The scanner walks a document without decoding it: the members of a flat object (the
// facts and outcomes Python sends on every step), the elements of a list, one field of
// a payload still in JSON text (a rate limiter reading "name" must not pay for decoding
// the arguments). What it skips it validates exactly as json.Valid does, so a caller
// never acts on half of an invalid document.

// ErrSyntax is the error of every reader here for a document that is not valid JSON.
var ErrSyntax = errJSON

// ErrDepth is the error for a document nested deeper than MaxDepth.
var ErrDepth = errors.New("JSON nested deeper than 10000")

// SkipSpace returns the index of the first byte from b[i] that is not JSON whitespace.
func SkipSpace(b []byte, i int) int {
	for i < len(b) && isSpace(b[i]) {
		i++
	}
	return i
}

func isSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\n' || c == '\r' }

// SkipValue returns the index after the JSON value starting at b[i], validated.
func SkipValue(b []byte, i int) (int, error) {
	return scanner{s: bytesView(b)}.value(i, 0)
}

// EachMember calls fn with every key (decoded with lone) and raw value of the JSON
// object that is the whole of b. The key is only valid during the call (it may alias
// b). An error of fn stops the walk and is answered as it is.
func EachMember(b []byte, lone Lone, fn func(key, val []byte) error) error {
	sc := scanner{s: bytesView(b)}
	i := SkipSpace(b, 0)
	if i >= len(b) || b[i] != '{' {
		return ErrSyntax
	}
	end, err := sc.members(i, 0, func(k, v int, kEnd, vEnd int, kPlain bool) error {
		if kPlain { // the scan saw every byte of it: its text is its decoding
			return fn(b[k+1:kEnd-1], b[v:vEnd])
		}
		key, err := UnquoteView(b[k:kEnd], lone)
		if err != nil {
			return err
		}
		return fn(key, b[v:vEnd])
	})
	if err != nil {
		return err
	}
	if SkipSpace(b, end) != len(b) {
		return ErrSyntax
	}
	return nil
}

// EachElement calls fn with every raw element of the JSON array that is the whole of b.
func EachElement(b []byte, fn func(val []byte) error) error {
	sc := scanner{s: bytesView(b)}
	i := SkipSpace(b, 0)
	if i >= len(b) || b[i] != '[' {
		return ErrSyntax
	}
	end, err := sc.elements(i, 0, func(v, vEnd int) error { return fn(b[v:vEnd]) })
	if err != nil {
		return err
	}
	if SkipSpace(b, end) != len(b) {
		return ErrSyntax
	}
	return nil
}

// Field reads one top-level member of the JSON object in doc without decoding the
// others. The answer is exactly what decoding the whole document into an `any` and
// looking the key up gives: nil for invalid JSON (numbers beyond float64's range
// included, wherever they stand) or a non-object, the last occurrence of a repeated
// key, numbers as float64.
func Field(doc []byte, name string) any {
	sc := scanner{s: bytesView(doc), ranged: true}
	i := SkipSpace(doc, 0)
	if i >= len(doc) || doc[i] != '{' {
		return nil
	}
	var found []byte
	end, err := sc.members(i, 0, func(k, v int, kEnd, vEnd int, kPlain bool) error {
		if kPlain && string(doc[k+1:kEnd-1]) == name || !kPlain && keyIs(doc[k:kEnd], name) {
			found = doc[v:vEnd]
		}
		return nil
	})
	if err != nil || SkipSpace(doc, end) != len(doc) || found == nil {
		return nil
	}
	v, err := Decode(found)
	if err != nil {
		return nil
	}
	return v
}

// keyIs compares a quoted key with name as encoding/json would decode it (escapes
// resolved, invalid UTF-8 and lone surrogates as U+FFFD).
func keyIs(quoted []byte, name string) bool {
	if inner := quoted[1 : len(quoted)-1]; plainText(inner) {
		return string(inner) == name
	}
	k, err := Unquote(quoted, Replace)
	return err == nil && k == name
}

type scanner struct {
	s      string
	ranged bool // refuse numbers beyond float64's range, as decoding into any does
}

// members walks the object at s[i] == '{', calling fn with the bounds of each key
// literal and value, and whether the key is plain (see scanString); it answers the
// index after the closing brace.
func (sc scanner) members(i, depth int, fn func(k, v, kEnd, vEnd int, kPlain bool) error) (int, error) {
	if depth >= MaxDepth {
		return 0, ErrDepth
	}
	s := sc.s
	i = sc.ws(i + 1)
	if i < len(s) && s[i] == '}' {
		return i + 1, nil
	}
	for {
		if i >= len(s) || s[i] != '"' {
			return 0, ErrSyntax
		}
		kEnd, kPlain, ok := scanString(s, i+1)
		if !ok {
			return 0, ErrSyntax
		}
		j := sc.ws(kEnd)
		if j >= len(s) || s[j] != ':' {
			return 0, ErrSyntax
		}
		v := sc.ws(j + 1)
		vEnd, err := sc.value(v, depth+1)
		if err != nil {
			return 0, err
		}
		if fn != nil {
			if err := fn(i, v, kEnd, vEnd, kPlain); err != nil {
				return 0, err
			}
		}
		i = sc.ws(vEnd)
		if i >= len(s) {
			return 0, ErrSyntax
		}
		switch s[i] {
		case '}':
			return i + 1, nil
		case ',':
			i = sc.ws(i + 1)
		default:
			return 0, ErrSyntax
		}
	}
}

// elements walks the array at s[i] == '['.
func (sc scanner) elements(i, depth int, fn func(v, vEnd int) error) (int, error) {
	if depth >= MaxDepth {
		return 0, ErrDepth
	}
	s := sc.s
	i = sc.ws(i + 1)
	if i < len(s) && s[i] == ']' {
		return i + 1, nil
	}
	for {
		vEnd, err := sc.value(i, depth+1)
		if err != nil {
			return 0, err
		}
		if fn != nil {
			if err := fn(i, vEnd); err != nil {
				return 0, err
			}
		}
		i = sc.ws(vEnd)
		if i >= len(s) {
			return 0, ErrSyntax
		}
		switch s[i] {
		case ']':
			return i + 1, nil
		case ',':
			i = sc.ws(i + 1)
		default:
			return 0, ErrSyntax
		}
	}
}

func (sc scanner) ws(i int) int {
	for i < len(sc.s) && isSpace(sc.s[i]) {
		i++
	}
	return i
}

// value returns the index after the value at s[i]; depth counts the containers
// around it.
func (sc scanner) value(i, depth int) (int, error) {
	s := sc.s
	if i >= len(s) {
		return 0, ErrSyntax
	}
	switch c := s[i]; {
	case c == '"':
		end, ok := skipStringRest(s, i+1)
		if !ok {
			return 0, ErrSyntax
		}
		return end, nil
	case c == '{':
		return sc.members(i, depth, nil)
	case c == '[':
		return sc.elements(i, depth, nil)
	case c == 't':
		return scanLiteral(s, i, "true")
	case c == 'f':
		return scanLiteral(s, i, "false")
	case c == 'n':
		return scanLiteral(s, i, "null")
	case c == '-' || c >= '0' && c <= '9':
		end, plain, digits, _ := numberEnd(s, i)
		if end < 0 {
			return 0, ErrSyntax
		}
		// Only an exponent or more than 308 digits can leave float64's range.
		if sc.ranged && (!plain || digits > 308) {
			if _, err := strconv.ParseFloat(s[i:end], 64); err != nil {
				return 0, ErrSyntax
			}
		}
		return end, nil
	}
	return 0, ErrSyntax
}

func scanLiteral(s string, i int, lit string) (int, error) {
	if len(s)-i >= len(lit) && s[i:i+len(lit)] == lit {
		return i + len(lit), nil
	}
	return 0, ErrSyntax
}

// skipStringRest validates the rest of a string from s[j] (inside the quotes): the
// escapes' grammar and no control characters, as json.Valid checks. It answers the
// index after the closing quote, or where the fault is.
func skipStringRest(s string, j int) (int, bool) {
	end, _, ok := scanString(s, j)
	return end, ok
}

// scanString is skipStringRest that also says whether the string is plain: printable
// ASCII without escapes, so that its text is its decoding whatever the Lone rule (the
// keys of the wire's objects always are; they are then not read a second time).
func scanString(s string, j int) (end int, plain, ok bool) {
	plain = true
	for j < len(s) {
		j = plainRun(s, j)
		if j >= len(s) {
			break
		}
		switch c := s[j]; {
		case c == '"':
			return j + 1, plain, true
		case c < 0x20:
			return j, false, false
		case c == '\\':
			plain = false
			if j+1 >= len(s) {
				return j, false, false
			}
			switch s[j+1] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
				j += 2
			case 'u':
				if Hex4(s, j+2) < 0 {
					return j, false, false
				}
				j += 6
			default:
				return j, false, false
			}
		default:
			if c >= 0x80 {
				plain = false
			}
			j++
		}
	}
	return j, false, false
}
