package builtins

import (
	"testing"
	"unicode/utf8"

	"github.com/cpex-go/cpex/core"
)

// FuzzPIIScan: the scanner must never panic, and its spans must be in bounds, sorted,
// non-overlapping, and start and end on UTF-8 boundaries; masking valid UTF-8 must give
// valid UTF-8.
func FuzzPIIScan(f *testing.F) {
	for _, s := range []string{
		"SSN 123-45-6789", "4111 1111 1111 1111", "a@b.io", "+44 20 7946 0958", "(555) 123-4567",
		"fe80::1 ::1 2001:db8::", "10.0.0.1.", "api_key=abcdef0123456789abcd", "DOB: 1/2/99",
		"Passport No: X1234567", "GB82WEST12345698765432", "AKIAIOSFODNN7EXAMPLE", "José@例え.jp",
		"@@@", "1.2.3.4.5", "::", "+1", "(", "ssn:", "mrn 123",
	} {
		f.Add(s, "")
	}
	f.Add("sk_live_0123456789abcdefXYZ", "api_key")
	p, err := buildPIIFilter(core.PluginSpec{Name: "pii", Kind: "builtin/pii_filter", Config: map[string]any{
		"default_mask_strategy": "partial",
		"custom_patterns":       []any{map[string]any{"pattern": `\bEMP\d{3}\b`, "description": "e"}},
		"whitelist_patterns":    []any{"^test@example\\.com$"},
	}})
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, s, key string) {
		spans := p.scanner.scan(s, key, nil)
		prev := 0
		for _, sp := range spans {
			if sp.start < prev || sp.end <= sp.start || sp.end > len(s) {
				t.Fatalf("bad span %+v after %d in %q", sp, prev, s)
			}
			if utf8.ValidString(s) && (!utf8.ValidString(s[:sp.start]) || !utf8.ValidString(s[sp.start:sp.end])) {
				t.Fatalf("span %+v splits a UTF-8 sequence in %q", sp, s)
			}
			prev = sp.end
		}
		out := p.masker.mask(s, spans, p.scanner.custom)
		if utf8.ValidString(s) && !utf8.ValidString(out) {
			t.Fatalf("masking %q gave invalid UTF-8 %q", s, out)
		}
	})
}
