package pybind

import (
	"encoding/json"
	"testing"
	"unicode/utf8"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestUnquoteTextKeepsLoneSurrogates(t *testing.T) {
	cases := []struct {
		name, in, want, back string // back: what jw.str writes for the decoded string
	}{
		{"plain", `"abc"`, "abc", `"abc"`},
		{"escapes", `"a\"b\\c\/d\n\t\u00e9"`, "a\"b\\c/d\n\té", `"a\"b\\c/d\n\té"`},
		{"lone high", `"t\ud800"`, "t\xed\xa0\x80", `"t\ud800"`},
		{"lone low", `"\udfff!"`, "\xed\xbf\xbf!", `"\udfff!"`},
		{"upper hex", `"\uD800"`, "\xed\xa0\x80", `"\ud800"`},
		{"reversed pair stays two", `"\udc00\ud800"`, "\xed\xb0\x80\xed\xa0\x80", `"\udc00\ud800"`},
		{"valid pair is one char", `"\ud83d\ude00"`, "😀", `"😀"`},
		{"high then plain escape", `"\ud800\u0041"`, "\xed\xa0\x80A", `"\ud800A"`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, err := unquoteText([]byte(tc.in))
			require.NoError(t, err)
			assert.Equal(t, tc.want, got)
			var w jw
			w.str(got)
			assert.Equal(t, tc.back, string(w.b))
		})
	}
}

// Distinct lone surrogates stay distinct, and none equals U+FFFD (where encoding/json
// would make all three the same string).
func TestUnquoteTextIsInjectiveOnSurrogates(t *testing.T) {
	seen := map[string]string{}
	for _, in := range []string{`"t\ud800"`, `"t\ud801"`, `"t\ufffd"`, `"t\udc00"`} {
		got, err := unquoteText([]byte(in))
		require.NoError(t, err)
		if prev, ok := seen[got]; ok {
			t.Fatalf("%s and %s decode to the same string", prev, in)
		}
		seen[got] = in
	}
}

func TestUnquoteTextRejectsBadLiterals(t *testing.T) {
	for _, in := range []string{``, `"`, `"abc`, `"\x"`, `"\u12"`, `"\u12G4"`, "\"a\nb\"", `"a"b"`, `"\"`} {
		_, err := unquoteText([]byte(in))
		assert.Error(t, err, in)
	}
}

// Plugin names and condition values keep their surrogates through RefRegister's
// encoding/json decoding.
func TestTextUnmarshalInStructs(t *testing.T) {
	var ri refInfo
	require.NoError(t, json.Unmarshal([]byte(`{"name": "p\ud800", "conditions": [{"tools": ["t\udbff"], "agents": null}]}`), &ri))
	assert.Equal(t, "p\xed\xa0\x80", string(*ri.Name))
	cond := ri.Conditions[0].condition()
	assert.Equal(t, []string{"t\xed\xaf\xbf"}, cond.Tools)
	assert.Nil(t, cond.Agents)
}

func FuzzUnquoteText(f *testing.F) {
	for _, s := range []string{`"abc"`, `"\ud800"`, `"\ud83d\ude00"`, `"\udc00\ud800x"`, `"\u00"`, "\"\xff\"", `"\\"`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		got, err := unquoteText([]byte(in))
		if err != nil {
			return
		}
		// whatever it accepts, encoding/json accepts too, and reads the same text
		// wherever no surrogate was kept
		var std string
		if jerr := json.Unmarshal([]byte(in), &std); jerr != nil {
			t.Fatalf("unquoteText accepted %q, encoding/json refused it: %v", in, jerr)
		}
		if utf8.ValidString(got) && got != std {
			t.Fatalf("%q: got %q, encoding/json %q", in, got, std)
		}
		// the step writer sends it back as a literal that decodes to the same string
		var w jw
		w.str(got)
		again, err := unquoteText(w.b)
		if err != nil || again != got {
			t.Fatalf("%q: round trip %q -> %s -> %q (%v)", in, got, w.b, again, err)
		}
	})
}
