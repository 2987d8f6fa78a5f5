package builtins

import (
	"context"
	"encoding/json"
	"errors"
	"regexp"
	"regexp/syntax"
	"strconv"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/cpex-go/cpex/core"
)

// guardbNew builds a plugin through the registry, as a YAML config would.
func guardbNew(kind string, hooks []string, cfg map[string]any) (core.Plugin, error) {
	return core.NewPlugin(core.PluginSpec{Name: "t", Kind: kind, Hooks: hooks, Config: cfg})
}

// guardbYAMLish turns a JSON literal into the map a YAML `config:` block decodes to.
func guardbYAMLish(t testing.TB, js string) map[string]any {
	t.Helper()
	var m map[string]any
	require.NoError(t, json.Unmarshal([]byte(js), &m))
	return m
}

// guardbInvoke runs one hook on a JSON payload and checks that the input was not mutated.
func guardbInvoke(t testing.TB, p core.Plugin, hook, payloadJSON string, pctx *core.PluginContext) *core.Result {
	t.Helper()
	var v any
	require.NoError(t, json.Unmarshal([]byte(payloadJSON), &v))
	res, err := p.Invoke(context.Background(), hook, core.NewPayloadValue(v), pctx)
	require.NoError(t, err)
	var again any
	require.NoError(t, json.Unmarshal([]byte(payloadJSON), &again))
	require.Equal(t, again, v, "the plugin mutated its input payload")
	return res
}

// guardbJSON renders a modified payload for comparison.
func guardbJSON(t testing.TB, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	require.NoError(t, err)
	return string(b)
}

func TestRegexReplaceRewrites(t *testing.T) {
	gatewayWords := `{"words": [{"search": "crap", "replace": "crud"}, {"search": "crud", "replace": "yikes"}]}`
	cases := []struct {
		name, cfg, hook, in string
		want                string // the modified payload, "" = unchanged (nil result)
	}{
		{"gateway example chains in order", gatewayWords, "tool_pre_invoke",
			`{"name":"crap","args":{"q":"what crap"}}`, `{"args":{"q":"what yikes"},"name":"crap"}`},
		{"nested dicts and lists", gatewayWords, "tool_pre_invoke",
			`{"name":"t","args":{"a":{"b":["crap",1,true,null,{"c":"x crud y"}]},"n":3}}`,
			`{"args":{"a":{"b":["yikes",1,true,null,{"c":"x yikes y"}]},"n":3},"name":"t"}`},
		{"no match: no modified payload", gatewayWords, "tool_pre_invoke",
			`{"name":"t","args":{"q":"clean text","n":{"m":["fine"]}}}`, ""},
		{"identifiers are not content", gatewayWords, "prompt_pre_fetch",
			`{"prompt_id":"crap","args":{"x":"ok"}}`, ""},
		{"prompt args", gatewayWords, "prompt_pre_fetch",
			`{"prompt_id":"p","args":{"x":"crap"}}`, `{"args":{"x":"yikes"},"prompt_id":"p"}`},
		{"prompt messages", gatewayWords, "prompt_post_fetch",
			`{"prompt_id":"p","result":{"messages":[{"role":"user","content":{"type":"text","text":"crap!"}}]}}`,
			`{"prompt_id":"p","result":{"messages":[{"content":{"text":"yikes!","type":"text"},"role":"user"}]}}`},
		{"tool result string", gatewayWords, "tool_post_invoke",
			`{"name":"t","result":"crap"}`, `{"name":"t","result":"yikes"}`},
		{"tool result content list", gatewayWords, "tool_post_invoke",
			`{"name":"t","result":{"content":[{"type":"text","text":"a crap b"}],"isError":false}}`,
			`{"name":"t","result":{"content":[{"text":"a yikes b","type":"text"}],"isError":false}}`},
		{"python groups", `{"words":[{"search":"(\\w+)@(\\w+)\\.com","replace":"\\2 at \\1"}]}`, "tool_pre_invoke",
			`{"args":{"e":"mail bob@acme.com now"}}`, `{"args":{"e":"mail acme at bob now"}}`},
		{"python named group and g<0>", `{"words":[{"search":"(?P<num>\\d+)","replace":"<\\g<num>|\\g<0>>"}]}`, "tool_pre_invoke",
			`{"args":{"e":"id 42"}}`, `{"args":{"e":"id <42|42>"}}`},
		{"dollar is literal as in re.sub", `{"words":[{"search":"price","replace":"$5 ${1}"}]}`, "tool_pre_invoke",
			`{"args":{"e":"the price"}}`, `{"args":{"e":"the $5 ${1}"}}`},
		{"escapes are processed", `{"words":[{"search":" ","replace":"\\n"}]}`, "tool_pre_invoke",
			`{"args":{"e":"a b"}}`, `{"args":{"e":"a\nb"}}`},
		{"case-insensitive flag", `{"words":[{"search":"(?i)secret","replace":"[x]"}]}`, "tool_post_invoke",
			`{"result":{"t":"a SeCrEt here"}}`, `{"result":{"t":"a [x] here"}}`},
		{"replacement equal to the match is no change", `{"words":[{"search":"same","replace":"same"}]}`, "tool_pre_invoke",
			`{"args":{"e":"same"}}`, ""},
		{"empty words list is a no-op", `{"words":[]}`, "tool_pre_invoke", `{"args":{"e":"crap"}}`, ""},
		{"unicode text", `{"words":[{"search":"é+","replace":"e"}]}`, "tool_pre_invoke",
			`{"args":{"e":"cafééé ☕"}}`, `{"args":{"e":"cafe ☕"}}`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			p, err := guardbNew("builtin/regex_replace", []string{tc.hook}, guardbYAMLish(t, tc.cfg))
			require.NoError(t, err)
			res := guardbInvoke(t, p, tc.hook, tc.in, nil)
			if tc.want == "" {
				assert.Nil(t, res)
				return
			}
			require.NotNil(t, res)
			assert.False(t, res.Block)
			assert.Nil(t, res.Violation)
			assert.JSONEq(t, tc.want, guardbJSON(t, res.ModifiedPayload))
		})
	}
}

