package config

import (
	"fmt"
	"math"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"
)

// decoder turns a yaml.v3 node tree into the model, collecting every issue
// (like pydantic, which reports all errors of a document at once) instead
// of stopping at the first.
type decoder struct {
	opts   options
	issues []Issue
	// visits counts nodes expanded through aliases and merges, so that an
	// alias bomb ("billion laughs") fails instead of exhausting the machine.
	visits   int
	exceeded bool
}

// maxVisits bounds the work on one document; real configs stay far below.
const maxVisits = 1 << 20

// spend consumes n units of the visit budget; false once it is exhausted
// (the first time, an issue is recorded at n).
func (d *decoder) spend(node *yaml.Node, path string, units int) bool {
	d.visits += units
	if d.visits <= maxVisits {
		return true
	}
	if !d.exceeded {
		d.exceeded = true
		d.fail(node, path, "", "document too large or too many alias expansions")
	}
	return false
}

// fail records an issue at node n (which may be nil when a field is missing).
func (d *decoder) fail(n *yaml.Node, path, value, format string, args ...any) {
	is := Issue{Path: path, Value: value, Message: fmt.Sprintf(format, args...)}
	if n != nil {
		is.Line, is.Column = n.Line, n.Column
	}
	d.issues = append(d.issues, is)
}

// failValue records an issue quoting n itself as the bad value.
func (d *decoder) failValue(n *yaml.Node, path, format string, args ...any) {
	d.fail(n, path, describe(n), format, args...)
}

// describe renders a node for an error message: a quoted scalar, or its kind.
func describe(n *yaml.Node) string {
	n = resolve(n)
	if n == nil {
		return "nothing"
	}
	switch n.Kind {
	case yaml.ScalarNode:
		if n.ShortTag() == "!!null" {
			return "null"
		}
		v := n.Value
		if len(v) > 80 {
			v = v[:77] + "..."
		}
		if n.ShortTag() == "!!str" {
			return strconv.Quote(v)
		}
		return v
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	default:
		return "a YAML node"
	}
}

// resolve follows aliases (*anchor) to the node they name.
func resolve(n *yaml.Node) *yaml.Node {
	for depth := 0; n != nil && n.Kind == yaml.AliasNode && depth < 100; depth++ {
		n = n.Alias
	}
	return n
}

func isNull(n *yaml.Node) bool {
	n = resolve(n)
	return n == nil || (n.Kind == yaml.ScalarNode && n.ShortTag() == "!!null")
}

// field is one key/value pair of a mapping.
type field struct {
	key      string
	keyNode  *yaml.Node
	valueRaw *yaml.Node
}

func (f field) value() *yaml.Node { return resolve(f.valueRaw) }

// fields returns the pairs of mapping n with merge keys (<<) expanded and
// later duplicates winning, as PyYAML's safe_load builds a dict. Keys that
// are not strings cannot name a model field and are skipped (extra keys are
// ignored by every model).
func (d *decoder) fields(n *yaml.Node) []field {
	return d.mergeFields(n, 0)
}

func (d *decoder) mergeFields(n *yaml.Node, depth int) []field {
	n = resolve(n)
	if n == nil || n.Kind != yaml.MappingNode || depth > 20 || !d.spend(n, "", len(n.Content)) {
		return nil
	}
	var merged, own []field
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := resolve(n.Content[i]), n.Content[i+1]
		if k == nil || k.Kind != yaml.ScalarNode {
			continue
		}
		if k.ShortTag() == "!!merge" {
			src := resolve(v)
			if src != nil && src.Kind == yaml.SequenceNode {
				// Earlier sources win: add them last.
				for j := len(src.Content) - 1; j >= 0; j-- {
					merged = append(merged, d.mergeFields(src.Content[j], depth+1)...)
				}
			} else {
				merged = append(merged, d.mergeFields(src, depth+1)...)
			}
			continue
		}
		if k.ShortTag() != "!!str" {
			continue
		}
		own = append(own, field{key: k.Value, keyNode: k, valueRaw: v})
	}
	all := append(merged, own...)
	// Keep first-appearance order, last value wins.
	index := map[string]int{}
	out := make([]field, 0, len(all))
	for _, f := range all {
		if i, ok := index[f.key]; ok {
			out[i] = f
			continue
		}
		index[f.key] = len(out)
		out = append(out, f)
	}
	return out
}

