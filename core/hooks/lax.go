package hooks

import (
	"bytes"
	"encoding/json"
	"math"
	"reflect"
	"strconv"
	"strings"
)

// Pydantic validates int and bool fields in lax mode, and the gateway relies on it
// (a client port read from a header string, an is_admin flag stored as 1). laxInt and
// laxBool accept what pydantic v2 accepts for those fields, so the Go decoders take the
// same documents the Python models take.

// laxInt is an Optional[int] field: null, an integer, a float without a fraction, a
// boolean, or a string holding an integer (spaces around and _ separators allowed) or
// an integral decimal such as "80.0".
type laxInt struct {
	v  int
	ok bool // false = null
}

func (l *laxInt) UnmarshalJSON(data []byte) error {
	data = bytes.TrimSpace(data)
	switch {
	case string(data) == "null":
		*l = laxInt{}
		return nil
	case string(data) == "true" || string(data) == "false":
		*l = laxInt{v: map[bool]int{true: 1, false: 0}[string(data) == "true"], ok: true}
		return nil
	case len(data) > 0 && data[0] == '"':
		var s string
		if err := json.Unmarshal(data, &s); err != nil {
			return err
		}
		s = strings.ReplaceAll(strings.TrimSpace(s), "_", "")
		if n, err := strconv.Atoi(s); err == nil {
			*l = laxInt{v: n, ok: true}
			return nil
		}
		if strings.ContainsAny(s, "eExXpP") {
			return errLax(intType, string(data))
		}
		return l.fromFloat(s, string(data))
	}
	if n, err := strconv.Atoi(string(data)); err == nil {
		*l = laxInt{v: n, ok: true}
		return nil
	}
	return l.fromFloat(string(data), string(data))
}

func (l *laxInt) fromFloat(s, raw string) error {
	f, err := strconv.ParseFloat(s, 64)
	if err != nil || math.IsInf(f, 0) || f != math.Trunc(f) || math.Abs(f) > 1<<62 {
		return errLax(intType, raw)
	}
	*l = laxInt{v: int(f), ok: true}
	return nil
}

func (l laxInt) ptr() *int {
	if !l.ok {
		return nil
	}
	v := l.v
	return &v
}

// laxBool is a required bool field: true/false, 0/1 (also 0.0/1.0), or one of the
// strings 0 off f false n no 1 on t true y yes in any letter case. null is rejected.
type laxBool struct {
	v, set bool
}

// UnmarshalJSON is called for null too (the field is a value, not a pointer), so a
// null is rejected here rather than silently read as false.
func (l *laxBool) UnmarshalJSON(data []byte) error {
	data = bytes.TrimSpace(data)
	switch string(data) {
	case "true", "1", "1.0":
		*l = laxBool{v: true, set: true}
		return nil
	case "false", "0", "0.0":
		*l = laxBool{v: false, set: true}
		return nil
	}
	if len(data) > 0 && data[0] == '"' {
		var s string
		if err := json.Unmarshal(data, &s); err != nil {
			return err
		}
		switch strings.ToLower(s) {
		case "1", "on", "t", "true", "y", "yes":
			*l = laxBool{v: true, set: true}
			return nil
		case "0", "off", "f", "false", "n", "no":
			*l = laxBool{v: false, set: true}
			return nil
		}
	}
	return errLax(boolType, string(data))
}

// errLax reports a value the lax rules refuse. It is an *json.UnmarshalTypeError so
// that encoding/json adds the field path, which decodeInto puts in the PayloadError.
func errLax(want reflect.Type, got string) error {
	if len(got) > 40 {
		got = got[:40] + "…"
	}
	kind := "number"
	switch {
	case strings.HasPrefix(got, `"`):
		kind = "string"
	case strings.HasPrefix(got, "{"):
		kind = "object"
	case strings.HasPrefix(got, "["):
		kind = "array"
	case got == "null":
		kind = "null"
	}
	if kind == "null" {
		return &json.UnmarshalTypeError{Value: kind, Type: want}
	}
	return &json.UnmarshalTypeError{Value: kind + " " + got, Type: want}
}

var (
	intType  = reflect.TypeFor[int]()
	boolType = reflect.TypeFor[bool]()
)

// decodeStrMap reads a JSON object whose values must all be strings (pydantic
// dict[str, str]: a null or a number value is an error, not "").
func decodeStrMap(data []byte) (map[string]string, error) {
	var raw map[string]*string // a null value decodes to a nil pointer
	if err := json.Unmarshal(data, &raw); err != nil {
		return nil, err
	}
	if raw == nil {
		return nil, nil
	}
	out := make(map[string]string, len(raw))
	for k, v := range raw {
		if v == nil {
			return nil, errLax(stringType, "null")
		}
		out[k] = *v
	}
	return out, nil
}

var stringType = reflect.TypeFor[string]()

// UnmarshalJSON accepts an object of string values, or null (None).
func (h *HTTPHeaders) UnmarshalJSON(data []byte) error {
	m, err := decodeStrMap(data)
	if err != nil {
		return err
	}
	*h = m
	return nil
}

// strMapField is an Optional[dict[str, str]] field with a {} default: it remembers
// whether the key was present so that absent means {} and null means None.
type strMapField struct {
	m   map[string]string
	set bool
}

func (f *strMapField) UnmarshalJSON(data []byte) error {
	m, err := decodeStrMap(data)
	if err != nil {
		return err
	}
	*f = strMapField{m: m, set: true}
	return nil
}
