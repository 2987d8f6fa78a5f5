package plugin

import (
	"encoding/json"
	"errors"
	"strconv"
	"unicode/utf8"
	"unsafe"

	"github.com/cpex-go/cpex/internal/jsonesc"
)

// A purpose-built JSON decoder for payloads: a chain of Go guards decodes every payload
// Python hands over, and encoding/json's generic decoder spent a quarter of the chain
// there. It builds exactly the tree json.Unmarshal builds into an `any`
// (map[string]any, []any, string, float64, bool, nil): same numbers (strconv.ParseFloat),
// same string unescaping (invalid UTF-8 and lone surrogates become U+FFFD), last
// duplicate key wins, same nesting limit. Unescaped strings and keys are substrings of
// one copy of the document, so a 16 KB payload costs one string allocation plus the
// maps and slices. On any error the caller falls back to encoding/json, which produces
// the error text callers have always seen; the fuzz target checks the equivalence.

var errJSON = errors.New("invalid JSON")

// maxJSONDepth is encoding/json's nesting limit (deeper documents are invalid there).
const maxJSONDepth = 10000

type treeDecoder struct {
	s     string // the document
	keep  bool   // build the tree (false: validate only)
	depth int
}

// decodeTree decodes doc like json.Unmarshal(doc, &v) with v of type any.
func decodeTree(doc []byte) (any, error) {
	d := treeDecoder{s: string(doc), keep: true}
	v, err := d.document()
	if err != nil {
		var want any
		if jerr := json.Unmarshal(doc, &want); jerr != nil {
			return nil, jerr
		}
		// Unreachable unless the decoders disagree: trust encoding/json.
		return want, nil
	}
	return v, nil
}

// ValidJSON reports whether doc is one valid JSON document, as json.Valid does (numbers
// beyond float64's range are valid JSON; decoding them into a tree fails later, exactly
// as with encoding/json), without allocating.
func ValidJSON(doc []byte) bool {
	if len(doc) == 0 {
		return false
	}
	// The validating pass never keeps substrings, so viewing the bytes as a string
	// without a copy is safe: nothing outlives this call.
	d := treeDecoder{s: bytesView(doc)}
	_, err := d.document()
	return err == nil
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
	if d.depth++; d.depth > maxJSONDepth {
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
	if d.depth++; d.depth > maxJSONDepth {
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
	neg := s[i] == '-'
	if neg {
		i++
	}
	var n uint64
	digits := 0
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
		return nil, i, errJSON
	}
	plain := true
	if i < len(s) && s[i] == '.' {
		plain = false
		i++
		j := i
		for i < len(s) && s[i] >= '0' && s[i] <= '9' {
			i++
		}
		if i == j {
			return nil, i, errJSON
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
			return nil, i, errJSON
		}
	}
	if !d.keep {
		return nil, i, nil
	}
	if plain && digits <= 15 {
		f := float64(n)
		if neg {
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
	return d.slowStr(i, j)
}

// slowStr decodes a string with escapes or invalid UTF-8; s[i+1:j] is plain text. A lone
// surrogate escape becomes U+FFFD (encoding/json's rule: what Go plugins read).
func (d *treeDecoder) slowStr(i, j int) (string, int, error) {
	if !d.keep {
		end, err := d.skipStr(j)
		return "", end, err
	}
	b := make([]byte, 0, j-i+16)
	b = append(b, d.s[i+1:j]...)
	b, end, ok := jsonesc.Append(b, d.s, j, jsonesc.Replace)
	if !ok {
		return "", end, errJSON
	}
	return string(b), end + 1, nil
}

// skipStr validates the rest of a string from s[j] (validation only: the escapes'
// grammar and no control characters, as json.Valid checks).
func (d *treeDecoder) skipStr(j int) (int, error) {
	s := d.s
	for j < len(s) {
		switch c := s[j]; {
		case c == '"':
			return j + 1, nil
		case c < 0x20:
			return j, errJSON
		case c == '\\':
			if j+1 >= len(s) {
				return j, errJSON
			}
			switch s[j+1] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
				j += 2
			case 'u':
				if jsonesc.Hex4(s, j+2) < 0 {
					return j, errJSON
				}
				j += 6
			default:
				return j, errJSON
			}
		default:
			j++
		}
	}
	return j, errJSON
}

// bytesView is b as a string without a copy; only for reads that end before b changes.
func bytesView(b []byte) string { return unsafe.String(unsafe.SliceData(b), len(b)) }

// plainRun skips, eight bytes at a time, the ASCII text from s[j] that needs no
// unescaping (no quote, backslash, control or non-ASCII byte), and returns where the
// byte-by-byte loop must take over: string payloads are mostly such text.
func plainRun(s string, j int) int {
	const ones, highs = 0x0101010101010101, 0x8080808080808080
	for ; j+8 <= len(s); j += 8 {
		x := uint64(s[j]) | uint64(s[j+1])<<8 | uint64(s[j+2])<<16 | uint64(s[j+3])<<24 |
			uint64(s[j+4])<<32 | uint64(s[j+5])<<40 | uint64(s[j+6])<<48 | uint64(s[j+7])<<56
		q := x ^ ones*'"'
		b := x ^ ones*'\\'
		// m has a high bit set iff some byte is < 0x20, '"', '\\' or >= 0x80:
		// (v-ones*n)&^v&highs is non-zero iff some byte of v is below n (borrows only
		// reach bytes above a true hit), and a byte equal to c is a zero byte of x^(ones*c).
		m := (x-ones*0x20)&^x | (q-ones)&^q | (b-ones)&^b | x
		if m&highs != 0 {
			return j
		}
	}
	return j
}
