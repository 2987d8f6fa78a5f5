package pybind

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"
	"unsafe"

	"github.com/cpex-go/cpex/core"
	"github.com/cpex-go/cpex/core/config"
)

// decodeStrict decodes one JSON value into v, rejecting trailing data.
func decodeStrict(fn, what, doc string, v any) error {
	dec := json.NewDecoder(strings.NewReader(doc))
	dec.UseNumber()
	if err := dec.Decode(v); err != nil {
		return fmt.Errorf("%s: %s: invalid JSON %s: %v", fn, what, clip(doc), err)
	}
	if dec.More() {
		return fmt.Errorf("%s: %s: trailing data after the JSON value in %s", fn, what, clip(doc))
	}
	return nil
}

// clip shortens a value quoted in an error message.
func clip(s string) string {
	if len(s) > 120 {
		s = s[:120] + "…"
	}
	return strconv.Quote(s)
}

// executorOptions: {"timeout": secs, "default_policy": "allow"|"deny"}, each optional.
type executorOptions struct {
	Timeout       *json.Number `json:"timeout"`
	DefaultPolicy *string      `json:"default_policy"`
}

func parseExecutorOptions(fn, doc string) (secs float64, text string, hasTimeout bool, pol core.DefaultPolicy, hasPol bool, err error) {
	var o executorOptions
	if err = decodeStrict(fn, "opts", doc, &o); err != nil {
		return
	}
	if o.Timeout != nil {
		secs, err = o.Timeout.Float64()
		if err != nil || !(secs > 0) || secs > 1e9 {
			err = fmt.Errorf("%s: opts.timeout: want a positive number of seconds, got %s", fn, o.Timeout.String())
			return
		}
		text, hasTimeout = o.Timeout.String(), true
	}
	if o.DefaultPolicy != nil {
		pol, err = core.ParseDefaultPolicy(*o.DefaultPolicy)
		if err != nil {
			err = fmt.Errorf("%s: opts.default_policy: %v", fn, err)
			return
		}
		hasPol = true
	}
	return
}

// condInfo is one PluginCondition as Python sends it (lists or null).
type condInfo struct {
	ServerIDs    []text `json:"server_ids"`
	TenantIDs    []text `json:"tenant_ids"`
	Tools        []text `json:"tools"`
	Prompts      []text `json:"prompts"`
	Resources    []text `json:"resources"`
	Agents       []text `json:"agents"`
	UserPatterns []text `json:"user_patterns"`
	ContentTypes []text `json:"content_types"`
}

type refInfo struct {
	UUID       *text       `json:"uuid"`
	Name       *text       `json:"name"`
	Kind       text        `json:"kind"`
	Mode       *string     `json:"mode"`
	Priority   json.Number `json:"priority"`
	OnError    *string     `json:"on_error"`
	Conditions []condInfo  `json:"conditions"`
	Config     []text      `json:"config"`
	Go         json.Number `json:"go"`
}

func parseRefInfo(fn, doc string) (*refInfo, error) {
	var ri refInfo
	if err := decodeStrict(fn, "info", doc, &ri); err != nil {
		return nil, err
	}
	if ri.UUID == nil || *ri.UUID == "" {
		return nil, fmt.Errorf("%s: info.uuid: required, got %s", fn, clip(doc))
	}
	if ri.Name == nil || *ri.Name == "" {
		return nil, fmt.Errorf("%s: info.name: required (ref %s)", fn, *ri.UUID)
	}
	if ri.Mode == nil || !config.Mode(*ri.Mode).Valid() {
		return nil, fmt.Errorf("%s: info.mode of plugin %q: want one of fire_and_forget, concurrent, sequential, transform, audit, disabled, got %s", fn, *ri.Name, optQuote(ri.Mode))
	}
	if ri.OnError == nil || !config.OnError(*ri.OnError).Valid() {
		return nil, fmt.Errorf("%s: info.on_error of plugin %q: want fail, ignore or disable, got %s", fn, *ri.Name, optQuote(ri.OnError))
	}
	return &ri, nil
}

func optQuote(s *string) string {
	if s == nil {
		return "null"
	}
	return strconv.Quote(*s)
}

func intOf(fn, field string, n json.Number, def int) (int, error) {
	if n == "" {
		return def, nil
	}
	v, err := strconv.ParseInt(string(n), 10, 64)
	if err != nil {
		return 0, fmt.Errorf("%s: %s: want an integer, got %s", fn, field, n.String())
	}
	return int(v), nil
}

func (c condInfo) condition() config.PluginCondition {
	return config.PluginCondition{
		ServerIDs: textStrings(c.ServerIDs), TenantIDs: textStrings(c.TenantIDs), Tools: textStrings(c.Tools),
		Prompts: textStrings(c.Prompts), Resources: textStrings(c.Resources), Agents: textStrings(c.Agents),
		UserPatterns: textStrings(c.UserPatterns), ContentTypes: textStrings(c.ContentTypes),
	}
}

