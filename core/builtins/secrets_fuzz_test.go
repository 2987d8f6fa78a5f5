package builtins

import (
	"testing"
	"unicode/utf8"
)

// FuzzSecretsScan: with every detector on, the scanner never panics and yields in-bounds,
// sorted, non-overlapping spans on UTF-8 boundaries.
func FuzzSecretsScan(f *testing.F) {
	for _, s := range []string{
		"AKIAFAKE12345EXAMPLE", "aws_secret_access_key=wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
		"AIzaSyA1234567890abcdefghijklmnopqrstuv", "ghp_abcdefghijklmnopqrstuvwxyz0123456789",
		"github_pat_11ABCDEFG0123456789_abcdefghij", "sk_live_4eC39HqLyjWDarjtT1zdp7dc", "xoxb-1234567890-AB",
		"-----BEGIN RSA PRIVATE KEY-----\nabc\n-----END RSA PRIVATE KEY-----", "eyJa0123456789.eyJb0123456789.c0123456789",
		"api_key: 'abcdefghij0123456789XYZ'", "0123456789abcdef0123456789abcdef", "aGVsbG8gd29ybGQgaGVsbG8gV29ybGQx==",
		"=", ":", "-----", "é=AKIAFAKE12345EXAMPLE",
	} {
		f.Add(s, "")
	}
	f.Add("wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", "aws_secret_access_key")
	var all [numSecretTypes]bool
	for k := range all {
		all[k] = true
	}
	sc := newSecretScanner(all)
	f.Fuzz(func(t *testing.T, s, key string) {
		prev := 0
		for _, sp := range sc.scan(s, key, nil) {
			if sp.start < prev || sp.end <= sp.start || sp.end > len(s) {
				t.Fatalf("bad span %+v after %d in %q", sp, prev, s)
			}
			if utf8.ValidString(s) && (!utf8.ValidString(s[:sp.start]) || !utf8.ValidString(s[sp.start:sp.end])) {
				t.Fatalf("span %+v splits a UTF-8 sequence in %q", sp, s)
			}
			prev = sp.end
		}
	})
}