func TestRegexReplaceBadConfig(t *testing.T) {
	cases := []struct {
		name, cfg string
		hooks     []string
		key       string // the config key the error must name
	}{
		{"missing words", `{}`, nil, "words"},
		{"words not a list", `{"words":"crap"}`, nil, "words"},
		{"entry not a mapping", `{"words":["crap"]}`, nil, "words"},
		{"missing search", `{"words":[{"replace":"x"}]}`, nil, "words.0.search"},
		{"missing replace", `{"words":[{"search":"x"}]}`, nil, "words.0.replace"},
		{"unknown entry key", `{"words":[{"search":"x","replace":"y","flags":"i"}]}`, nil, "words"},
		{"unknown key", `{"words":[],"word":[]}`, nil, "word"},
		{"search not a string", `{"words":[{"search":1,"replace":"y"}]}`, nil, "words"},
		{"look-behind is not RE2", `{"words":[{"search":"ok","replace":"y"},{"search":"(?<=a)b","replace":"y"}]}`, nil, "words.1.search"},
		{"backreference is not RE2", `{"words":[{"search":"(a)\\1","replace":"y"}]}`, nil, "words.0.search"},
		{"unbalanced paren", `{"words":[{"search":"(a","replace":"y"}]}`, nil, "words.0.search"},
		{"group out of range", `{"words":[{"search":"(a)","replace":"\\2"}]}`, nil, "words.0.replace"},
		{"unknown group name", `{"words":[{"search":"(?P<a>x)","replace":"\\g<b>"}]}`, nil, "words.0.replace"},
		{"bad escape", `{"words":[{"search":"a","replace":"\\q"}]}`, nil, "words.0.replace"},
		{"lone backslash", `{"words":[{"search":"a","replace":"x\\"}]}`, nil, "words.0.replace"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := guardbNew("builtin/regex_replace", tc.hooks, guardbYAMLish(t, tc.cfg))
			require.Error(t, err)
			assert.True(t, errors.Is(err, ErrConfig), "%v", err)
			var ce *ConfigError
			require.True(t, errors.As(err, &ce), "%v", err)
			assert.Equal(t, tc.key, ce.Key, "%v", err)
		})
	}
	t.Run("unsupported hook", func(t *testing.T) {
		_, err := guardbNew("builtin/regex_replace", []string{"resource_post_fetch"}, guardbYAMLish(t, `{"words":[]}`))
		require.ErrorIs(t, err, ErrConfig)
		assert.Contains(t, err.Error(), "resource_post_fetch")
	})
	t.Run("the pattern is named in the message", func(t *testing.T) {
		_, err := guardbNew("builtin/regex_replace", nil, guardbYAMLish(t, `{"words":[{"search":"(?<=a)b","replace":"y"}]}`))
		require.Error(t, err)
		assert.Contains(t, err.Error(), `(?<=a)b`)
	})
}

