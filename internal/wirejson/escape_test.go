package wirejson

import (
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestAppendUnquoted(t *testing.T) {
	tests := []struct {
		name, in      string // in: the text after the opening quote, closing quote included
		replace, keep string
		end           int
		ok            bool
	}{
		{"plain", `abc"`, "abc", "abc", 3, true},
		{"escapes", `a\n\t\"\\\/\b\f\r"`, "a\n\t\"\\/\b\f\r", "a\n\t\"\\/\b\f\r", 17, true},
		{"bmp", `\u00e9x"`, "éx", "éx", 7, true},
		{"pair", `\ud83d\ude00"`, "😀", "😀", 12, true},
		{"lone high", `\ud800x"`, "\uFFFDx", "\xed\xa0\x80x", 7, true},
		{"lone low", `\udc00"`, "\uFFFD", "\xed\xb0\x80", 6, true},
		{"high then non-low escape", `\ud800\u0041"`, "\uFFFDA", "\xed\xa0\x80A", 12, true},
		{"invalid utf-8", "a\xffb\"", "a\uFFFDb", "a\uFFFDb", 3, true},
		{"stops at the first quote", `ab"cd"`, "ab", "ab", 2, true},
		{"bad escape", `\x"`, "", "", 0, false},
		{"bad hex", `\u12g4"`, "", "", 0, false},
		{"control character", "a\x01\"", "a", "a", 1, false},
		{"no closing quote", `abc`, "abc", "abc", 3, false},
		{"trailing backslash", `ab\`, "ab", "ab", 2, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			for _, mode := range []struct {
				lone Lone
				want string
			}{{Replace, tc.replace}, {Keep, tc.keep}} {
				got, end, ok := AppendUnquoted(nil, tc.in, 0, mode.lone)
				assert.Equal(t, tc.ok, ok)
				assert.Equal(t, tc.end, end)
				if ok {
					assert.Equal(t, mode.want, string(got))
					lit := `"` + tc.in[:end+1]
					u, err := Unquote([]byte(lit), mode.lone)
					require.NoError(t, err)
					assert.Equal(t, mode.want, u)
				}
			}
		})
	}
}

func TestUnquoteRefusesMalformedLiterals(t *testing.T) {
	for _, in := range []string{``, `"`, `abc`, `"abc`, `"a"b"`, `"\"`, `"\q"`, "\"\x01\""} {
		_, err := Unquote([]byte(in), Keep)
		assert.ErrorIs(t, err, ErrString, "%q", in)
		_, err = UnquoteView([]byte(in), Keep)
		assert.ErrorIs(t, err, ErrString, "%q", in)
	}
}

func TestHex4(t *testing.T) {
	assert.Equal(t, rune(0xBEEF), Hex4("xBeEf", 1))
	assert.Equal(t, rune(-1), Hex4("12", 0))
	assert.Equal(t, rune(-1), Hex4("12z4", 0))
}

// FuzzUnquoteMatchesEncodingJSON: with Replace, AppendUnquoted reads every string
// encoding/json reads, to the same text, and refuses the rest; Keep differs only where
// a lone surrogate escape stands.
func FuzzUnquoteMatchesEncodingJSON(f *testing.F) {
	for _, s := range []string{`abc`, `\ud800`, `\ud83d\ude00`, `a\"b`, "\xff", `\u00e9`, `\`, `"`, "\x01"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, body string) {
		var want string
		err := json.Unmarshal([]byte(`"`+body+`"`), &want)
		got, end, ok := AppendUnquoted(nil, body+`"`, 0, Replace)
		if err == nil {
			require.True(t, ok)
			require.Equal(t, len(body), end)
			require.Equal(t, want, string(got))
		} else {
			require.False(t, ok && end == len(body), "encoding/json refused %q: %v", body, err)
		}
		kept, kend, kok := AppendUnquoted(nil, body+`"`, 0, Keep)
		require.Equal(t, ok, kok)
		require.Equal(t, end, kend)
		if ok && string(kept) != string(got) {
			// the texts differ only where Keep kept a lone surrogate (ED A0..BF ..)
			require.Contains(t, string(kept), "\xed")
			require.Contains(t, body, `\u`)
		}
	})
}

func TestAppendQuoted(t *testing.T) {
	tests := []struct{ in, replace, keep string }{
		{"", `""`, `""`},
		{"plain text longer than eight", `"plain text longer than eight"`, `"plain text longer than eight"`},
		{"q\"b\\", `"q\"b\\"`, `"q\"b\\"`},
		{"ctl\x00\x1f\n\r\t\b", `"ctl\u0000\u001f\n\r\t\u0008"`, `"ctl\u0000\u001f\n\r\t\u0008"`},
		{"<é>\u2028", "\"<é>\u2028\"", "\"<é>\u2028\""},
		{"bad\xff\xfe", `"bad\ufffd\ufffd"`, `"bad\ufffd\ufffd"`},
		{"lone\xed\xa0\x80", `"lone\ufffd\ufffd\ufffd"`, `"lone\ud800"`},
	}
	for _, tc := range tests {
		assert.Equal(t, tc.replace, string(AppendQuoted(nil, tc.in, Replace)), "%q", tc.in)
		assert.Equal(t, tc.keep, string(AppendQuoted(nil, tc.in, Keep)), "%q", tc.in)
	}
}

// FuzzQuoteRoundTrips: what AppendQuoted writes, encoding/json reads back as what it
// reads from json.Marshal's own text; with Keep, Unquote(Keep) gives the input back
// whenever it is valid UTF-8 apart from lone surrogates' three-byte forms.
func FuzzQuoteRoundTrips(f *testing.F) {
	for _, s := range []string{"a\"b", "\xff", "\xed\xa0\x80", "<&>\u2028", "\x00\n"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		want, _ := json.Marshal(s)
		var wantBack string
		require.NoError(t, json.Unmarshal(want, &wantBack))
		lit := AppendQuoted(nil, s, Replace)
		var back string
		require.NoError(t, json.Unmarshal(lit, &back), "%q -> %s", s, lit)
		require.Equal(t, wantBack, back)
		require.NotContains(t, string(lit), "\n")

		kept := AppendQuoted(nil, s, Keep)
		require.NoError(t, json.Unmarshal(kept, &back), "%q -> %s", s, kept)
		again, err := Unquote(kept, Keep)
		require.NoError(t, err)
		if wtf8Valid(s) {
			require.Equal(t, s, again)
		}
	})
}

// wtf8Valid: valid UTF-8 where lone surrogates' three-byte forms are allowed too, and
// no two of them form what would be a pair (JSON reads a pair of escapes as one).
func wtf8Valid(s string) bool {
	prevHigh := false
	for i := 0; i < len(s); {
		if r, ok := SurrogateAt(s, i); ok {
			if prevHigh && r >= 0xDC00 {
				return false
			}
			prevHigh = r < 0xDC00
			i += 3
			continue
		}
		prevHigh = false
		r, size := rune(s[i]), 1
		if r >= 0x80 {
			var ok bool
			if r, size, ok = decodeRune(s[i:]); !ok {
				return false
			}
		}
		_ = r
		i += size
	}
	return true
}

func decodeRune(s string) (rune, int, bool) {
	for _, r := range s {
		if r == '\uFFFD' && (len(s) < 3 || s[:3] != "\uFFFD") {
			return 0, 1, false
		}
		return r, len(string(r)), true
	}
	return 0, 0, false
}