type goPluginSpec struct {
	Name   *text          `json:"name"`
	Kind   *string        `json:"kind"`
	Hooks  []string       `json:"hooks"`
	Config map[string]any `json:"config"`
}

// factsDoc is what RunStart/RunSingle read besides core.Facts.
type factsDoc struct {
	Merge bool
	Meta  bool
}

// parseFacts reads RunStart's (or RunSingle's) facts (docs/protocol.md, "Facts").
// Unknown keys are ignored; every known key is checked.
func parseFacts(fn, doc string) (*core.Facts, *factsDoc, error) {
	f := &core.Facts{}
	fd := &factsDoc{}
	err := eachMember(bytesOf(doc), func(key []byte, v []byte) error {
		var err error
		switch string(key) {
		case "rid":
			f.RequestID, err = stringOrNull(v)
		case "server_id":
			f.ServerID, err = optString(v)
		case "tenant_id":
			f.TenantID, err = optString(v)
		case "content_type":
			f.ContentType, err = optString(v)
		case "hook", "htext":
			var s string
			if s, err = stringOrNull(v); err == nil && !isNull(v) {
				f.Hook = s
			}
		case "user":
			return parseUser(fn, v, f)
		case "match":
			var s string
			if s, err = stringOrNull(v); err == nil && s != "" {
				f.Match, f.HasMatch = s, true
			}
		case "size":
			return parseSize(fn, v, f)
		case "pool":
			var n int64
			if n, err = intOfRaw(v); err == nil && n < 0 {
				return fmt.Errorf("%s: facts.pool: want ≥ 0, got %d", fn, n)
			}
			f.Pool = int(n)
		case "vexc":
			f.ViolationsAsErrors, err = boolOf(v)
		case "trace":
			f.Trace, err = boolOf(v)
		case "merge":
			fd.Merge, err = boolOf(v)
		case "meta":
			fd.Meta, err = boolOf(v)
		case "ext":
			_, err = boolOf(v)
		}
		if err != nil {
			return fmt.Errorf("%s: facts.%s: %v (got %s)", fn, string(key), err, clip(string(v)))
		}
		return nil
	})
	if err != nil {
		if errors.Is(err, errSyntax) {
			return nil, nil, fmt.Errorf("%s: facts: invalid JSON %s", fn, clip(doc))
		}
		return nil, nil, err
	}
	return f, fd, nil
}

func parseSize(fn string, v []byte, f *core.Facts) error {
	if isNull(v) {
		return nil
	}
	// at most two items are kept (a fixed array: no slice per run); more is an error
	var items [2][]byte
	count := 0
	if err := eachElement(v, func(e []byte) error {
		if count < len(items) {
			items[count] = e
		}
		count++
		return nil
	}); err != nil {
		return fmt.Errorf("%s: facts.size: want [attr, n] or null, got %s", fn, clip(string(v)))
	}
	if count == 0 {
		return nil
	}
	if count != 2 {
		return fmt.Errorf("%s: facts.size: want [attr, n] or null, got %d items", fn, count)
	}
	attr, err := unquoteBytes(items[0])
	if err != nil || (string(attr) != "args" && string(attr) != "result") {
		return fmt.Errorf("%s: facts.size[0]: want \"args\" or \"result\", got %s", fn, string(items[0]))
	}
	n, err := intOfRaw(items[1])
	if err != nil || n < 0 || isNull(items[1]) {
		return fmt.Errorf("%s: facts.size[1]: want a size ≥ 0, got %s", fn, string(items[1]))
	}
	if string(attr) == "args" {
		f.SizeAttr = "args"
	} else {
		f.SizeAttr = "result"
	}
	f.Size = int(n)
	return nil
}

func parseUser(fn string, raw json.RawMessage, f *core.Facts) error {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || string(raw) == "null" {
		return nil
	}
	switch raw[0] {
	case '"':
		u, err := unquoteText(raw) // a lone surrogate survives (wtf8.go)
		if err != nil {
			return fmt.Errorf("%s: facts.user: %v", fn, err)
		}
		f.User = u
		f.UserSet = true
		return nil
	case '{':
		return parseDictUser(fn, raw, f)
	}
	return fmt.Errorf("%s: facts.user: want a string, {\"keys\": [...]} or null, got %s", fn, clip(string(raw)))
}

