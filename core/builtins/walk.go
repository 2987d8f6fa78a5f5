package builtins

import (
	"maps"
	"slices"
	"strconv"
)

// scanFields maps each built-in hook to the top-level payload attributes that carry user
// or tool content. Field names are those of the Python payload models' model_dump(mode=
// "json") (spec §16); identifiers such as tool names, prompt ids and agent ids are not
// content and are never scanned. The lists only name fields the gateway's write policies
// let a plugin change, so a redaction is never silently dropped by the executor.
var scanFields = map[string][]string{
	"tool_pre_invoke":     {"args"},
	"tool_post_invoke":    {"result"},
	"prompt_pre_fetch":    {"args"},
	"prompt_post_fetch":   {"result"},
	"resource_pre_fetch":  {"uri", "metadata"},
	"resource_post_fetch": {"content"},
	"agent_pre_invoke":    {"messages", "system_prompt", "parameters"},
	"agent_post_invoke":   {"messages", "tool_calls"},
}

// ScanFields returns the top-level payload attributes a guard scans for hook, in the
// order they are scanned: tool_pre_invoke → args; tool_post_invoke → result;
// prompt_pre_fetch → args; prompt_post_fetch → result (the messages of the rendered
// prompt); resource_pre_fetch → uri, metadata; resource_post_fetch → content;
// agent_pre_invoke → messages, system_prompt, parameters; agent_post_invoke → messages,
// tool_calls; the message hooks (cmf.*, evaluate) → message, of which only the content
// parts' text, arguments and results are scanned (walk_cmf.go). Any other hook (http_*,
// identity, custom) has no content fields: nil.
// The returned slice is a copy the caller may keep.
func ScanFields(hook string) []string {
	return slices.Clone(scanFields[hook])
}

// VisitStrings calls fn on every string leaf of the decoded JSON tree v (map[string]any,
// []any, string; numbers, bools and nil are skipped; map keys are not visited), depth
// first, map entries in sorted key order and list elements in index order, so findings
// and replacements are deterministic. path holds the map keys and decimal list indices
// from v down to the leaf; it is reused between calls, so fn must copy it to keep it.
// fn returns false to stop the walk; VisitStrings reports whether it ran to the end.
func VisitStrings(v any, fn func(path []string, s string) bool) bool {
	return visit(v, make([]string, 0, 8), fn)
}

// VisitStringsAt is VisitStrings with the paths starting at prefix (e.g. the payload field
// the tree was taken from).
func VisitStringsAt(prefix []string, v any, fn func(path []string, s string) bool) bool {
	return visit(v, append(make([]string, 0, len(prefix)+8), prefix...), fn)
}

func visit(v any, path []string, fn func([]string, string) bool) bool {
	switch t := v.(type) {
	case string:
		return fn(path, t)
	case map[string]any:
		var kb [8]string
		for _, k := range appendSortedKeys(kb[:0], t) {
			if !visit(t[k], append(path, k), fn) {
				return false
			}
		}
	case []any:
		for i, e := range t {
			if !visit(e, append(path, strconv.Itoa(i)), fn) {
				return false
			}
		}
	}
	return true
}

// RewriteStrings walks v like VisitStrings and calls fn on every string leaf; when fn
// returns (s2, true) the leaf is replaced by s2. It returns the new tree and whether any
// leaf changed. The input is never mutated (it is shared with other plugins and with the
// caller): only the maps and lists on the path to a changed leaf are copied, everything
// else is shared with v; when nothing changed the result is v itself. The path passed to
// fn is reused between calls (copy it to keep it).
func RewriteStrings(v any, fn func(path []string, s string) (string, bool)) (any, bool) {
	return rewrite(v, make([]string, 0, 8), fn)
}

// RewriteStringsAt is RewriteStrings with the paths starting at prefix.
func RewriteStringsAt(prefix []string, v any, fn func(path []string, s string) (string, bool)) (any, bool) {
	return rewrite(v, append(make([]string, 0, len(prefix)+8), prefix...), fn)
}

func rewrite(v any, path []string, fn func([]string, string) (string, bool)) (any, bool) {
	switch t := v.(type) {
	case string:
		if s, changed := fn(path, t); changed {
			return s, true
		}
		return v, false
	case map[string]any:
		var out map[string]any
		var kb [8]string
		for _, k := range appendSortedKeys(kb[:0], t) {
			nv, changed := rewrite(t[k], append(path, k), fn)
			if !changed {
				continue
			}
			if out == nil {
				// maps.Clone copies the table whole: a third of the cost of
				// reinserting every key of a small map
				out = maps.Clone(t)
			}
			out[k] = nv
		}
		if out == nil {
			return v, false
		}
		return out, true
	case []any:
		var out []any
		for i, e := range t {
			nv, changed := rewrite(e, append(path, strconv.Itoa(i)), fn)
			if !changed {
				continue
			}
			if out == nil {
				out = slices.Clone(t)
			}
			out[i] = nv
		}
		if out == nil {
			return v, false
		}
		return out, true
	}
	return v, false
}

// VisitPayload visits the string leaves of the ScanFields(hook) attributes of a decoded
// payload object, with paths starting at the field name (e.g. ["args", "user", "email"]).
// A payload that is not an object, or a hook without content fields, visits nothing.
func VisitPayload(payload any, hook string, fn func(path []string, s string) bool) bool {
	obj, ok := payload.(map[string]any)
	if !ok {
		return true
	}
	for _, f := range scanFields[hook] {
		if v, present := obj[f]; present {
			if !visitField(hook, f, v, fn) {
				return false
			}
		}
	}
	return true
}

// RewritePayload rewrites the string leaves of the ScanFields(hook) attributes of a
// decoded payload object (paths start at the field name) and returns the whole new
// top-level object for core.Result.ModifiedPayload: a shallow copy of payload with the
// changed fields replaced. It returns (nil, false) when nothing changed or payload is not
// an object. payload itself is never mutated.
func RewritePayload(payload any, hook string, fn func(path []string, s string) (string, bool)) (map[string]any, bool) {
	obj, ok := payload.(map[string]any)
	if !ok {
		return nil, false
	}
	var out map[string]any
	for _, f := range scanFields[hook] {
		v, present := obj[f]
		if !present {
			continue
		}
		nv, changed := rewriteField(hook, f, v, fn)
		if !changed {
			continue
		}
		if out == nil {
			out = maps.Clone(obj) // see rewrite
		}
		out[f] = nv
	}
	return out, out != nil
}

// appendSortedKeys appends the keys of m to dst and sorts them. Callers pass a small
// stack array, so the common small map costs no allocation.
func appendSortedKeys(dst []string, m map[string]any) []string {
	keys := dst
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}
