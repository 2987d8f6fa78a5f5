package plugin

import (
	"encoding/json"
	"math"
	"reflect"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The payload decoder must build exactly what json.Unmarshal builds into an `any`, and
// ValidJSON must agree with json.Valid: both are checked on fixed cases and fuzzed.

var jsonCases = []string{
	`{}`, `[]`, `null`, `true`, `false`, `0`, `-0`, `1`, `-1`, `123456789012345`,
	`1234567890123456789`, `12345678901234567890123`, `1.5`, `-2.25e-3`, `1E+2`, `1e400`,
	`-1e-400`, `01`, `1.`, `.5`, `-`, `1e`, `+1`, ` {"a" : [1, 2 ,{"b":null}] } `,
	`{"a":1,"a":2}`, `{"a":1,}`, `[1,]`, `[1 2]`, `{"a"}`, `{1:2}`, `"\u00e9\n\t\"\\\/\b\f\r"`,
	`"\ud83d\ude00"`, `"\ud83d"`, `"\ud83dx"`, `"\ude00\ud83d"`, `"\ud83d\u0041"`, `"\ud83d\ud83d\ude00"`,
	"\"\xff\xfe ok\"", "\"a\xed\xa0\x80b\"", "\"\xef\xbf\xbd\"", "\"tab\there\"", `"\x"`, `"\u12"`,
	`"unterminated`, `"a` + "\n" + `b"`, "\"\u2028\u2029<>&\"", `{"k\u0000ey":"v"}`, `[[[[]]]]`,
	`{"a":{"b":{"c":[true,false,null,"x",1.25]}}}`, ``, `   `, `nul`, `tru`, `{"a":1} x`,
	strings.Repeat("[", 10000) + strings.Repeat("]", 10000),
	strings.Repeat("[", 10001) + strings.Repeat("]", 10001),
}

func checkLikeEncodingJSON(t *testing.T, doc []byte) {
	var want any
	wantErr := json.Unmarshal(doc, &want)
	got, err := decodeTree(doc)
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
	assert.Equal(t, json.Valid(doc), ValidJSON(doc), "ValidJSON(%q)", doc)
}

func TestDecodeTreeLikeEncodingJSON(t *testing.T) {
	for _, c := range jsonCases {
		name := c
		if len(name) > 40 {
			name = name[:40]
		}
		t.Run(name, func(t *testing.T) { checkLikeEncodingJSON(t, []byte(c)) })
	}
}

func TestDecodeTreeStringsAreIndependentOfTheInput(t *testing.T) {
	doc := []byte(`{"k":"value"}`)
	v, err := decodeTree(doc)
	require.NoError(t, err)
	copy(doc, `{"k":"VALUE"}`)
	assert.Equal(t, map[string]any{"k": "value"}, v, "the tree must not alias the caller's bytes")
}

func TestPayloadValueUsesTheTreeDecoder(t *testing.T) {
	p := NewPayloadJSON([]byte(`{"args":{"n":12,"s":"\u00e9"}}`))
	v, err := p.Value()
	require.NoError(t, err)
	assert.Equal(t, map[string]any{"args": map[string]any{"n": 12.0, "s": "é"}}, v)

	_, err = NewPayloadJSON([]byte(`{"n":1e400}`)).Value()
	require.Error(t, err)
	assert.Contains(t, err.Error(), "payload: invalid JSON: json: cannot unmarshal number 1e400")
}

func FuzzDecodeTree(f *testing.F) {
	for _, c := range jsonCases[:len(jsonCases)-2] {
		f.Add([]byte(c))
	}
	f.Fuzz(func(t *testing.T, doc []byte) { checkLikeEncodingJSON(t, doc) })
}

func plainByte(c byte) bool { return c >= 0x20 && c < 0x80 && c != '"' && c != '\\' }

// plainRun may stop early (at an eight-byte block holding a special byte, or near the
// end) but must never skip a byte that needs the careful loop.
func checkPlainRun(t *testing.T, s string) {
	for from := 0; from <= len(s) && from < 16; from++ {
		end := plainRun(s, from)
		require.GreaterOrEqual(t, end, from)
		require.LessOrEqual(t, end, len(s))
		for k := from; k < end; k++ {
			require.True(t, plainByte(s[k]), "%q from %d skipped byte %d", s, from, k)
		}
		if end+8 <= len(s) {
			special := false
			for k := end; k < end+8; k++ {
				special = special || !plainByte(s[k])
			}
			require.True(t, special, "%q from %d stopped at %d without cause", s, from, end)
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
