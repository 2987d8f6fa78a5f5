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
			w.Str(got)
			assert.Equal(t, tc.back, string(w.B))
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
		w.Str(got)
		again, err := unquoteText(w.B)
		if err != nil || again != got {
			t.Fatalf("%q: round trip %q -> %s -> %q (%v)", in, got, w.B, again, err)
		}
	})
}

// retry_delay_ms and priority are unbounded Python ints: beyond int64 they saturate
// instead of failing the step with an internal protocol error.
func TestSaturatingInt(t *testing.T) {
	cases := []struct {
		in   string
		want int64
		ok   bool
	}{
		{"5", 5, true},
		{"5.0", 5, true},
		{"null", 0, true},
		{"9223372036854775807", 9223372036854775807, true},
		{"9223372036854775808", 9223372036854775807, true},
		{"1000000000000000000000000000000", 9223372036854775807, true},
		{"-1000000000000000000000000000000", -9223372036854775808, true},
		{"1.5", 0, false},
		{`"7"`, 0, false},
	}
	for _, tc := range cases {
		got, err := saturatingInt([]byte(tc.in))
		if !tc.ok {
			assert.Error(t, err, tc.in)
			continue
		}
		require.NoError(t, err, tc.in)
		assert.Equal(t, tc.want, got, tc.in)
	}
}

func TestOutcomeKeepsSurrogatesAndSaturatesRetry(t *testing.T) {
	o, err := parseOutcome("RunReport", `{"i":0,"st":"ok","cont":false,"ret":"none","ext":0,`+
		`"viol":{"reason":"r\ud800","code":"c\udfff","description":null},"retry":18446744073709551616,"dur":1,"str":"","repr":""}`)
	require.NoError(t, err)
	assert.Equal(t, "r\xed\xa0\x80", o.Violation.Reason)
	assert.Equal(t, "c\xed\xbf\xbf", o.Violation.Code)
	assert.Equal(t, "None", o.Violation.Description)
	assert.Equal(t, int(^uint(0)>>1), o.Retry)
}

func TestRefRegisterSaturatesPriority(t *testing.T) {
	id, err := RefRegister(`{"uuid":"u-big","name":"big\ud800","kind":"k","mode":"sequential","priority":1e40,"on_error":"fail"}`)
	assert.Error(t, err) // a float that is not an integer in int64 form: still refused, clearly
	assert.Contains(t, err.Error(), "info.priority")
	id, err = RefRegister(`{"uuid":"u-big","name":"big\ud800","kind":"k","mode":"sequential","priority":1000000000000000000000000000000,"on_error":"fail"}`)
	require.NoError(t, err)
	_, _ = RefRelease(id)
}