// parseDictUser reads a dict user: {"keys": [...]} and an optional "values": {key:
// value} carrying its values so Go plugins can identify the user (the keys alone serve
// conditions); see userValue.
func parseDictUser(fn string, raw json.RawMessage, f *core.Facts) error {
	var u struct {
		Keys   *[]string                  `json:"keys"`
		Values map[string]json.RawMessage `json:"values"`
	}
	if err := json.Unmarshal(raw, &u); err != nil || u.Keys == nil {
		return fmt.Errorf("%s: facts.user: want a string, {\"keys\": [...]} or null, got %s", fn, clip(string(raw)))
	}
	var values map[string]any
	if len(u.Values) > 0 {
		known := make(map[string]struct{}, len(*u.Keys))
		for _, k := range *u.Keys {
			known[k] = struct{}{}
		}
		values = make(map[string]any, len(u.Values))
		for k, v := range u.Values {
			if _, ok := known[k]; !ok {
				return fmt.Errorf("%s: facts.user.values: key %q is not in facts.user.keys", fn, k)
			}
			x, err := userValue(v)
			if err != nil {
				return fmt.Errorf("%s: facts.user.values.%s: %v (got %s)", fn, k, err, clip(string(v)))
			}
			values[k] = x
		}
	}
	f.UserKeys, f.UserValues, f.UserIsKeys, f.UserSet = *u.Keys, values, true, true
	return nil
}

// userValue decodes one value of a dict user, losslessly: a string, a bool, null, a
// number (as json.Number, its exact text: never float64, which merges ids above 2^53),
// or {"json": text} for any other value (a list, a mapping, an int beyond 64 bits),
// text being that value's JSON, decoded here with exact numbers. Go plugins see the
// value itself; builtin/rate_limiter keys a user by it (issue 10, item 2).
func userValue(v json.RawMessage) (any, error) {
	v = bytes.TrimSpace(v)
	if len(v) == 0 {
		return nil, errors.New(userValueWant)
	}
	switch v[0] {
	case '"', 't', 'f', 'n', '-', '0', '1', '2', '3', '4', '5', '6', '7', '8', '9':
		return decodeExact(v)
	case '{':
		var w struct {
			JSON *string `json:"json"`
		}
		dec := json.NewDecoder(bytes.NewReader(v))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&w); err != nil || w.JSON == nil {
			return nil, errors.New(userValueWant)
		}
		x, err := decodeExact([]byte(*w.JSON))
		if err != nil {
			return nil, fmt.Errorf("json: %v", err)
		}
		return x, nil
	}
	return nil, errors.New(userValueWant)
}

const userValueWant = `want a string, number, bool, null or {"json": text}`

// decodeExact decodes one JSON value with numbers as json.Number; trailing data is an
// error.
func decodeExact(b []byte) (any, error) {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	var x any
	if err := dec.Decode(&x); err != nil {
		return nil, err
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, errors.New("trailing data after the value")
	}
	return x, nil
}

var statuses = map[string]core.OutcomeStatus{
	"ok": core.OutcomeOK, "timeout": core.OutcomeTimeout, "error": core.OutcomeError,
	"perror": core.OutcomePluginError, "vexc": core.OutcomeViolationError,
	"traise": core.OutcomeTimeoutRaised,
}

// parseOutcome reads a reported outcome (docs/protocol.md, "Outcomes").
func parseOutcome(fn, doc string) (*core.Outcome, error) {
	o := &core.Outcome{Continue: true}
	hasIndex := false
	var str, repr string // the raised exception's two texts (core picks one)
	err := eachMember(bytesOf(doc), func(key []byte, v []byte) error {
		var err error
		var n int64
		switch string(key) {
		case "i":
			if isNull(v) {
				return fmt.Errorf("%s: outcome.i: required, got null", fn)
			}
			n, err = intOfRaw(v)
			o.Index, hasIndex = int(n), err == nil
		case "st":
			var s []byte
			if s, err = unquoteBytes(v); err == nil {
				st, ok := statuses[string(s)]
				if !ok {
					return fmt.Errorf("%s: outcome.st: want ok, timeout, error, perror or vexc, got %q", fn, s)
				}
				o.Status = st
			}
		case "cont":
			if !isNull(v) {
				o.Continue, err = boolOf(v)
			}
		case "ret":
			var s []byte
			if s, err = unquoteBytes(v); err == nil {
				k, ok := core.ParseReturnedKind(string(s))
				if !ok {
					return fmt.Errorf("%s: outcome.ret: want none, same, payload or foreign, got %q", fn, s)
				}
				o.Ret.Kind = k
			}
		case "cur":
			o.Ret.IsCurrent, err = boolOf(v)
		case "chg":
			if !isNull(v) {
				o.Ret.Changed, err = stringsOf(v)
			}
		case "ext":
			if n, err = intOfRaw(v); err == nil && (n < 0 || n > 2) {
				return fmt.Errorf("%s: outcome.ext: want 0, 1 or 2, got %d", fn, n)
			}
			o.Ext = core.ExtChange(n)
		case "viol":
			if isNull(v) {
				o.HasViolation = false
				return nil
			}
			var vd struct {
				Reason      json.RawMessage `json:"reason"`
				Code        json.RawMessage `json:"code"`
				Description json.RawMessage `json:"description"`
			}
			if err = json.Unmarshal(v, &vd); err == nil {
				o.HasViolation = true
				o.Violation.Reason, err = violText(vd.Reason)
				if err == nil {
					o.Violation.Code, err = violText(vd.Code)
				}
				if err == nil {
					o.Violation.Description, err = violText(vd.Description)
				}
			}
		case "retry":
			n, err = saturatingInt(v)
			o.Retry = clampInt(n)
		case "dur":
			o.DurationNs, err = intOfRaw(v)
		case "str":
			if !isNull(v) {
				str, err = unquote(v)
			}
		case "repr":
			if !isNull(v) {
				repr, err = unquote(v)
			}
		}
		if err != nil {
			return fmt.Errorf("%s: outcome.%s: %v (got %s)", fn, string(key), err, clip(string(v)))
		}
		return nil
	})
	if err != nil {
		if errors.Is(err, errSyntax) {
			return nil, fmt.Errorf("%s: outcome: invalid JSON %s", fn, clip(doc))
		}
		return nil, err
	}
	if !hasIndex {
		return nil, fmt.Errorf("%s: outcome.i: required, got %s", fn, clip(doc))
	}
	if o.Status != core.OutcomeOK {
		o.Message = core.ExceptionText(o.Status, str, repr)
	}
	return o, nil
}

