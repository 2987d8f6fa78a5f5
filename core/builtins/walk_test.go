package builtins

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func sampleTree() map[string]any {
	return map[string]any{
		"b": []any{"x1", 2.0, map[string]any{"z": "x2", "a": nil}},
		"a": "x3",
		"c": true,
	}
}

func TestVisitStringsOrderAndPaths(t *testing.T) {
	var got []string
	done := VisitStrings(sampleTree(), func(path []string, s string) bool {
		got = append(got, strings.Join(path, ".")+"="+s)
		return true
	})
	assert.True(t, done)
	assert.Equal(t, []string{"a=x3", "b.0=x1", "b.2.z=x2"}, got)
}

func TestVisitStringsStops(t *testing.T) {
	n := 0
	done := VisitStrings(sampleTree(), func([]string, string) bool { n++; return n < 2 })
	assert.False(t, done)
	assert.Equal(t, 2, n)
}

func TestRewriteStringsCopiesOnlyChangedPaths(t *testing.T) {
	in := sampleTree()
	out, changed := RewriteStrings(in, func(path []string, s string) (string, bool) {
		if s == "x2" {
			return "Y", true
		}
		return s, false
	})
	require.True(t, changed)
	m := out.(map[string]any)
	// the input is untouched
	assert.Equal(t, "x2", in["b"].([]any)[2].(map[string]any)["z"])
	assert.Equal(t, "Y", m["b"].([]any)[2].(map[string]any)["z"])
	// untouched siblings are shared, not copied
	assert.Equal(t, "x3", m["a"])
	assert.Equal(t, true, m["c"])
}

func TestRewriteStringsUnchangedReturnsInput(t *testing.T) {
	in := []any{"a", map[string]any{"k": "v"}}
	out, changed := RewriteStrings(in, func(_ []string, s string) (string, bool) { return s + "!", false })
	assert.False(t, changed)
	assert.Same(t, &in[0], &out.([]any)[0])
}

func TestRewriteStringsScalarsAndLeaf(t *testing.T) {
	for _, v := range []any{nil, 1.5, false} {
		out, changed := RewriteStrings(v, func(_ []string, s string) (string, bool) { return "x", true })
		assert.False(t, changed)
		assert.Equal(t, v, out)
	}
	out, changed := RewriteStrings("abc", func(p []string, s string) (string, bool) {
		assert.Empty(t, p)
		return strings.ToUpper(s), true
	})
	assert.True(t, changed)
	assert.Equal(t, "ABC", out)
}

func TestScanFields(t *testing.T) {
	tests := []struct {
		hook string
		want []string
	}{
		{"tool_pre_invoke", []string{"args"}},
		{"tool_post_invoke", []string{"result"}},
		{"prompt_pre_fetch", []string{"args"}},
		{"prompt_post_fetch", []string{"result"}},
		{"resource_pre_fetch", []string{"uri", "metadata"}},
		{"resource_post_fetch", []string{"content"}},
		{"agent_pre_invoke", []string{"messages", "system_prompt", "parameters"}},
		{"agent_post_invoke", []string{"messages", "tool_calls"}},
		{"http_pre_request", nil},
	}
	for _, tc := range tests {
		t.Run(tc.hook, func(t *testing.T) {
			got := ScanFields(tc.hook)
			assert.Equal(t, tc.want, got)
			if len(got) > 0 {
				got[0] = "mutated"
				assert.Equal(t, tc.want[0], ScanFields(tc.hook)[0], "ScanFields must return a copy")
			}
		})
	}
}

func TestRewritePayload(t *testing.T) {
	payload := map[string]any{"name": "secret-tool", "args": map[string]any{"q": "secret"}}
	fn := func(path []string, s string) (string, bool) {
		if s == "secret" {
			return "[X] at " + strings.Join(path, "."), true
		}
		return s, false
	}
	out, changed := RewritePayload(payload, "tool_pre_invoke", fn)
	require.True(t, changed)
	assert.Equal(t, "secret-tool", out["name"], "non-content fields are not scanned")
	assert.Equal(t, "[X] at args.q", out["args"].(map[string]any)["q"])
	assert.Equal(t, "secret", payload["args"].(map[string]any)["q"], "input untouched")

	_, changed = RewritePayload(payload, "tool_post_invoke", fn)
	assert.False(t, changed, "tool_post_invoke scans result only")
	_, changed = RewritePayload("not an object", "tool_pre_invoke", fn)
	assert.False(t, changed)

	var seen []string
	VisitPayload(payload, "tool_pre_invoke", func(p []string, s string) bool {
		seen = append(seen, strings.Join(p, "."))
		return true
	})
	assert.Equal(t, []string{"args.q"}, seen)
}
