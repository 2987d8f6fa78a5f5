package wirejson

import (
	"encoding/json"
	"math"
	"reflect"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Value must write text that encoding/json reads back to what it reads from
// json.Marshal's text, or fail with json.Marshal's error.
func checkValue(t *testing.T, v any) {
	want, wantErr := json.Marshal(v)
	var w Writer
	w.Raw("[")
	err := w.Value(v)
	if wantErr != nil {
		require.Error(t, err, "%#v", v)
		assert.Equal(t, wantErr.Error(), err.Error())
		assert.Equal(t, "[", string(w.B), "a failed Value leaves the text as it was")
		return
	}
	require.NoError(t, err, "%#v", v)
	got := w.B[1:]
	require.NotContains(t, string(got), "\n", "the framing needs text without raw newlines")
	var a, b any
	require.NoError(t, json.Unmarshal(want, &a))
	require.NoError(t, json.Unmarshal(got, &b), "%s", got)
	require.True(t, reflect.DeepEqual(a, b), "%#v:\nmarshal %s\n  value %s", v, want, got)
}

// manyKeys: a map with more keys than Value sorts on the stack.
func manyKeys(n int) map[string]any {
	m := make(map[string]any, n)
	for i := range n {
		m[string(rune('a'+i%26))+string(rune('A'+i/26))] = i
	}
	return m
}

type point struct {
	X int    `json:"x"`
	S string `json:"s"`
}

func TestValueLikeMarshal(t *testing.T) {
	cyclic := map[string]any{}
	cyclic["self"] = cyclic
	cases := map[string]any{
		"nil":          nil,
		"string":       "plain",
		"escapes":      "q\" b\\ nl\n cr\r tab\t bs\b ff\f nul\x00 us\x1f del\x7f",
		"html":         "<script>&amp;</script>",
		"unicode":      "é ü 中文 😀 \u2028 \u2029 \ufffd",
		"invalid utf8": "a\xffb\xed\xa0\x80c\xc3",
		"numbers":      []any{0.0, math.Copysign(0, -1), 1.0, -1.5, 1e20, 1e21, 1e-6, 1e-7, 123456789.125, 5e-324, math.MaxFloat64},
		"json.Number":  []any{json.Number("12"), json.Number(""), json.Number("1.5e3")},
		"bad number":   json.Number("1x"),
		"nan":          math.NaN(),
		"inf":          []any{math.Inf(1)},
		"nested": map[string]any{"b": []any{true, false, nil, map[string]any{}}, "a": map[string]any{"z": "1", "<k>": 2.0},
			"": []any{}, "\u2028key\"": "v"},
		"nil map":     map[string]any(nil),
		"nil slice":   []any(nil),
		"other types": map[string]any{"ints": []int{1, 2}, "strs": map[string]string{"a": "x\"<"}, "struct": point{X: 3, S: "é\\"}},
		"unsupported": map[string]any{"ch": make(chan int)},
		// written without json.Marshal (detection metadata: counts and type names)
		"ints":         map[string]any{"n": 0, "m": -7, "big": int64(math.MaxInt64), "min": int64(math.MinInt64), "i": math.MaxInt},
		"string slice": map[string]any{"types": []string{"email", "<ssn>", "é\\\"", ""}, "empty": []string{}, "nil": []string(nil)},
		"many keys":    manyKeys(40),
		"cycle":        cyclic,
	}
	for name, v := range cases {
		t.Run(name, func(t *testing.T) { checkValue(t, v) })
	}
}

func TestValueSortsKeysAndFormatsFloatsAsEncodingJSON(t *testing.T) {
	var w Writer
	require.NoError(t, w.Value(map[string]any{"b": 1e21, "a": 1e-7, "c": []any{0.5, "x"}}))
	assert.Equal(t, `{"a":1e-7,"b":1e+21,"c":[0.5,"x"]}`, string(w.B))
}

func FuzzValue(f *testing.F) {
	for _, s := range []string{`{"a":"<é>\u2028","b":[1,2.5,-0,1e300,null,true]}`, `"\ud83d"`, "\"\xff\"", `[1e-7,{"":{}}]`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, doc []byte) {
		v, err := Decode(doc)
		if err != nil {
			return
		}
		checkValue(t, v)
		// The strings of a tree are also raw bytes from plugins: fuzz those too.
		checkValue(t, map[string]any{string(doc): string(doc)})
	})
}

func TestWriterHelpers(t *testing.T) {
	var w Writer
	s := "x\ny"
	w.Raw("{")
	w.Key("a")
	w.Int(-3)
	w.Key("b")
	w.Bool(true)
	w.Key("c")
	w.Ints([]int{1, 2})
	w.Key("d")
	w.Strs([]string{"p", "q\"\xed\xa0\x80"})
	w.Key("e")
	w.OptStr(nil)
	w.Key("f")
	w.OptStr(&s)
	w.Key("g")
	require.NoError(t, w.Any(map[string]int{"k": 1}))
	w.Key("h")
	w.Int64(math.MaxInt64)
	w.Raw("}")
	assert.Equal(t, `{"a":-3,"b":true,"c":[1,2],"d":["p","q\"\ud800"],"e":null,"f":"x\ny","g":{"k":1},"h":9223372036854775807}`,
		string(w.B))
	assert.Error(t, w.Any(math.NaN()))
}

func TestValidNumber(t *testing.T) {
	for s, ok := range map[string]bool{"0": true, "-0": true, "1.5e3": true, "12": true, "": false, "-": false, "01": false,
		"1.": false, ".5": false, "1e": false, "+1": false, "1x": false, "NaN": false} {
		assert.Equal(t, ok, ValidNumber(s), "%q", s)
	}
}
