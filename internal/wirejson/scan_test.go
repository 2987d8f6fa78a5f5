package wirejson

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// fieldByDecoding is what Field must answer: decode all, look the key up.
func fieldByDecoding(doc, name string) any {
	var v any
	if json.Unmarshal([]byte(doc), &v) != nil {
		return nil
	}
	if m, ok := v.(map[string]any); ok {
		return m[name]
	}
	return nil
}

func TestField(t *testing.T) {
	cases := []struct {
		name string
		doc  string
		key  string
		want any
	}{
		{"string", `{"name":"search","args":{"q":"x"}}`, "name", "search"},
		{"nested object", ` {"name":"s", "args" : {"q":[1,2,{"z":null}]}} `, "args", map[string]any{"q": []any{1.0, 2.0, map[string]any{"z": nil}}}},
		{"number", `{"n":-1.5e2}`, "n", -150.0},
		{"absent", `{"name":"s"}`, "args", nil},
		{"empty object", `{}`, "name", nil},
		{"last duplicate wins", `{"name":"a","name":"b"}`, "name", "b"},
		{"escaped key", `{"na\u006de":"s"}`, "name", "s"},
		{"escaped value", `{"name":"a\"b\\u"}`, "name", `a"b\u`},
		{"not an object", `["name"]`, "name", nil},
		{"invalid elsewhere", `{"name":"s","args":{"q":01}}`, "name", nil},
		{"bad escape elsewhere", `{"name":"s","x":"\q"}`, "name", nil},
		{"control char elsewhere", "{\"name\":\"s\",\"x\":\"a\tb\"}", "name", nil},
		{"number out of range elsewhere", `{"name":"s","x":1e400}`, "name", nil},
		{"long integer out of range elsewhere", `{"name":"s","x":` + strings.Repeat("9", 400) + `}`, "name", nil},
		{"trailing text", `{"name":"s"} x`, "name", nil},
		{"truncated", `{"name":"s",`, "name", nil},
		{"literal", `{"ok":true,"no":false,"nil":null}`, "no", false},
		{"bad literal", `{"ok":tru}`, "ok", nil},
		{"deep nesting elsewhere", `{"name":"s","x":` + strings.Repeat("[", MaxDepth) + strings.Repeat("]", MaxDepth) + `}`, "name", nil},
		{"deepest allowed nesting", `{"name":"s","x":` + strings.Repeat("[", MaxDepth-1) + strings.Repeat("]", MaxDepth-1) + `}`, "name", "s"},
		{"invalid utf-8 key", "{\"n\xffme\":1}", "n\xffme", nil},
		{"lone surrogate key", `{"\ud800":1}`, "\uFFFD", 1.0},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			assert.Equal(t, tc.want, Field([]byte(tc.doc), tc.key))
			assert.Equal(t, fieldByDecoding(tc.doc, tc.key), Field([]byte(tc.doc), tc.key), "same as decoding the whole document")
		})
	}
}

// FuzzFieldAgreesWithDecoding: Field answers what json.Unmarshal into a map answers.
func FuzzFieldAgreesWithDecoding(f *testing.F) {
	for _, s := range []string{`{"name":"s","args":{"q":[1,2.5e3,"x"]}}`, `{"a":01}`, `{"na\u006de":1,"name":2}`, `{"x":1e999}`, `{} `, `{"name":"\ud800"}`, "{\"name\":\"\xff\"}"} {
		f.Add(s, "name")
	}
	f.Fuzz(func(t *testing.T, doc, key string) {
		assert.Equal(t, fieldByDecoding(doc, key), Field([]byte(doc), key), "doc %q key %q", doc, key)
	})
}

func TestEachMember(t *testing.T) {
	type kv struct{ k, v string }
	tests := []struct {
		name string
		doc  string
		want []kv
		err  bool
	}{
		{"flat", ` {"a":1, "b" : "x","c":[1,{"d":null}],"e":true} `, []kv{{"a", "1"}, {"b", `"x"`}, {"c", `[1,{"d":null}]`}, {"e", "true"}}, false},
		{"empty", `{}`, nil, false},
		{"escaped key keeps a lone surrogate", `{"k\ud800":0}`, []kv{{"k\xed\xa0\x80", "0"}}, false},
		{"repeated keys all seen", `{"a":1,"a":2}`, []kv{{"a", "1"}, {"a", "2"}}, false},
		{"bad number", `{"a":01}`, nil, true},
		{"lone minus", `{"a":-}`, nil, true},
		{"trailing text", `{} x`, nil, true},
		{"trailing comma", `{"a":1,}`, nil, true},
		{"not an object", `[1]`, nil, true},
		{"bad nested escape", `{"a":["\q"]}`, nil, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var got []kv
			err := EachMember([]byte(tc.doc), Keep, func(k, v []byte) error {
				got = append(got, kv{string(k), string(v)})
				return nil
			})
			if tc.err {
				require.ErrorIs(t, err, ErrSyntax)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tc.want, got)
		})
	}
}

func TestEachElement(t *testing.T) {
	var got []string
	require.NoError(t, EachElement([]byte(` [1, "a" ,{"b":[]} ,null] `), func(v []byte) error {
		got = append(got, string(v))
		return nil
	}))
	assert.Equal(t, []string{"1", `"a"`, `{"b":[]}`, "null"}, got)
	for _, bad := range []string{`[1,]`, `[1 2]`, `{}`, `[`, `[1] x`} {
		assert.ErrorIs(t, EachElement([]byte(bad), func([]byte) error { return nil }), ErrSyntax, bad)
	}
	stop := assert.AnError
	assert.Equal(t, stop, EachElement([]byte(`[1,2]`), func([]byte) error { return stop }), "fn's error is answered as it is")
}

// FuzzEachMemberAgreesWithEncodingJSON: the member reader accepts exactly the objects
// encoding/json accepts, and hands over every member's raw value.
func FuzzEachMemberAgreesWithEncodingJSON(f *testing.F) {
	for _, s := range []string{`{"a":1,"b":"x","c":[1,{"d":null}],"e":true}`, `{"a":01}`, `{"a":-}`, `{"a":"\u00e9\n"} `, `{} x`, `{"a":1e999}`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, doc string) {
		got := map[string]json.RawMessage{}
		err := EachMember([]byte(doc), Replace, func(k, v []byte) error {
			got[string(k)] = append(json.RawMessage(nil), v...)
			return nil
		})
		var want map[string]json.RawMessage
		werr := json.Unmarshal([]byte(doc), &want)
		if werr != nil || !json.Valid([]byte(doc)) {
			require.Error(t, err, "accepted what encoding/json rejects: %q", doc)
			return
		}
		require.NoError(t, err, "rejected what encoding/json accepts: %q", doc)
		require.Equal(t, want, got)
	})
}
