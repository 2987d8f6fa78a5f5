package pybind

import (
	"encoding/json"
	"fmt"
	"strconv"

	"github.com/cpex-go/cpex/internal/wirejson"
)

// The flat JSON objects Python sends on every step (facts, outcomes) are read with
// internal/wirejson's scanner: encoding/json's reflection costs more than the whole
// step. Every string of the wire is read with wirejson.Keep (wtf8.go). The helpers
// below read the protocol's scalar fields.

var errSyntax = wirejson.ErrSyntax

// eachMember calls fn with every key and raw value of the JSON object in b. The key is
// only valid during the call (it may alias b).
func eachMember(b []byte, fn func(key []byte, val []byte) error) error {
	return wirejson.EachMember(b, wirejson.Keep, fn)
}

// eachElement calls fn with every raw element of the JSON array in b.
func eachElement(b []byte, fn func(val []byte) error) error {
	return wirejson.EachElement(b, fn)
}

// unquoteBytes decodes a JSON string literal, without a copy when it has no escapes
// (the answer may alias raw).
func unquoteBytes(raw []byte) ([]byte, error) { return wirejson.UnquoteView(raw, wirejson.Keep) }

// unquote decodes a JSON string literal.
func unquote(raw []byte) (string, error) { return wirejson.Unquote(raw, wirejson.Keep) }

func isNull(v []byte) bool { return len(v) == 4 && string(v) == "null" }

// stringOrNull: a string, or "" for null (no pointer to allocate where null and "" mean
// the same to the caller).
func stringOrNull(v []byte) (string, error) {
	if isNull(v) {
		return "", nil
	}
	return unquote(v)
}

// optString: a string or null.
func optString(v []byte) (*string, error) {
	if isNull(v) {
		return nil, nil
	}
	s, err := unquote(v)
	if err != nil {
		return nil, err
	}
	return &s, nil
}

func boolOf(v []byte) (bool, error) {
	switch string(v) {
	case "true":
		return true, nil
	case "false", "null":
		return false, nil
	}
	return false, errSyntax
}

// intOfRaw parses a JSON integer (a float with no fraction is accepted, as Python may
// send 5.0); null is 0.
func intOfRaw(v []byte) (int64, error) {
	if isNull(v) {
		return 0, nil
	}
	if n, err := strconv.ParseInt(string(v), 10, 64); err == nil {
		return n, nil
	}
	if !json.Valid(v) {
		return 0, errSyntax
	}
	f, err := strconv.ParseFloat(string(v), 64)
	if err != nil || f != float64(int64(f)) {
		return 0, fmt.Errorf("want an integer, got %s", v)
	}
	return int64(f), nil
}
