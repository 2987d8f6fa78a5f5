package pybind

import (
	"encoding/json"
	"math"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// quotedTree must write exactly what the former path wrote: json.Marshal, then the
// result as a JSON string (w.str). Checked on fixed trees and fuzzed on decoded JSON.

func oldQuoted(v any) (string, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return "", err
	}
	var w jw
	w.str(string(b))
	return string(w.b), nil
}

func checkQuotedTree(t *testing.T, v any) {
	want, wantErr := oldQuoted(v)
	var w jw
	err := w.quotedTree(v)
	if wantErr != nil {
		require.Error(t, err, "%#v", v)
		assert.Equal(t, wantErr.Error(), err.Error())
		return
	}
	require.NoError(t, err, "%#v", v)
	require.Equal(t, want, string(w.b), "%#v", v)
	// And Python's view: the string decodes to JSON text that decodes to the tree.
	var text string
	require.NoError(t, json.Unmarshal(w.b, &text))
	require.True(t, json.Valid([]byte(text)), text)
}

type point struct {
	X int    `json:"x"`
	S string `json:"s"`
}

func TestQuotedTreeLikeMarshalThenQuote(t *testing.T) {
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
		"cycle":       cyclic,
	}
	for name, v := range cases {
		t.Run(name, func(t *testing.T) { checkQuotedTree(t, v) })
	}
}

func FuzzQuotedTree(f *testing.F) {
	for _, s := range []string{`{"a":"<é>\u2028","b":[1,2.5,-0,1e300,null,true]}`, `"\ud83d"`, "\"\xff\"", `[1e-7,{"":{}}]`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, doc []byte) {
		var v any
		if json.Unmarshal(doc, &v) != nil {
			return
		}
		checkQuotedTree(t, v)
		// The strings of a tree are also raw bytes from Python plugins: fuzz those too.
		checkQuotedTree(t, map[string]any{string(doc): string(doc)})
	})
}

func asIsByte(c byte) bool {
	return c >= 0x20 && c < 0x80 && c != '"' && c != '\\' && c != '<' && c != '>' && c != '&'
}

// asIsRun may stop early but must never skip a byte that treeStr escapes.
func checkAsIsRun(t *testing.T, s string) {
	for from := 0; from <= len(s) && from < 16; from++ {
		end := asIsRun(s, from)
		require.GreaterOrEqual(t, end, from)
		require.LessOrEqual(t, end, len(s))
		for k := from; k < end; k++ {
			require.True(t, asIsByte(s[k]), "%q from %d skipped byte %d", s, from, k)
		}
		if end+8 <= len(s) {
			special := false
			for k := end; k < end+8; k++ {
				special = special || !asIsByte(s[k])
			}
			require.True(t, special, "%q from %d stopped at %d without cause", s, from, end)
		}
	}
}

func TestAsIsRun(t *testing.T) {
	for _, s := range []string{"", "abc", "abcdefghijklmnopqrstuvwxyz", "abcdefgh<ijk", "abcdefghijklmn&o",
		"abcdefghij\x1fkl", "abcdefghijk>lmnop", "abcdefghijklm\xc3\xa9", "abcdefgh\"\\", "~~~~~~~~~~~~~~~~\x7f"} {
		checkAsIsRun(t, s)
	}
}

func FuzzAsIsRun(f *testing.F) {
	f.Add("abcdefgh<ijklmnop")
	f.Fuzz(checkAsIsRun)
}

// The answers that carry a Go plugin's new payload hold its JSON text as a string.
func TestModifiedPayloadAnswers(t *testing.T) {
	goID, err := GoPluginNew(`{"name":"rr","kind":"builtin/regex_replace","config":{"words":[{"search":"crap","replace":"crud"}]}}`)
	require.NoError(t, err)
	t.Cleanup(func() { _, _ = GoPluginRelease(goID) })
	ans, err := GoPluginInvoke(goID, "tool_pre_invoke", `{"name":"t","args":{"q":"crap <b>\u2028","n":1e-7}}`, `{"rid":"r"}`)
	require.NoError(t, err)
	text, ok := decode(t, ans)["payload"].(string)
	require.True(t, ok, ans)
	assert.JSONEq(t, `{"name":"t","args":{"q":"crud <b>\u2028","n":1e-7}}`, text)

	plan := s4Plan(t)
	step, err := RunStart(plan, plainFacts)
	require.NoError(t, err)
	payload := s4PayloadJSON(t)
	ans, err = RunGo(runIDOf(step), payload)
	require.NoError(t, err)
	eff, ok := decode(t, ans)["effects"].(map[string]any)
	require.True(t, ok, ans)
	text, ok = eff["payload"].(string)
	require.True(t, ok, ans)
	var out map[string]any
	require.NoError(t, json.Unmarshal([]byte(text), &out))
	assert.Equal(t, "ingest_documents", out["name"])
	assert.NotContains(t, text, "alice.smith@example.com", "pii_filter redacted the e-mail addresses")
	assert.NotContains(t, text, "AKIAIOSFODNN7EXAMPLE", "the AWS key was redacted")
	assert.Contains(t, text, "crud", "regex_replace ran")
	require.Contains(t, payload, "crap")
}
