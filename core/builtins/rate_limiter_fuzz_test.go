package builtins

import (
	"encoding/json"
	"math/big"
	"strings"
	"testing"
	"time"
)

// FuzzParseRate: the parser never panics; what it accepts is in range and prints back to
// a string that parses to the same rate.
func FuzzParseRate(f *testing.F) {
	for _, s := range []string{"30/m", " 5 / min ", "1000/hour", "0/s", "-1/s", "1/", "/", "", "1000001/h", "9/HR"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		r, err := parseRate(s)
		if err != nil {
			return
		}
		if r.Count < 1 || r.Count > maxRateCount {
			t.Fatalf("%q: count %d out of range", s, r.Count)
		}
		if r.Window != time.Second && r.Window != time.Minute && r.Window != time.Hour {
			t.Fatalf("%q: window %v", s, r.Window)
		}
		back, err := parseRate(r.String())
		if err != nil || back != r {
			t.Fatalf("%q: round trip %q gave %v, %v", s, r.String(), back, err)
		}
	})
}

// FuzzRateKeyPart: an escaped identity holds no key separator and decodes back to the
// original, so distinct identities always get distinct keys.
func FuzzRateKeyPart(f *testing.F) {
	for _, s := range []string{"alice@example.com", "a:b", "%3A", "x:tool:y%", ""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		e := rateKeyPart(s)
		if strings.Contains(e, ":") {
			t.Fatalf("%q escaped to %q, which holds ':'", s, e)
		}
		if back := strings.NewReplacer("%3A", ":", "%25", "%").Replace(e); back != s {
			t.Fatalf("%q escaped to %q, which decodes to %q", s, e, back)
		}
	})
}

// FuzzRateIdentity: any identity value (a caller's text, a number literal from the wire)
// gets a key without panicking; strings keep their text (a leading '#' doubled), and
// two number literals get the same key exactly when they denote the same value.
func FuzzRateIdentity(f *testing.F) {
	for _, s := range [][2]string{{"7", "7.0"}, {"9007199254740993", "9007199254740992"}, {"1e999999999", "1e400"},
		{"-0", "0e5"}, {"1.50", "15e-1"}, {"#7", "7"}, {"0.1000000000000000000001", "0.1"}, {"1e401", "10e400"}, {"-1e-500", "-0.1e-499"}} {
		f.Add(s[0], s[1])
	}
	f.Fuzz(func(t *testing.T, a, b string) {
		if id := rateIdentity(a); id != a && id != "#"+a {
			t.Fatalf("string %q keyed %q", a, id)
		}
		if !strings.HasPrefix(rateIdentity([]any{a}), "#") {
			t.Fatalf("a list must be keyed as structured")
		}
		ra, okA := new(big.Rat).SetString(a)
		rb, okB := new(big.Rat).SetString(b)
		small := len(a) <= 40 && len(b) <= 40 && !strings.ContainsAny(a+b, "eE") // big.Rat would expand huge exponents
		if !okA || !okB || !json.Valid([]byte(a)) || !json.Valid([]byte(b)) || !small {
			_ = rateIdentity(json.Number(a)) // must not panic, whatever the text
			return
		}
		same := ra.Cmp(rb) == 0
		if got := rateIdentity(json.Number(a)) == rateIdentity(json.Number(b)); got != same {
			t.Fatalf("%q and %q: same value %v, same key %v (%q, %q)", a, b, same, got, rateIdentity(json.Number(a)), rateIdentity(json.Number(b)))
		}
	})
}
