package engine

import (
	"testing"

	"github.com/cpex-go/cpex/core/plugin"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestPyStrLen(t *testing.T) {
	cases := []struct {
		v    any
		want int
	}{
		{"héllo", 5},
		{nil, 4},
		{true, 4},
		{false, 5},
		{float64(12), 2},
		{1.5, 3},
		{1e20, 5},
		{[]any{float64(1), "a"}, len("[1, 'a']")},
		{map[string]any{"k": "v"}, len("{'k': 'v'}")},
		{map[string]any{"a": nil, "b": []any{}}, len("{'a': None, 'b': []}")},
		{struct{}{}, 0},
	}
	for _, tc := range cases {
		assert.Equal(t, tc.want, pyStrLen(tc.v), "%#v", tc.v)
	}
	for _, v := range []any{nil, false, "", 0.0, map[string]any{}, []any{}} {
		assert.False(t, truthy(v), "%#v", v)
	}
	for _, v := range []any{true, "x", 1.0, map[string]any{"a": 1}, []any{1}, struct{}{}} {
		assert.True(t, truthy(v), "%#v", v)
	}
	attr, n := sizeFacts(plugin.NewPayloadValue([]any{1}))
	assert.Equal(t, "", attr)
	assert.Equal(t, 0, n)
	attr, _ = sizeFacts(plugin.NewPayloadJSON(make([]byte, plugin.MaxPayloadSize)))
	assert.Equal(t, "", attr, "undecodable payloads are not measured")
}

func TestFormatSeconds(t *testing.T) {
	assert.Equal(t, "30", formatSeconds(30, true))
	assert.Equal(t, "30.0", formatSeconds(30, false))
	assert.Equal(t, "0.5", formatSeconds(0.5, true))
	assert.Equal(t, "1e+21", formatSeconds(1e21, false))
}

func TestTruncate(t *testing.T) {
	assert.Equal(t, "short", Truncate("short", 256))
	long := ""
	for i := 0; i < 300; i++ {
		long += "é"
	}
	cut := Truncate(long, 256)
	assert.LessOrEqual(t, len(cut), 256)
	assert.Equal(t, "…", cut[len(cut)-len("…"):])
	assert.Equal(t, "…", Truncate("abcdef", 1))
	r := NewRef(RefSpec{Name: "n", Kind: string(make([]byte, 300)), ConfigKeys: make([]string, 70)})
	assert.Len(t, r.ConfigKeys, 64)
	assert.Len(t, r.UUID, 32)
	assert.LessOrEqual(t, len(r.recordKind), 256)
}

func TestHookTypesRegistry(t *testing.T) {
	require.NoError(t, RegisterHookType(HookType{Name: "custom_tool", MatchSet: MatchTools, MatchAttr: "tool"}))
	h, ok := LookupHookType("custom_tool")
	assert.True(t, ok)
	assert.Equal(t, "tool", h.MatchAttr)
	_, ok = LookupHookType("never_registered")
	assert.False(t, ok)
	assert.Contains(t, HookTypes(), HookToolPreInvoke)
	assert.Contains(t, HookTypes(), "custom_tool")
	assert.Error(t, RegisterHookType(HookType{}))
	assert.ErrorContains(t, RegisterHookType(HookType{Name: "x", MatchSet: "files", MatchAttr: "f"}), `unknown match set "files"`)
	assert.ErrorContains(t, RegisterHookType(HookType{Name: "x", MatchSet: MatchTools}), "go together")
	for _, set := range []string{MatchPrompts, MatchResources, MatchAgents} {
		require.NoError(t, RegisterHookType(HookType{Name: "custom_" + set, MatchSet: set, MatchAttr: "id"}))
	}
}

func TestPolicyParsing(t *testing.T) {
	p, err := ParseDefaultPolicy("deny")
	require.NoError(t, err)
	assert.Equal(t, PolicyDeny, p)
	_, err = ParseDefaultPolicy("sometimes")
	assert.ErrorContains(t, err, "sometimes")
}
