package pybind

import (
	"encoding/json"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/cpex-go/cpex/core"
	"github.com/cpex-go/cpex/internal/wirejson"
)

// parseContextFacts reads the facts of a Go plugin's direct call (GoPluginInvoke,
// GoPluginSingle): {"rid", "server_id", "tenant_id", "content_type", "user" (as in
// RunStart's facts), "timeout"?: seconds bounding the call (default core.DefaultTimeout)}.
//
// The documents the driver sends are read with wirejson's scanner: encoding/json's
// reflection cost a quarter of a PII filter call's CPU. Anything else (an error to
// report, a key the driver never sends, a number that is not plain) is left to
// parseContextFactsJSON, the reference reader, so the answer and every error text are
// exactly its own (FuzzParseContextFacts checks they agree).
func parseContextFacts(fn, doc string) (*core.PluginContext, time.Duration, error) {
	if m := lastFacts.Load(); m != nil && m.doc == doc {
		return m.context(), m.timeout, nil
	}
	if m, ok := readContextFacts(bytesOf(doc)); ok {
		if m.user.UserIsKeys && m.memoizable() { // a document without a user map reads fast
			m.doc = doc
			lastFacts.Store(m)
		}
		return m.context(), m.timeout, nil
	}
	return parseContextFactsJSON(fn, doc)
}

// lastFacts is the last facts document read and what it reads as. The driver sends the
// same document for every call under one GlobalContext (every plugin of a request, and
// a caller's loop reusing its context): reading it again was a sixth of a small call's
// CPU in the gateway profile's tight loop. One entry, replaced whole (atomically, calls
// run on any thread); a document that differs is read as before.
var lastFacts atomic.Pointer[contextFacts]

// contextFacts is a facts document read; each call gets its own PluginContext (context).
type contextFacts struct {
	doc     string // set once memoized
	base    core.PluginContext
	user    core.Facts
	timeout time.Duration
}

// context is a fresh PluginContext for one call: the texts copied, the user built anew
// (a map a plugin may write to is never shared between calls).
func (m *contextFacts) context() *core.PluginContext {
	pc := m.base
	pc.User = m.user.ContextUser()
	return &pc
}

// memoizable: the user's values are immutable scalars, so ContextUser's fresh map shares
// nothing a plugin could change; a nested value ({"json": ...}) is read anew every call.
func (m *contextFacts) memoizable() bool {
	for _, v := range m.user.UserValues {
		switch v.(type) {
		case nil, string, bool, json.Number, float64, int64, int:
		default:
			return false
		}
	}
	return true
}

// parseContextFactsFast answers ok=false for anything it does not read as the reference
// reader would.
func parseContextFactsFast(doc []byte) (*core.PluginContext, time.Duration, bool) {
	m, ok := readContextFacts(doc)
	if !ok {
		return nil, 0, false
	}
	return m.context(), m.timeout, true
}

func readContextFacts(doc []byte) (*contextFacts, bool) {
	m := &contextFacts{}
	pc := &m.base
	var timeout time.Duration
	var uf core.Facts
	ok := true
	err := wirejson.EachMember(doc, wirejson.Replace, func(key, v []byte) error {
		switch string(key) {
		case "rid":
			ok = factText(v, &pc.RequestID)
		case "server_id":
			ok = factText(v, &pc.ServerID)
		case "tenant_id":
			ok = factText(v, &pc.TenantID)
		case "content_type":
			ok = factText(v, &pc.ContentType)
		case "user":
			uf = core.Facts{} // a repeated key: the last one wins, as encoding/json's
			ok = factUser(v, &uf)
		case "timeout":
			timeout, ok = factTimeout(v)
		default: // encoding/json matches keys case-insensitively: its call
			ok = false
		}
		if !ok {
			return errSyntax
		}
		return nil
	})
	if err != nil || !ok {
		return nil, false
	}
	m.user, m.timeout = uf, timeout
	return m, true
}

// factText reads a string (U+FFFD for a lone surrogate, as encoding/json) or null
// (the reference's nil pointer: "").
func factText(v []byte, dst *string) bool {
	if isNull(v) {
		*dst = ""
		return true
	}
	s, err := wirejson.Unquote(v, wirejson.Replace)
	if err != nil {
		return false
	}
	*dst = s
	return true
}

// factTimeout reads a plain JSON number within the reference reader's bounds, or null.
func factTimeout(v []byte) (time.Duration, bool) {
	if isNull(v) {
		return 0, true
	}
	if len(v) == 0 || !(v[0] == '-' || (v[0] >= '0' && v[0] <= '9')) {
		return 0, false
	}
	for _, c := range v {
		if !(c >= '0' && c <= '9' || c == '.' || c == 'e' || c == 'E' || c == '+' || c == '-') {
			return 0, false
		}
	}
	f, err := strconv.ParseFloat(string(v), 64)
	if err != nil || !(f > 0) || f > 1e9 {
		return 0, false
	}
	return time.Duration(f * float64(time.Second)), true
}

// factUser reads facts.user: a string (lone surrogates kept, as parseUser), null, or
// {"keys": [str...], "values"?: {key: value}} with every value's key among the keys.
func factUser(v []byte, f *core.Facts) bool {
	if isNull(v) {
		return true
	}
	switch v[0] {
	case '"':
		u, err := unquoteText(v)
		if err != nil {
			return false
		}
		f.User, f.UserSet = u, true
		return true
	case '{':
	default:
		return false
	}
	var keys []string
	hasKeys := false
	var values map[string]any
	hasValues := false
	err := wirejson.EachMember(v, wirejson.Replace, func(key, val []byte) error {
		switch string(key) {
		case "keys":
			if isNull(val) || hasKeys { // a repeated key: the reference's call
				return errSyntax
			}
			keys, hasKeys = keys[:0], true
			return wirejson.EachElement(val, func(e []byte) error {
				if isNull(e) { // encoding/json leaves "" for null: the reference's call
					return errSyntax
				}
				s, err := wirejson.Unquote(e, wirejson.Replace)
				keys = append(keys, s)
				return err
			})
		case "values":
			if hasValues { // encoding/json would merge both maps: the reference's call
				return errSyntax
			}
			hasValues = true
			if isNull(val) {
				values = nil
				return nil
			}
			values = map[string]any{}
			return wirejson.EachMember(val, wirejson.Replace, func(k, x []byte) error {
				u, err := factUserValue(x)
				if err != nil {
					return err
				}
				values[string(k)] = u
				return nil
			})
		}
		return errSyntax
	})
	if err != nil || !hasKeys {
		return false
	}
	if keys == nil {
		keys = []string{}
	}
	if len(values) == 0 {
		values = nil
	}
	for k := range values {
		if !containsString(keys, k) {
			return false
		}
	}
	f.UserKeys, f.UserValues, f.UserIsKeys, f.UserSet = keys, values, true, true
	return true
}

// factUserValue: the common scalars directly, the rest through userValue (exact numbers,
// {"json": text}).
func factUserValue(x []byte) (any, error) {
	switch {
	case len(x) > 0 && x[0] == '"':
		return wirejson.Unquote(x, wirejson.Replace)
	case string(x) == "true":
		return true, nil
	case string(x) == "false":
		return false, nil
	case string(x) == "null":
		return nil, nil
	}
	return userValue(x)
}

func containsString(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
