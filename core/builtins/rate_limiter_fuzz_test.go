package builtins

import (
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
