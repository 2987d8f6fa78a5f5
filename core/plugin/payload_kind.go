package plugin

import "fmt"

// Go plugins read object payloads: every hook payload is a model whose JSON is an
// object. A caller that passes something else (a Python caller's str or None as the
// payload) gives the plugin nothing it can inspect, and a guard that cannot inspect a
// payload must not let it through as if it had (issue 10, item 9). So a Go plugin is
// never called with such a payload: the call fails as a plugin error naming the plugin
// and what it got, and the plugin's on_error decides, as for a Python plugin that raises
// on the same input.

// PayloadKindError is the error of a Go plugin call whose payload is not an object.
type PayloadKindError struct {
	Plugin string // the plugin's name ("" when called without a ref)
	Got    string // "a string", "null", "a list", "a number", "a bool"
}

func (e *PayloadKindError) Error() string {
	if e.Plugin == "" {
		return fmt.Sprintf("Go plugin cannot read its payload: want an object, got %s", e.Got)
	}
	return fmt.Sprintf("Go plugin %s cannot read its payload: want an object, got %s", e.Plugin, e.Got)
}

// PayloadNotObject names the JSON kind of a payload that is not an object, or returns ""
// for an object (and for JSON text that does not parse, which the plugin reports itself,
// and for a nil *Payload, a Go caller's own business). On JSON text it looks at the
// first byte only.
func PayloadNotObject(p *Payload) string {
	if p == nil {
		return ""
	}
	if p.encoded.Load() {
		for _, c := range p.raw {
			switch c {
			case ' ', '\t', '\n', '\r':
				continue
			case '{':
				return ""
			case '"':
				return "a string"
			case '[':
				return "a list"
			case 'n':
				return "null"
			case 't', 'f':
				return "a bool"
			case '-', '0', '1', '2', '3', '4', '5', '6', '7', '8', '9':
				return "a number"
			}
			return ""
		}
		return ""
	}
	if !p.decoded.Load() || p.err != nil {
		return ""
	}
	switch p.value.(type) {
	case map[string]any:
		return ""
	case string:
		return "a string"
	case nil:
		return "null"
	case []any:
		return "a list"
	case bool:
		return "a bool"
	}
	return "a number"
}
