package wirejson

import (
	"encoding/json"
	"math"
	"reflect"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Decode must build exactly what json.Unmarshal builds into an `any`, and Valid must
// agree with json.Valid: both are checked on fixed cases and fuzzed.

var jsonCases = []string{
	`{}`, `[]`, `null`, `true`, `false`, `0`, `-0`, `1`, `-1`, `123456789012345`,
	`1234567890123456789`, `12345678901234567890123`, `1.5`, `-2.25e-3`, `1E+2`, `1e400`,
	`-1e-400`, `01`, `1.`, `.5`, `-`, `1e`, `+1`, ` {"a" : [1, 2 ,{"b":null}] } `,
	`{"a":1,"a":2}`, `{"a":1,}`, `[1,]`, `[1 2]`, `{"a"}`, `{1:2}`, `"\u00e9\n\t\"\\\/\b\f\r"`,
	`"\ud83d\ude00"`, `"\ud83d"`, `"\ud83dx"`, `"\ude00\ud83d"`, `"\ud83d\u0041"`, `"\ud83d\ud83d\ude00"`,
	"\"\xff\xfe ok\"", "\"a\xed\xa0\x80b\"", "\"\xef\xbf\xbd\"", "\"tab\there\"", `"\x"`, `"\u12"`,
	`"unterminated`, `"a` + "\n" + `b"`, "\"\u2028\u2029<>&\"", `{"k\u0000ey":"v"}`, `[[[[]]]]`,
	`{"a":{"b":{"c":[true,false,null,"x",1.25]}}}`, ``, `   `, `nul`, `tru`, `{"a":1} x`,
	strings.Repeat("[", MaxDepth) + strings.Repeat("]", MaxDepth),
	strings.Repeat("[", MaxDepth+1) + strings.Repeat("]", MaxDepth+1),
}

func checkDecodeLikeEncodingJSON(t *testing.T, doc []byte) {
	var want any
	wantErr := json.Unmarshal(doc, &want)
	got, err := Decode(doc)
	if wantErr != nil {
		require.Error(t, err, "%q", doc)
		assert.Equal(t, wantErr.Error(), err.Error(), "%q", doc)
	} else {
		require.NoError(t, err, "%q", doc)
		require.True(t, reflect.DeepEqual(want, got), "%q:\nwant %#v\n got %#v", doc, want, got)
		// DeepEqual treats 0 and -0 alike; the sign must match too.
		if f, ok := want.(float64); ok {
			assert.Equal(t, math.Signbit(f), math.Signbit(got.(float64)), "%q", doc)
		}
	}
	// The fast path must be the one that decided: no silent fallback on valid input.
	d := treeDecoder{s: string(doc), keep: true}
	_, fastErr := d.document()
	assert.Equal(t, wantErr == nil, fastErr == nil, "fast decoder on %q", doc)
	assert.Equal(t, json.Valid(doc), Valid(doc), "Valid(%q)", doc)
	assert.Equal(t, json.Valid(doc), ValidText(string(doc)), "ValidText(%q)", doc)
	// DecodeText answers what Decode answers, error texts included.
	gotText, errText := DecodeText(string(doc))
	if err != nil {
		require.Error(t, errText, "DecodeText(%q)", doc)
		assert.Equal(t, err.Error(), errText.Error(), "DecodeText(%q)", doc)
	} else {
		require.NoError(t, errText, "DecodeText(%q)", doc)
		require.True(t, reflect.DeepEqual(got, gotText), "DecodeText(%q):\nwant %#v\n got %#v", doc, got, gotText)
	}
	// SkipValue validates as json.Valid does (it has no range check either).
	end, serr := SkipValue(doc, SkipSpace(doc, 0))
	assert.Equal(t, json.Valid(doc), serr == nil && SkipSpace(doc, end) == len(doc), "SkipValue(%q)", doc)
}

func TestDecodeLikeEncodingJSON(t *testing.T) {
	for _, c := range jsonCases {
		name := c
		if len(name) > 40 {
			name = name[:40]
		}
		t.Run(name, func(t *testing.T) { checkDecodeLikeEncodingJSON(t, []byte(c)) })
	}
}

func TestDecodeStringsAreIndependentOfTheInput(t *testing.T) {
	doc := []byte(`{"k":"value"}`)
	v, err := Decode(doc)
	require.NoError(t, err)
	copy(doc, `{"k":"VALUE"}`)
	assert.Equal(t, map[string]any{"k": "value"}, v, "the tree must not alias the caller's bytes")
}

func FuzzDecode(f *testing.F) {
	for _, c := range jsonCases[:len(jsonCases)-2] {
		f.Add([]byte(c))
	}
	f.Fuzz(func(t *testing.T, doc []byte) { checkDecodeLikeEncodingJSON(t, doc) })
}

func plainByte(c byte) bool { return c >= 0x20 && c < 0x80 && c != '"' && c != '\\' }

// plainRun stops exactly at the first special byte, or where fewer than eight bytes
// remain, and never skips a byte that needs the careful loop.
func checkPlainRun(t *testing.T, s string) {
	for from := 0; from <= len(s) && from < 16; from++ {
		end := plainRun(s, from)
		require.GreaterOrEqual(t, end, from)
		require.LessOrEqual(t, end, len(s))
		for k := from; k < end; k++ {
			require.True(t, plainByte(s[k]), "%q from %d skipped byte %d", s, from, k)
		}
		if end+8 <= len(s) {
			require.False(t, plainByte(s[end]), "%q from %d stopped at %d without cause", s, from, end)
		}
	}
}

func TestPlainRun(t *testing.T) {
	for _, s := range []string{"", "abc", "abcdefghijklmnopqrstuvwxyz", "abcdefgh\"ijk", "abcdefghijklmn\\o",
		"abcdefghij\x1fkl", "abcdefghijk\x7flmnop", "abcdefghijklm\xc3\xa9", "\x00\x00\x00\x00\x00\x00\x00\x00", "                 !"} {
		checkPlainRun(t, s)
	}
}

func FuzzPlainRun(f *testing.F) {
	f.Add("abcdefgh\"ijklmnop")
	f.Fuzz(checkPlainRun)
}
