package wirejson

import (
	"encoding/json"
	"errors"
	"strconv"
	"unicode/utf8"
)

// The tree decoder: a chain of Go guards decodes every payload Python hands over, and
// encoding/json's generic decoder spent a quarter of the chain there. It builds exactly
// the tree json.Unmarshal builds into an `any` (map[string]any, []any, string, float64,
// bool, nil): same numbers (strconv.ParseFloat), same string unescaping (invalid UTF-8
// and lone surrogates become U+FFFD), last duplicate key wins, same nesting limit.
// Unescaped strings and keys are substrings of one copy of the document, so a 16 KB
// payload costs one string allocation plus the maps and slices.

var errJSON = errors.New("invalid JSON")

// MaxDepth is encoding/json's nesting limit: deeper documents are invalid there, and
// in every reader of this package.
const MaxDepth = 10000

// Decode decodes doc like json.Unmarshal(doc, &v) with v of type any. On an error it
// answers encoding/json's, whose text callers have always seen.
func Decode(doc []byte) (any, error) {
	d := treeDecoder{s: string(doc), keep: true}
	v, err := d.document()
	if err != nil {
		var want any
		if jerr := json.Unmarshal(doc, &want); jerr != nil {
			return nil, jerr
		}
		// Unreachable unless the decoders disagree (the fuzz target checks they
		// don't): trust encoding/json.
		return want, nil
	}
	return v, nil
}

// DecodeText is Decode of a document held in a string: the tree's strings are
// substrings of doc itself (strings are immutable), so decoding makes no copy of the
// text. A tree that keeps one of them keeps the whole document alive.
func DecodeText(doc string) (any, error) {
	d := treeDecoder{s: doc, keep: true}
	v, err := d.document()
	if err != nil {
		var want any
		if jerr := json.Unmarshal([]byte(doc), &want); jerr != nil {
			return nil, jerr
		}
		return want, nil // unreachable unless the decoders disagree: see Decode
	}
	return v, nil
}

// ValidText is Valid of a document held in a string.
func ValidText(doc string) bool {
	if doc == "" {
		return false
	}
	d := treeDecoder{s: doc}
	_, err := d.document()
	return err == nil
}

// Valid reports whether doc is one valid JSON document, as json.Valid does (numbers
// beyond float64's range are valid JSON; decoding them into a tree fails, exactly as
// with encoding/json), without allocating.
func Valid(doc []byte) bool {
	if len(doc) == 0 {
		return false
	}
	// The validating pass never keeps substrings, so a view of the bytes is safe.
	d := treeDecoder{s: bytesView(doc)}
	_, err := d.document()
	return err == nil
}

type treeDecoder struct {
	s     string // the document
	keep  bool   // build the tree (false: validate only)
	depth int
}

func (d *treeDecoder) document() (any, error) {
	i := d.ws(0)
	v, i, err := d.value(i)
	if err != nil {
		return nil, err
	}
	if d.ws(i) != len(d.s) {
		return nil, errJSON
	}
	return v, nil
}

func (d *treeDecoder) ws(i int) int {
	for i < len(d.s) {
		switch d.s[i] {
		case ' ', '\t', '\n', '\r':
			i++
		default:
			return i
		}
	}
	return i
}

func (d *treeDecoder) value(i int) (any, int, error) {
	if i >= len(d.s) {
		return nil, i, errJSON
	}
	switch c := d.s[i]; {
	case c == '"':
		v, j, err := d.str(i)
		if err != nil || !d.keep {
			return nil, j, err
		}
		return v, j, nil
	case c == '{':
		return d.object(i)
	case c == '[':
		return d.array(i)
	case c == 't':
		return d.literal(i, "true", true)
	case c == 'f':
		return d.literal(i, "false", false)
	case c == 'n':
		return d.literal(i, "null", nil)
	case c == '-' || c >= '0' && c <= '9':
		return d.number(i)
	}
	return nil, i, errJSON
}

func (d *treeDecoder) literal(i int, lit string, v any) (any, int, error) {
	if len(d.s)-i >= len(lit) && d.s[i:i+len(lit)] == lit {
		return v, i + len(lit), nil
	}
	return nil, i, errJSON
}

func (d *treeDecoder) object(i int) (any, int, error) {
	if d.depth++; d.depth > MaxDepth {
		return nil, i, errJSON
	}
	defer func() { d.depth-- }()
	var m map[string]any
	if d.keep {
		m = map[string]any{}
	}
	i = d.ws(i + 1)
	if i < len(d.s) && d.s[i] == '}' {
		return m, i + 1, nil
	}
	for {
		if i >= len(d.s) || d.s[i] != '"' {
			return nil, i, errJSON
		}
		k, j, err := d.str(i)
		if err != nil {
			return nil, j, err
		}
		i = d.ws(j)
		if i >= len(d.s) || d.s[i] != ':' {
			return nil, i, errJSON
		}
		v, j, err := d.value(d.ws(i + 1))
		if err != nil {
			return nil, j, err
		}
		if d.keep {
			m[k] = v
		}
		i = d.ws(j)
		if i >= len(d.s) {
			return nil, i, errJSON
		}
		switch d.s[i] {
		case '}':
			return m, i + 1, nil
		case ',':
			i = d.ws(i + 1)
		default:
			return nil, i, errJSON
		}
	}
}

