package builtins

import (
	"errors"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestDenyListFinds(t *testing.T) {
	gateway := `{"words": ["innovative", "groundbreaking", "revolutionary"]}`
	folded := `{"words": ["innovative", "Café", "straße"], "case_sensitive": false}`
	cases := []struct {
		name, cfg, hook, in string
		field, word         string // "" = allowed
	}{
		{"prompt arg", gateway, "prompt_pre_fetch", `{"prompt_id":"p","args":{"a":"ok","b":"a groundbreaking idea"}}`, "args.b", "groundbreaking"},
		{"substring like the gateway", gateway, "prompt_pre_fetch", `{"prompt_id":"p","args":{"a":"xxrevolutionaryxx"}}`, "args.a", "revolutionary"},
		{"clean prompt", gateway, "prompt_pre_fetch", `{"prompt_id":"p","args":{"a":"a modest idea"}}`, "", ""},
		{"case-sensitive by default", gateway, "prompt_pre_fetch", `{"prompt_id":"p","args":{"a":"Innovative"}}`, "", ""},
		{"prompt id is not content", gateway, "prompt_pre_fetch", `{"prompt_id":"innovative","args":{}}`, "", ""},
		{"nested tool args", gateway, "tool_pre_invoke", `{"name":"t","args":{"x":[1,{"y":["fine","so innovative"]}]}}`, "args.x.1.y.1", "innovative"},
		{"tool result", gateway, "tool_post_invoke", `{"name":"t","result":{"content":[{"type":"text","text":"revolutionary"}]}}`, "result.content.0.text", "revolutionary"},
		{"resource content", gateway, "resource_post_fetch", `{"uri":"u","content":{"text":"groundbreaking"}}`, "content.text", "groundbreaking"},
		{"numbers and keys are not scanned", gateway, "tool_pre_invoke", `{"name":"t","args":{"innovative":1}}`, "", ""},
		{"fold ASCII", folded, "tool_pre_invoke", `{"args":{"a":"so INNOVATIVE"}}`, "args.a", "innovative"},
		{"fold Unicode", folded, "tool_pre_invoke", `{"args":{"a":"at the CAFÉ"}}`, "args.a", "Café"},
		{"fold keeps ß distinct from ss", folded, "tool_pre_invoke", `{"args":{"a":"STRASSE"}}`, "", ""},
		{"fold Kelvin sign", `{"words":["kill"],"case_sensitive":false}`, "tool_pre_invoke", "{\"args\":{\"a\":\"\u212aILL\"}}", "args.a", "kill"},
		{"fold long s", `{"words":["pass"],"case_sensitive":false}`, "tool_pre_invoke", `{"args":{"a":"PAſſ"}}`, "args.a", "pass"},
		{"first in scan order wins", gateway, "tool_pre_invoke", `{"args":{"b":"innovative","a":"revolutionary"}}`, "args.a", "revolutionary"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			p, err := guardbNew("builtin/deny_list", []string{tc.hook}, guardbYAMLish(t, tc.cfg))
			require.NoError(t, err)
			res := guardbInvoke(t, p, tc.hook, tc.in, nil)
			if tc.field == "" {
				assert.Nil(t, res)
				return
			}
			require.NotNil(t, res)
			assert.True(t, res.Block)
			assert.Nil(t, res.ModifiedPayload)
			require.NotNil(t, res.Violation)
			assert.Equal(t, "deny", res.Violation.Code)
			assert.Equal(t, denyReason(tc.hook), res.Violation.Reason)
			assert.Equal(t, "A deny word was found in "+tc.field, res.Violation.Description)
			assert.Equal(t, map[string]any{"field": tc.field, "word": tc.word}, res.Violation.Details)
		})
	}
}

func TestDenyListReasons(t *testing.T) {
	assert.Equal(t, "Prompt not allowed", denyReason("prompt_pre_fetch"))
	assert.Equal(t, "Tool call not allowed", denyReason("tool_pre_invoke"))
	assert.Equal(t, "Tool result not allowed", denyReason("tool_post_invoke"))
	assert.Equal(t, "Resource not allowed", denyReason("resource_post_fetch"))
	assert.Equal(t, "Agent message not allowed", denyReason("agent_pre_invoke"))
}

func TestDenyAutomatonOverlaps(t *testing.T) {
	a := newDenyAutomaton([]string{"he", "she", "his", "hers", "usher"}, false)
	cases := map[string]string{
		"ushers": "she", // ends first (at index 3), before "usher"/"he"/"hers"
		"this":   "his",
		"xhx":    "",
		"":       "",
		"h":      "",
		"ahisb":  "his",
	}
	for text, want := range cases {
		got := a.find(text)
		if want == "" {
			assert.Equal(t, -1, got, text)
			continue
		}
		require.GreaterOrEqual(t, got, 0, text)
		assert.Equal(t, want, a.words[got], text)
	}
}

func TestDenyAutomatonMatchesNaiveSearch(t *testing.T) {
	words := []string{"alpha", "lph", "bet", "ALPHABET", "ün", "a", "zz"}
	texts := []string{"", "xyz", "alphabet", "ALPHA", "grün", "GRÜN", "zZ", "qq a", "b e t"}
	for _, fold := range []bool{false, true} {
		a := newDenyAutomaton(words, fold)
		for _, s := range texts {
			assert.Equal(t, denyNaive(words, s, fold), a.find(s) >= 0, "fold=%v text=%q", fold, s)
		}
	}
}

// denyNaive is the oracle: one strings.Contains per word.
func denyNaive(words []string, s string, fold bool) bool {
	if fold {
		s = denyFold(s)
	}
	for _, w := range words {
		if fold {
			w = denyFold(w)
		}
		if strings.Contains(s, w) {
			return true
		}
	}
	return false
}

func TestDenyListBadConfig(t *testing.T) {
	cases := []struct{ name, cfg, key string }{
		{"missing words", `{}`, "words"},
		{"words not a list", `{"words":"x"}`, "words"},
		{"word not a string", `{"words":["a",2]}`, "words"},
		{"empty word", `{"words":["a",""]}`, "words.1"},
		{"case_sensitive not a boolean", `{"words":["a"],"case_sensitive":"no"}`, "case_sensitive"},
		{"unknown key", `{"words":["a"],"ignore_case":true}`, "ignore_case"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := guardbNew("builtin/deny_list", []string{"prompt_pre_fetch"}, guardbYAMLish(t, tc.cfg))
			var ce *ConfigError
			require.True(t, errors.As(err, &ce), "%v", err)
			assert.Equal(t, tc.key, ce.Key)
		})
	}
	t.Run("hook without content", func(t *testing.T) {
		_, err := guardbNew("builtin/deny_list", []string{"http_pre_request"}, guardbYAMLish(t, `{"words":["a"]}`))
		require.ErrorIs(t, err, ErrConfig)
	})
	t.Run("empty list allows everything", func(t *testing.T) {
		p, err := guardbNew("builtin/deny_list", []string{"tool_pre_invoke"}, guardbYAMLish(t, `{"words":[]}`))
		require.NoError(t, err)
		assert.Nil(t, guardbInvoke(t, p, "tool_pre_invoke", `{"args":{"a":"anything"}}`, nil))
	})
}