// lookup returns the field named key, if present.
func lookup(fs []field, key string) (field, bool) {
	for _, f := range fs {
		if f.key == key {
			return f, true
		}
	}
	return field{}, false
}

// requireMapping checks that n is a mapping; it records an issue if not.
func (d *decoder) requireMapping(n *yaml.Node, path, what string) bool {
	n = resolve(n)
	if n == nil || n.Kind != yaml.MappingNode {
		d.failValue(n, path, "%s must be a mapping", what)
		return false
	}
	return true
}

// str decodes a required string. Like pydantic, numbers and booleans are
// not strings (quote them: version: "1.0").
func (d *decoder) str(n *yaml.Node, path string) (string, bool) {
	n = resolve(n)
	if n == nil || n.Kind != yaml.ScalarNode || n.ShortTag() != "!!str" {
		d.failValue(n, path, "must be a string")
		return "", false
	}
	return n.Value, true
}

// optStr decodes an Optional[str]: null gives nil.
func (d *decoder) optStr(n *yaml.Node, path string) (*string, bool) {
	if isNull(n) {
		return nil, true
	}
	s, ok := d.str(n, path)
	if !ok {
		return nil, false
	}
	return &s, true
}

// integer decodes an int the way pydantic's lax mode does: integers,
// floats without a fractional part, booleans and numeric strings.
func (d *decoder) integer(n *yaml.Node, path string) (int, bool) {
	n = resolve(n)
	if n != nil && n.Kind == yaml.ScalarNode {
		switch n.ShortTag() {
		case "!!int":
			var v int64
			if err := n.Decode(&v); err == nil && v >= math.MinInt && v <= math.MaxInt {
				return int(v), true
			}
		case "!!bool":
			if b, ok := parseBool(n.Value); ok {
				return boolToInt(b), true
			}
		case "!!float", "!!str":
			if v, ok := parseLaxInt(n.Value); ok {
				return v, true
			}
		}
	}
	d.failValue(n, path, "must be an integer")
	return 0, false
}

