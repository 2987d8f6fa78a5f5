package plugin_test

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/cpex-go/cpex/core"
)

// fieldByDecoding is what Field answered before it could read raw text: decode all,
// look the key up.
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

func TestPayloadFieldOnRawJSON(t *testing.T) {
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
		{"trailing text", `{"name":"s"} x`, "name", nil},
		{"truncated", `{"name":"s",`, "name", nil},
		{"literal", `{"ok":true,"no":false,"nil":null}`, "no", false},
		{"bad literal", `{"ok":tru}`, "ok", nil},
		{"deep nesting elsewhere", `{"name":"s","x":` + strings.Repeat("[", 10001) + strings.Repeat("]", 10001) + `}`, "name", nil},
		{"invalid utf-8 key", "{\"n\xffme\":1}", "n\xffme", nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			p := core.NewPayloadJSON([]byte(tc.doc))
			assert.Equal(t, tc.want, p.Field(tc.key))
			assert.Equal(t, fieldByDecoding(tc.doc, tc.key), p.Field(tc.key), "same as decoding the whole document")
		})
	}
}

func TestPayloadFieldLeavesRawPayloadUndecoded(t *testing.T) {
	p := core.NewPayloadJSON([]byte(`{"name":"search","args":{"q":"x"}}`))
	require.Equal(t, "search", p.Field("name"))
	v, err := p.Value()
	require.NoError(t, err)
	assert.Equal(t, "search", v.(map[string]any)["name"])
	assert.Equal(t, "search", p.Field("name"), "a decoded payload answers from its tree")
}

func FuzzPayloadFieldAgreesWithDecoding(f *testing.F) {
	for _, s := range []string{`{"name":"s","args":{"q":[1,2.5e3,"x"]}}`, `{"a":01}`, `{"na\u006de":1,"name":2}`, `{"x":1e999}`, `{} `, `{"name":"\ud800"}`, "{\"name\":\"\xff\"}"} {
		f.Add(s, "name")
	}
	f.Fuzz(func(t *testing.T, doc, key string) {
		got := core.NewPayloadJSON([]byte(doc)).Field(key)
		assert.Equal(t, fieldByDecoding(doc, key), got, "doc %q key %q", doc, key)
	})
}

// BenchmarkPayloadFieldRaw: reading "name" of a raw tool payload with sizeable
// arguments (what the rate limiter does) against decoding it whole.
func BenchmarkPayloadFieldRaw(b *testing.B) {
	args := map[string]any{}
	for i := 0; i < 50; i++ {
		args[strings.Repeat("k", i+1)] = strings.Repeat("value ", 20)
	}
	doc, _ := json.Marshal(map[string]any{"name": "search", "args": args})
	b.Run("Field", func(b *testing.B) {
		b.SetBytes(int64(len(doc)))
		b.ReportAllocs()
		for i := 0; i < b.N; i++ {
			if core.NewPayloadJSON(doc).Field("name") != "search" {
				b.Fatal("name")
			}
		}
	})
	b.Run("Decode", func(b *testing.B) {
		b.SetBytes(int64(len(doc)))
		b.ReportAllocs()
		for i := 0; i < b.N; i++ {
			if fieldByDecoding(string(doc), "name") != "search" {
				b.Fatal("name")
			}
		}
	})
}
