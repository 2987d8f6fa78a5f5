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
	// The shortest text that reads back as f, canonicalised like a wire number, so a Go
	// caller's float64 and the same value sent by Python (repr) get one key.
	return rateNumberText(strconv.FormatFloat(f, 'g', -1, 64))
}

// rateNumberText canonicalises a JSON number literal exactly, without arithmetic on its
// value (so 1e999999999 costs nothing): the decimal digits without leading or trailing
// zeros and the power of ten they are scaled by. Values whose plain decimal form is short
// print as that form (7, 7.0, 7e0 → "7"; 1.50, 15e-1 → "1.5"; -0 → "0"); others as
// digits "e" exponent. Text that is not a JSON number is returned as it is.
func rateNumberText(lit string) string {
	neg, digits, exp, ok := rateParseNumber(lit)
	if !ok {
		return lit
	}
	digits = strings.TrimLeft(digits, "0")
	if digits == "" {
		return "0"
	}
	for strings.HasSuffix(digits, "0") {
		digits = digits[:len(digits)-1]
		exp.Add(exp, bigOne)
	}
	sign := ""
	if neg {
		sign = "-"
	}
	const plainLimit = 400 // zeros a plain form may add: beyond, the e form
	if exp.IsInt64() {
		e := exp.Int64()
		switch {
		case e >= 0 && e <= plainLimit:
			return sign + digits + strings.Repeat("0", int(e))
		case e < 0 && -e <= plainLimit:
			k := int(-e)
			if k < len(digits) {
				return sign + digits[:len(digits)-k] + "." + digits[len(digits)-k:]
			}
			return sign + "0." + strings.Repeat("0", k-len(digits)) + digits
		}
	}
	return sign + digits + "e" + exp.String()
}

var bigOne = big.NewInt(1)

// rateParseNumber splits a JSON number literal into its sign, all its digits (integer
// then fraction) and the power of ten that scales them.
func rateParseNumber(lit string) (neg bool, digits string, exp *big.Int, ok bool) {
	s := lit
	if strings.HasPrefix(s, "-") {
		neg, s = true, s[1:]
	}
	i := 0
	for i < len(s) && isDigitByte(s[i]) {
		i++
	}
	if i == 0 {
		return false, "", nil, false
	}
	intPart, rest := s[:i], s[i:]
	frac := ""
	if strings.HasPrefix(rest, ".") {
		j := 1
		for j < len(rest) && isDigitByte(rest[j]) {
			j++
		}
		if j == 1 {
			return false, "", nil, false
		}
		frac, rest = rest[1:j], rest[j:]
	}
	exp = new(big.Int)
	if rest != "" {
		if rest[0] != 'e' && rest[0] != 'E' {
			return false, "", nil, false
		}
		e := strings.TrimPrefix(rest[1:], "+")
		if _, good := exp.SetString(e, 10); !good || strings.HasPrefix(e, "+") {
			return false, "", nil, false
		}
	}
	exp.Sub(exp, big.NewInt(int64(len(frac))))
	return neg, intPart + frac, exp, true
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
