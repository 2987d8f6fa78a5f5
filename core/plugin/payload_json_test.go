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

// Payload reads its JSON text with internal/wirejson (whose tests hold the cases); these
// check the wiring: Field on raw text, Value's decoder and its error text.

func TestPayloadFieldOnRawJSON(t *testing.T) {
	doc := ` {"name":"s", "args" : {"q":[1,2,{"z":null}]}, "name":"t"} `
	p := core.NewPayloadJSON([]byte(doc))
	assert.Equal(t, "t", p.Field("name"), "the last duplicate wins")
	assert.Equal(t, map[string]any{"q": []any{1.0, 2.0, map[string]any{"z": nil}}}, p.Field("args"))
	assert.Nil(t, p.Field("absent"))
	assert.Nil(t, core.NewPayloadJSON([]byte(`{"name":"s","x":1e400}`)).Field("name"), "invalid as a tree elsewhere")
}

func TestPayloadValueUsesTheTreeDecoder(t *testing.T) {
	p := core.NewPayloadJSON([]byte(`{"args":{"n":12,"s":"\u00e9"}}`))
	v, err := p.Value()
	require.NoError(t, err)
	assert.Equal(t, map[string]any{"args": map[string]any{"n": 12.0, "s": "é"}}, v)

	_, err = core.NewPayloadJSON([]byte(`{"n":1e400}`)).Value()
	require.Error(t, err)
	assert.Contains(t, err.Error(), "payload: invalid JSON: json: cannot unmarshal number 1e400")
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
