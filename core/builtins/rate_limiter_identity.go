package builtins

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"math/big"
	"strconv"
	"strings"
)

// rateUserID is the identity a user is counted under. Every user gets one, and two
// distinct identity values never get the same one (issue 10, item 2):
//
//   - a string user: the string, trimmed; blank counts as no user;
//   - a user mapping: the first of email, id, sub, username that holds a value (null and
//     blank strings are skipped); a mapping with none of them counts as no user;
//   - no user: "anonymous", one counter shared by every request without a user;
//   - any other value (a Go caller's int, a struct): its identity as below.
//
// A value becomes its identity text by rateIdentity.
func rateUserID(user any) string {
	switch u := user.(type) {
	case nil:
	case string:
		if s := strings.TrimSpace(u); s != "" {
			return rateIdentity(s)
		}
	case map[string]any:
		for _, k := range []string{"email", "id", "sub", "username"} {
			switch v := u[k].(type) {
			case nil:
			case string:
				if s := strings.TrimSpace(v); s != "" {
					return rateIdentity(s)
				}
			default:
				return rateIdentity(v)
			}
		}
	default:
		return rateIdentity(u)
	}
	return "anonymous"
}

// rateIdentity is the exact, canonical text of one identity value:
//
//   - strings are themselves;
//   - numbers are their exact decimal value: integers as integer digits whatever their
//     size or Go type (int64, uint64, *big.Int, json.Number, float64 holding an integer),
//     so 7, 7.0 and the string "7" are one identity (the same id, sent as a number by
//     one caller and as text by another); other numbers as the shortest text that reads
//     back as the same value;
//   - every other value (bool, list, mapping, struct) is "#" + its canonical JSON (map
//     keys sorted, numbers exact, no HTML escaping), so ["x"] and the string `["x"]`
//     stay apart.
//
// The texts cannot collide across kinds: a string or number text that starts with "#"
// gets a second "#" (no canonical JSON starts with "#").
func rateIdentity(v any) string {
	var s string
	switch x := v.(type) {
	case string:
		s = x
	case json.Number:
		s = rateNumberText(string(x))
	case float64:
		s = rateFloatText(x)
	case float32:
		s = rateFloatText(float64(x))
	case int:
		s = strconv.Itoa(x)
	case int8, int16, int32, int64, uint, uint8, uint16, uint32, uint64, uintptr:
		s = fmt.Sprint(x)
	case *big.Int:
		if x != nil {
			s = x.String()
		} else {
			return "#null"
		}
	default:
		return "#" + rateCanonicalJSON(v)
	}
	if strings.HasPrefix(s, "#") {
		return "#" + s
	}
	return s
}

func rateFloatText(f float64) string {
	if math.IsInf(f, 0) || math.IsNaN(f) {
		return strconv.FormatFloat(f, 'g', -1, 64) // "+Inf", "NaN": distinct from any finite value
	}
	if f == math.Trunc(f) {
		return strconv.FormatFloat(f, 'f', -1, 64) // every integral float64 is an exact integer
	}
	return strconv.FormatFloat(f, 'g', -1, 64)
}

// rateNumberText canonicalises a JSON number literal: integer literals stay as they are
// (exact at any size), "-0" is "0", and a literal with a fraction or exponent that
// denotes an integer becomes its digits (7.0, 7e0 → 7). Literals whose exponent is huge
// are kept verbatim rather than expanded (1e999999999 must not allocate a gigabyte).
func rateNumberText(lit string) string {
	if !strings.ContainsAny(lit, ".eE") {
		if lit == "-0" {
			return "0"
		}
		return lit
	}
	if len(lit) > 400 {
		return lit
	}
	if i := strings.IndexAny(lit, "eE"); i >= 0 {
		exp, err := strconv.Atoi(strings.TrimPrefix(lit[i+1:], "+"))
		if err != nil || exp > 400 || exp < -400 {
			return lit
		}
	}
	r, ok := new(big.Rat).SetString(lit)
	if !ok {
		return lit
	}
	if r.IsInt() {
		return r.Num().String()
	}
	if f, err := strconv.ParseFloat(lit, 64); err == nil {
		if back, ok := new(big.Rat).SetString(strconv.FormatFloat(f, 'g', -1, 64)); ok && back.Cmp(r) == 0 {
			return strconv.FormatFloat(f, 'g', -1, 64) // 1.50 and 1.5 are one value
		}
	}
	return r.RatString() // exact, for decimals a float64 cannot hold
}

// rateCanonicalJSON encodes a structured identity with sorted map keys and exact
// numbers. A value JSON cannot encode (a channel, a cycle) falls back to its Go syntax
// representation, which is still deterministic for one value.
func rateCanonicalJSON(v any) string {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return fmt.Sprintf("!%#v", v)
	}
	return strings.TrimSuffix(b.String(), "\n")
}
