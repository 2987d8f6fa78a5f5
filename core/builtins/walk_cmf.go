package builtins

import (
	"slices"
	"strconv"

	"github.com/cpex-go/cpex/core/cmf"
)

// Message hooks (cmf.*, evaluate) carry one content field, `message`: a CMF message tree
// (core/cmf). The guards scan only the parts of it that hold user, model or tool
// content: the text of text and thinking parts, tool-call and prompt-request arguments,
// tool-result content, embedded resource text, and prompt-result text and messages
// (recursively). Identifiers (role, content_type, ids, names, URIs) and media data
// (URLs, base64) are never scanned, so a mask can never corrupt the message's structure.
//
// Paths handed to the callbacks start at "message", e.g.
// ["message", "content", "0", "text"] or ["message", "content", "1", "content", "arguments", "q"].

const messageField = "message"

// The guards that scan content learn the message hooks here, in one place.
func init() {
	for _, h := range cmf.HookNames() {
		scanFields[h] = []string{messageField}
		piiFilterHooks = append(piiFilterHooks, h)
		piiViolations[h] = struct{ reason, description, code string }{
			"PII detected in message", "Sensitive information detected in message content", "PII_DETECTED_IN_MESSAGE",
		}
		secretsHooks = append(secretsHooks, h)
		secretsDescriptions[h] = "Potential secrets detected in message content"
	}
}

// visitField visits the scanned strings of one payload field: a whole subtree, except
// the message of a message hook, whose content leaves only are visited.
func visitField(hook, field string, v any, fn func(path []string, s string) bool) bool {
	if field != messageField || !cmf.IsMessageHook(hook) {
		return VisitStringsAt([]string{field}, v, fn)
	}
	stopped := false
	rewriteMessage(v, []string{field}, func(path []string, s string) (string, bool) {
		if !stopped && !fn(path, s) {
			stopped = true
		}
		return s, false
	})
	return !stopped
}

// rewriteField is visitField's rewriting twin (copy on write, as RewriteStrings).
func rewriteField(hook, field string, v any, fn func(path []string, s string) (string, bool)) (any, bool) {
	if field != messageField || !cmf.IsMessageHook(hook) {
		return RewriteStringsAt([]string{field}, v, fn)
	}
	return rewriteMessage(v, []string{field}, fn)
}

type rewriteFn = func(path []string, s string) (string, bool)

func rewriteMessage(v any, path []string, fn rewriteFn) (any, bool) {
	obj, ok := v.(map[string]any)
	if !ok {
		return v, false
	}
	parts, ok := obj["content"].([]any)
	if !ok {
		return v, false
	}
	var out []any
	for i, p := range parts {
		np, changed := rewritePart(p, append(slices.Clip(path), "content", strconv.Itoa(i)), fn)
		if !changed {
			continue
		}
		if out == nil {
			out = slices.Clone(parts)
		}
		out[i] = np
	}
	if out == nil {
		return v, false
	}
	return withKey(obj, "content", out), true
}

func rewritePart(v any, path []string, fn rewriteFn) (any, bool) {
	part, ok := v.(map[string]any)
	if !ok {
		return v, false
	}
	tag, _ := part["content_type"].(string)
	switch cmf.ContentType(tag) {
	case cmf.ContentText, cmf.ContentThinking:
		return rewriteKey(part, "text", path, fn)
	}
	inner, ok := part["content"].(map[string]any)
	if !ok {
		return v, false
	}
	ipath := append(slices.Clip(path), "content")
	var ninner any
	changed := false
	switch cmf.ContentType(tag) {
	case cmf.ContentToolCall, cmf.ContentPromptRequest:
		ninner, changed = rewriteKey(inner, "arguments", ipath, fn)
	case cmf.ContentToolResult, cmf.ContentResource:
		ninner, changed = rewriteKey(inner, "content", ipath, fn)
	case cmf.ContentPromptResult:
		var c1, c2 bool
		ninner, c1 = rewriteKey(inner, "content", ipath, fn)
		if msgs, ok := inner["messages"].([]any); ok {
			var out []any
			for j, m := range msgs {
				nm, ch := rewriteMessage(m, append(slices.Clip(ipath), "messages", strconv.Itoa(j)), fn)
				if !ch {
					continue
				}
				if out == nil {
					out = slices.Clone(msgs)
				}
				out[j] = nm
			}
			if out != nil {
				c2 = true
				ninner = withKey(ninner.(map[string]any), "messages", out)
			}
		}
		changed = c1 || c2
	}
	if !changed {
		return v, false
	}
	return withKey(part, "content", ninner), true
}

// rewriteKey rewrites the subtree under obj[key]; the result is obj itself when nothing
// changed, else a shallow copy with the new subtree.
func rewriteKey(obj map[string]any, key string, path []string, fn rewriteFn) (any, bool) {
	sub, ok := obj[key]
	if !ok {
		return obj, false
	}
	nv, changed := rewrite(sub, append(slices.Clip(path), key), fn)
	if !changed {
		return obj, false
	}
	return withKey(obj, key, nv), true
}

func withKey(obj map[string]any, key string, v any) map[string]any {
	out := make(map[string]any, len(obj))
	for k, e := range obj {
		out[k] = e
	}
	out[key] = v
	return out
}