func TestPyReplacement(t *testing.T) {
	re := regexp.MustCompile(`(?P<first>a)(b)`)
	cases := []struct {
		repl, template, text string
		literal, bad         bool
	}{
		{repl: `plain`, template: `plain`, text: `plain`, literal: true},
		{repl: `$1 $$`, template: `$$1 $$$$`, text: `$1 $$`, literal: true},
		{repl: `\1-\2`, template: `${1}-${2}`},
		{repl: `\g<first>\g<2>\g<0>`, template: `${first}${2}${0}`},
		{repl: `\n\t\\`, template: "\n\t\\", text: "\n\t\\", literal: true},
		{repl: `\0`, template: "\x00", text: "\x00", literal: true},
		{repl: `\101`, template: `A`, text: `A`, literal: true}, // three octal digits: a character
		{repl: `\.`, template: `\.`, text: `\.`, literal: true}, // other escapes stay as written
		{repl: `\12`, bad: true},                                // two digits: group 12, which does not exist
		{repl: `\777`, bad: true},                               // octal above \377
		{repl: `\g<>`, bad: true},
		{repl: `\g<a-b>`, bad: true},
		{repl: `\g1`, bad: true},
	}
	for _, tc := range cases {
		tmpl, text, literal, err := pyReplacement(tc.repl, re)
		if tc.bad {
			assert.Error(t, err, tc.repl)
			continue
		}
		require.NoError(t, err, tc.repl)
		assert.Equal(t, tc.template, tmpl, tc.repl)
		assert.Equal(t, tc.literal, literal, tc.repl)
		if literal {
			assert.Equal(t, tc.text, text, tc.repl)
		}
	}
}

func TestRegexReplaceDoesNotBlowUp(t *testing.T) {
	// RE2: a pattern that is catastrophic for backtracking engines stays linear here.
	p, err := guardbNew("builtin/regex_replace", []string{"tool_pre_invoke"},
		guardbYAMLish(t, `{"words":[{"search":"(a+)+$","replace":"x"}]}`))
	require.NoError(t, err)
	in := make([]byte, 0, 40000)
	for range 40000 - 1 {
		in = append(in, 'a')
	}
	in = append(in, '!')
	res := guardbInvoke(t, p, "tool_pre_invoke", guardbJSON(t, map[string]any{"args": map[string]any{"s": string(in)}}), nil)
	assert.Nil(t, res) // no match, and it returned
}

func TestRegexPrefilter(t *testing.T) {
	cases := []struct {
		pattern string
		filters bool     // a prefilter is derived
		skip    []string // texts the filter rejects
		pass    []string // texts it lets through (every match among them)
	}{
		{`\b(damn|heck)\b`, true, []string{"clean text", "dam hec"}, []string{"oh damn", "heck"}},
		{`(?i)confidential`, true, []string{"public"}, []string{"CONFIDENTIAL", "ConFidential", "é confidential"}},
		{`(?i)kiosk`, true, []string{"shop"}, []string{"\u212aIOSK", "KIOſK"}},
		{`(pwd|passwd)\s*=\s*\S+`, true, []string{"password"}, []string{"pwd = x"}},
		{`\d+`, false, nil, nil},
		{`ab|c`, false, nil, nil},      // "c" is too short to be selective
		{`(?i)σοφία`, false, nil, nil}, // non-ASCII folding: no filter rather than a wrong one
		{`x*`, false, nil, nil},
	}
	for _, tc := range cases {
		pre := newRegexPrefilter(tc.pattern)
		if !tc.filters {
			assert.Nil(t, pre, tc.pattern)
			continue
		}
		require.NotNil(t, pre, tc.pattern)
		for _, s := range tc.skip {
			assert.False(t, pre.mayMatch(s), "%s on %q", tc.pattern, s)
		}
		for _, s := range tc.pass {
			assert.True(t, pre.mayMatch(s), "%s on %q", tc.pattern, s)
		}
	}
}

func TestRequiredLiterals(t *testing.T) {
	cases := map[string][]string{
		`abc`:                   {"abc"},
		`(pwd|passwd)\s*=`:      {"pwd", "passwd"},
		`\b(damn|heck)\b`:       {"damn", "heck"},
		`(ab|cd)(ef|gh)x+`:      {"abef", "abgh", "cdef", "cdgh"},
		`foo\d+barbaz`:          {"barbaz"},
		`x(abc)+y`:              {"abc"},
		`(?:ab){2}`:             {"abab"},
		`pre(?:fix|view)[0-9]z`: {"prefix", "preview"},
	}
	for pattern, want := range cases {
		re, err := syntax.Parse(pattern, syntax.Perl)
		require.NoError(t, err)
		lits, _, ok := requiredLiterals(re.Simplify())
		require.True(t, ok, pattern)
		assert.ElementsMatch(t, want, lits, pattern)
	}
}

func TestRegexReplaceManyRules(t *testing.T) {
	// More than 64 rules: no combined screen, every rule filters on its own.
	words := make([]any, 0, 70)
	for i := range 70 {
		words = append(words, map[string]any{"search": `\bw` + strconv.Itoa(i) + `\b`, "replace": "r" + strconv.Itoa(i)})
	}
	p, err := guardbNew("builtin/regex_replace", []string{"tool_pre_invoke"}, map[string]any{"words": words})
	require.NoError(t, err)
	assert.Nil(t, p.(*regexReplace).screen)
	res := guardbInvoke(t, p, "tool_pre_invoke", `{"args":{"a":"w1 w69 w70"}}`, nil)
	require.NotNil(t, res)
	assert.JSONEq(t, `{"args":{"a":"r1 r69 w70"}}`, guardbJSON(t, res.ModifiedPayload))
}