func (d *treeDecoder) array(i int) (any, int, error) {
	if d.depth++; d.depth > MaxDepth {
		return nil, i, errJSON
	}
	defer func() { d.depth-- }()
	var a []any
	if d.keep {
		a = []any{}
	}
	i = d.ws(i + 1)
	if i < len(d.s) && d.s[i] == ']' {
		return a, i + 1, nil
	}
	for {
		v, j, err := d.value(i)
		if err != nil {
			return nil, j, err
		}
		if d.keep {
			a = append(a, v)
		}
		i = d.ws(j)
		if i >= len(d.s) {
			return nil, i, errJSON
		}
		switch d.s[i] {
		case ']':
			return a, i + 1, nil
		case ',':
			i = d.ws(i + 1)
		default:
			return nil, i, errJSON
		}
	}
}

// number follows -?(0|[1-9][0-9]*)(.[0-9]+)?([eE][+-]?[0-9]+)? and converts it with
// strconv.ParseFloat, as encoding/json does for an `any` target; short integers take
// an exact shortcut (15 digits are below 2^53, so float64(n) is what ParseFloat gives).
func (d *treeDecoder) number(i int) (any, int, error) {
	s := d.s
	start := i
	end, plain, digits, n := numberEnd(s, i)
	if end < 0 {
		return nil, -end - 1, errJSON
	}
	i = end
	if !d.keep {
		return nil, i, nil
	}
	if plain && digits <= 15 {
		f := float64(n)
		if s[start] == '-' {
			f = -f
		}
		return f, i, nil
	}
	f, err := strconv.ParseFloat(s[start:i], 64)
	if err != nil {
		return nil, i, err
	}
	return f, i, nil
}

// numberEnd scans the number at s[i] by JSON's grammar: its end, whether it is a plain
// integer, its count of integer digits and (up to 19 digits) their value; a negative
// end -k-1 marks a fault at k.
func numberEnd(s string, i int) (end int, plain bool, digits int, n uint64) {
	if s[i] == '-' {
		i++
	}
	switch {
	case i < len(s) && s[i] == '0':
		i++
		digits = 1
	case i < len(s) && s[i] >= '1' && s[i] <= '9':
		for i < len(s) && s[i] >= '0' && s[i] <= '9' {
			if digits < 19 {
				n = n*10 + uint64(s[i]-'0')
			}
			digits++
			i++
		}
	default:
		return -i - 1, false, 0, 0
	}
	plain = true
	if i < len(s) && s[i] == '.' {
		plain = false
		i++
		j := i
		for i < len(s) && s[i] >= '0' && s[i] <= '9' {
			i++
		}
		if i == j {
			return -i - 1, false, 0, 0
		}
	}
	if i < len(s) && (s[i] == 'e' || s[i] == 'E') {
		plain = false
		i++
		if i < len(s) && (s[i] == '+' || s[i] == '-') {
			i++
		}
		j := i
		for i < len(s) && s[i] >= '0' && s[i] <= '9' {
			i++
		}
		if i == j {
			return -i - 1, false, 0, 0
		}
	}
	return i, plain, digits, n
}

// str decodes the string starting at s[i] == '"'. A string without escapes and with
// valid UTF-8 is a substring of the document (no copy).
func (d *treeDecoder) str(i int) (string, int, error) {
	s := d.s
	j := plainRun(s, i+1)
	for j < len(s) {
		c := s[j]
		if c == '"' {
			if d.keep {
				return s[i+1 : j], j + 1, nil
			}
			return "", j + 1, nil
		}
		if c == '\\' || c < 0x20 {
			break
		}
		if c < utf8.RuneSelf {
			j++
			continue
		}
		r, size := utf8.DecodeRuneInString(s[j:])
		if r == utf8.RuneError && size == 1 {
			break
		}
		j += size
	}
	if !d.keep {
		end, ok := skipStringRest(s, j)
		if !ok {
			return "", end, errJSON
		}
		return "", end, nil
	}
	// Escapes or invalid UTF-8 from s[j]; s[i+1:j] is plain text. A lone surrogate
	// escape becomes U+FFFD (encoding/json's rule: what Go plugins read).
	b := make([]byte, 0, j-i+16)
	b = append(b, s[i+1:j]...)
	b, end, ok := AppendUnquoted(b, s, j, Replace)
	if !ok {
		return "", end, errJSON
	}
	return string(b), end + 1, nil
}