func clampInt(n int64) int {
	const max = int64(^uint(0) >> 1)
	if n > max {
		return int(max)
	}
	if n < -max {
		return int(-max)
	}
	return int(n)
}

// violText is one violation field as text: a string keeps its lone surrogates
// (wtf8.go); anything else reads as Python's f-string would render it (strOf).
func violText(raw json.RawMessage) (string, error) {
	raw = bytes.TrimSpace(raw)
	if len(raw) > 0 && raw[0] == '"' {
		return unquoteText(raw)
	}
	var x any
	if len(raw) > 0 {
		if err := json.Unmarshal(raw, &x); err != nil {
			return "", err
		}
	}
	return strOf(x), nil
}

// saturatingInt is intOfRaw, except that an integer beyond the int64 range is the
// nearest int64 bound (retry_delay_ms is an unbounded Python int; 2^63-1 ms is already
// longer than any retry).
func saturatingInt(v []byte) (int64, error) {
	n, err := intOfRaw(v)
	if err == nil {
		return n, nil
	}
	var big json.Number
	if json.Unmarshal(v, &big) == nil {
		if _, perr := strconv.ParseInt(string(big), 10, 64); errors.Is(perr, strconv.ErrRange) {
			if big[0] == '-' {
				return math.MinInt64, nil
			}
			return math.MaxInt64, nil
		}
	}
	return 0, err
}

// strOf renders a violation field as Python's f-string would (str(None) = "None").
func strOf(v any) string {
	switch x := v.(type) {
	case nil:
		return "None"
	case string:
		return x
	case bool:
		if x {
			return "True"
		}
		return "False"
	}
	return fmt.Sprint(v)
}

// parseRefIDs parses "7,8" (an empty string is no refs).
func parseRefIDs(fn, s string) ([]int, error) {
	if strings.TrimSpace(s) == "" {
		return nil, nil
	}
	parts := strings.Split(s, ",")
	out := make([]int, len(parts))
	for i, p := range parts {
		n, err := strconv.Atoi(strings.TrimSpace(p))
		if err != nil {
			return nil, fmt.Errorf("%s: refs[%d]: want a ref id, got %q", fn, i, p)
		}
		out[i] = n
	}
	return out, nil
}

// parsePolicy: "null" or a JSON list of writable field names.
func parsePolicy(fn, s string) ([]string, bool, error) {
	t := strings.TrimSpace(s)
	if t == "null" || t == "" {
		return nil, false, nil
	}
	var fields []string
	if err := json.Unmarshal([]byte(t), &fields); err != nil {
		return nil, false, fmt.Errorf("%s: policy: want null or a JSON list of field names, got %s", fn, clip(s))
	}
	return fields, true, nil
}

// bytesOf views a string as bytes without copying; the readers never write to it.
func bytesOf(s string) []byte { return unsafe.Slice(unsafe.StringData(s), len(s)) }

// stringsOf reads a JSON array of strings (field names: identifiers, no lone surrogates).
func stringsOf(v []byte) ([]string, error) {
	var out []string
	if err := json.Unmarshal(v, &out); err != nil {
		return nil, err
	}
	return out, nil
}