// parseLaxInt accepts "10", " 10 ", "10.0" and "1_000".
func parseLaxInt(s string) (int, bool) {
	s = strings.ReplaceAll(strings.TrimSpace(s), "_", "")
	if v, err := strconv.ParseInt(s, 10, 0); err == nil {
		return int(v), true
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil || f != math.Trunc(f) || math.IsInf(f, 0) || f > math.MaxInt64 || f < math.MinInt64 {
		return 0, false
	}
	return int(f), true
}

func boolToInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

// number decodes a float (pydantic lax: ints, floats, booleans, numeric strings).
func (d *decoder) number(n *yaml.Node, path string) (float64, bool) {
	n = resolve(n)
	if n != nil && n.Kind == yaml.ScalarNode {
		switch n.ShortTag() {
		case "!!int", "!!float":
			var v float64
			if err := n.Decode(&v); err == nil {
				return v, true
			}
		case "!!bool":
			if b, ok := parseBool(n.Value); ok {
				return float64(boolToInt(b)), true
			}
		case "!!str":
			if v, err := strconv.ParseFloat(strings.TrimSpace(n.Value), 64); err == nil {
				return v, true
			}
		}
	}
	d.failValue(n, path, "must be a number")
	return 0, false
}

// boolean decodes a bool (pydantic lax: true/false, 0/1, yes/no, on/off, t/f, y/n).
func (d *decoder) boolean(n *yaml.Node, path string) (bool, bool) {
	n = resolve(n)
	if n != nil && n.Kind == yaml.ScalarNode {
		switch n.ShortTag() {
		case "!!bool", "!!str", "!!int":
			if b, ok := parseBool(n.Value); ok {
				return b, true
			}
		}
	}
	d.failValue(n, path, "must be a boolean")
	return false, false
}

// parseBool accepts the spellings pydantic accepts for a bool.
func parseBool(s string) (bool, bool) {
	switch strings.ToLower(s) {
	case "1", "true", "t", "yes", "y", "on":
		return true, true
	case "0", "false", "f", "no", "n", "off":
		return false, true
	}
	return false, false
}

// strList decodes list[str]; null is rejected unless nullable.
func (d *decoder) strList(n *yaml.Node, path string, nullable bool) ([]string, bool) {
	if nullable && isNull(n) {
		return nil, true
	}
	n = resolve(n)
	if n == nil || n.Kind != yaml.SequenceNode {
		d.failValue(n, path, "must be a list of strings")
		return nil, false
	}
	out := make([]string, 0, len(n.Content))
	ok := true
	for i, item := range n.Content {
		s, good := d.str(item, fmt.Sprintf("%s[%d]", path, i))
		ok = ok && good
		out = append(out, s)
	}
	return out, ok
}

// strSet decodes Optional[set[str]]: duplicates dropped (first order kept),
// and an empty set becomes nil, which upstream treats and dumps as None.
func (d *decoder) strSet(n *yaml.Node, path string) ([]string, bool) {
	list, ok := d.strList(n, path, true)
	if !ok || len(list) == 0 {
		return nil, ok
	}
	seen := make(map[string]bool, len(list))
	out := list[:0]
	for _, s := range list {
		if !seen[s] {
			seen[s] = true
			out = append(out, s)
		}
	}
	return out, true
}

// anyMap decodes dict[str, Any] (null gives nil when nullable) into plain
// JSON-compatible Go values.
func (d *decoder) anyMap(n *yaml.Node, path string, nullable bool) (map[string]any, bool) {
	if nullable && isNull(n) {
		return nil, true
	}
	n = resolve(n)
	if n == nil || n.Kind != yaml.MappingNode {
		d.failValue(n, path, "must be a mapping")
		return nil, false
	}
	v, ok := d.anyValue(n, path, 0)
	if !ok {
		return nil, false
	}
	return v.(map[string]any), true
}

// maxDepth bounds recursion on hostile documents.
const maxDepth = 200

// anyValue converts a node into string/int/float/bool/nil/[]any/map[string]any.
func (d *decoder) anyValue(n *yaml.Node, path string, depth int) (any, bool) {
	n = resolve(n)
	if n == nil {
		return nil, true
	}
	if depth > maxDepth {
		d.fail(n, path, "", "value nested too deeply")
		return nil, false
	}
	if !d.spend(n, path, 1) {
		return nil, false
	}
	switch n.Kind {
	case yaml.MappingNode:
		out := map[string]any{}
		ok := true
		for i := 0; i+1 < len(n.Content); i += 2 {
			k := resolve(n.Content[i])
			if k != nil && k.Kind == yaml.ScalarNode && k.ShortTag() == "!!merge" {
				continue // expanded below through fields()
			}
			if k == nil || k.Kind != yaml.ScalarNode || k.ShortTag() != "!!str" {
				d.failValue(k, path, "mapping keys must be strings")
				ok = false
				continue
			}
		}
		for _, f := range d.fields(n) {
			v, good := d.anyValue(f.valueRaw, path+"."+f.key, depth+1)
			ok = ok && good
			out[f.key] = v
		}
		return out, ok
	case yaml.SequenceNode:
		out := make([]any, 0, len(n.Content))
		ok := true
		for i, item := range n.Content {
			v, good := d.anyValue(item, fmt.Sprintf("%s[%d]", path, i), depth+1)
			ok = ok && good
			out = append(out, v)
		}
		return out, ok
	case yaml.ScalarNode:
		switch n.ShortTag() {
		case "!!null":
			return nil, true
		case "!!bool":
			b, _ := parseBool(n.Value)
			return b, true
		case "!!int":
			var v int64
			if err := n.Decode(&v); err == nil {
				return v, true
			}
			var f float64
			if err := n.Decode(&f); err == nil { // beyond int64
				return f, true
			}
		case "!!float":
			var f float64
			if err := n.Decode(&f); err == nil {
				return f, true
			}
		default: // !!str, !!timestamp, !!binary and custom tags keep their text
			return n.Value, true
		}
	}
	d.failValue(n, path, "unsupported YAML value")
	return nil, false
}
