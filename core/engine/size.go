package engine

import (
	"math"
	"strconv"
	"unicode/utf8"

	"github.com/cpex-go/cpex/core/plugin"
)

// sizeFacts is the payload-size guard for Go payloads (spec §11.1 step 2): the sum of
// len(str(v)) over a truthy args mapping, else len(str(result)) for a truthy result.
// Go has no Python str(), so lengths are those of Python's str() of the JSON value
// (strings in code points, dicts and lists in repr form), which is what the Python
// side measures for JSON-shaped payloads. A payload whose JSON text is at most half the
// limit cannot exceed it (a repr is at most twice as long as compact JSON), so such
// payloads are never decoded for the guard.
func sizeFacts(p *plugin.Payload) (string, int) {
	if p == nil || (!decoded(p) && p.RawLen() <= plugin.MaxPayloadSize/2) {
		return "", 0
	}
	v, err := p.Value()
	if err != nil {
		return "", 0
	}
	m, ok := v.(map[string]any)
	if !ok {
		return "", 0
	}
	if args, ok := m["args"].(map[string]any); ok && len(args) > 0 {
		n := 0
		for _, x := range args {
			n += pyStrLen(x)
		}
		return "args", n
	}
	if r := m["result"]; truthy(r) {
		return "result", pyStrLen(r)
	}
	return "", 0
}

// truthy mirrors Python truthiness for JSON values.
func truthy(v any) bool {
	switch x := v.(type) {
	case nil:
		return false
	case bool:
		return x
	case string:
		return x != ""
	case float64:
		return x != 0
	case map[string]any:
		return len(x) > 0
	case []any:
		return len(x) > 0
	}
	return true
}

// pyStrLen is len(str(v)) for a JSON value; pyReprLen is len(repr(v)).
func pyStrLen(v any) int {
	if s, ok := v.(string); ok {
		return utf8.RuneCountInString(s)
	}
	return pyReprLen(v)
}

func pyReprLen(v any) int {
	switch x := v.(type) {
	case nil:
		return 4 // None
	case bool:
		if x {
			return 4
		}
		return 5
	case string:
		return utf8.RuneCountInString(x) + 2
	case float64:
		if x == math.Trunc(x) && math.Abs(x) < 1e16 {
			return len(strconv.FormatInt(int64(x), 10))
		}
		return len(strconv.FormatFloat(x, 'g', -1, 64))
	case map[string]any:
		n := 2
		i := 0
		for k, e := range x {
			if i > 0 {
				n += 2
			}
			n += utf8.RuneCountInString(k) + 2 + 2 + pyReprLen(e)
			i++
		}
		return n
	case []any:
		n := 2
		for i, e := range x {
			if i > 0 {
				n += 2
			}
			n += pyReprLen(e)
		}
		return n
	}
	return 0
}

func decoded(p *plugin.Payload) bool { _, ok := p.Decoded(); return ok }
