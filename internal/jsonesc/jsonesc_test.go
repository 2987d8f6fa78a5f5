package jsonesc

import (
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestAppend(t *testing.T) {
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
			got, end, ok := Append(nil, tc.in, 0, Replace)
			assert.Equal(t, tc.ok, ok)
			assert.Equal(t, tc.end, end)
			if ok {
				assert.Equal(t, tc.replace, string(got))
			}
			got, end, ok = Append(nil, tc.in, 0, Keep)
			assert.Equal(t, tc.ok, ok)
			assert.Equal(t, tc.end, end)
			if ok {
				assert.Equal(t, tc.keep, string(got))
			}
		})
	}
}

func TestHex4(t *testing.T) {
	assert.Equal(t, rune(0xBEEF), Hex4("xBeEf", 1))
	assert.Equal(t, rune(-1), Hex4("12", 0))
	assert.Equal(t, rune(-1), Hex4("12z4", 0))
}

// FuzzAppendMatchesEncodingJSON: with Replace, Append reads every string encoding/json
// reads, to the same text, and refuses the rest; Keep differs only where a lone
// surrogate escape stands.
func FuzzAppendMatchesEncodingJSON(f *testing.F) {
	for _, s := range []string{`abc`, `\ud800`, `\ud83d\ude00`, `a\"b`, "\xff", `\u00e9`, `\`, `"`, "\x01"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, body string) {
		var want string
		err := json.Unmarshal([]byte(`"`+body+`"`), &want)
		got, end, ok := Append(nil, body+`"`, 0, Replace)
		if err == nil {
			require.True(t, ok)
			require.Equal(t, len(body), end)
			require.Equal(t, want, string(got))
		} else {
			require.False(t, ok && end == len(body), "encoding/json refused %q: %v", body, err)
		}
		kept, kend, kok := Append(nil, body+`"`, 0, Keep)
		require.Equal(t, ok, kok)
		require.Equal(t, end, kend)
		if ok && string(kept) != string(got) {
			// the texts differ only where Keep kept a lone surrogate (ED A0..BF ..)
			require.Contains(t, string(kept), "\xed")
			require.Contains(t, body, `\u`)
		}
	})
}
