package builtins

import (
	"context"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/cpex-go/cpex/core"
)

// A Go program loads the three guards from YAML with core.LoadManager and runs them in
// one chain: the rate limiter first, then the search/replace list, then the deny list,
// which sees the rewritten text.
const guardbChainYAML = `
plugins:
  - name: limiter
    kind: builtin/rate_limiter
    hooks: [tool_pre_invoke, prompt_pre_fetch]
    mode: sequential
    priority: 10
    config:
      by_user: "3/m"
      by_tool: {export: "1/m"}
  - name: words
    kind: builtin/regex_replace
    hooks: [tool_pre_invoke]
    mode: sequential
    priority: 20
    config:
      words:
        - {search: crap, replace: crud}
        - {search: crud, replace: yikes}
  - name: deny
    kind: builtin/deny_list
    hooks: [tool_pre_invoke]
    mode: sequential
    priority: 30
    config:
      words: [yikes]
      case_sensitive: false
`

func guardbChain(t *testing.T) *core.Manager {
	t.Helper()
	path := filepath.Join(t.TempDir(), "plugins.yaml")
	require.NoError(t, os.WriteFile(path, []byte(guardbChainYAML), 0o600))
	m, err := core.LoadManager(path, core.WithLogger(slog.New(slog.NewTextHandler(io.Discard, nil))))
	require.NoError(t, err)
	t.Cleanup(func() { _ = m.Shutdown(context.Background()) })
	return m
}

func guardbCall(t *testing.T, m *core.Manager, user any, tool string, args map[string]any) *core.HookResult {
	t.Helper()
	payload := core.NewPayloadValue(map[string]any{"name": tool, "args": args})
	res, _, err := m.InvokeHook(context.Background(), "tool_pre_invoke", payload, &core.GlobalContext{RequestID: "r", User: user}, nil)
	require.NoError(t, err)
	return res
}

func TestGuardChainFromYAML(t *testing.T) {
	m := guardbChain(t)
	assert.Equal(t, 3, m.PluginCount())

	alice := map[string]any{"email": "alice@example.com", "is_admin": true}
	res := guardbCall(t, m, alice, "search", map[string]any{"q": "nice words"})
	assert.True(t, res.ContinueProcessing)
	assert.Nil(t, res.ModifiedPayload)

	// regex_replace rewrites crap → crud → yikes; deny_list, after it, blocks on yikes.
	res = guardbCall(t, m, alice, "search", map[string]any{"q": "CRAP"})
	assert.True(t, res.ContinueProcessing, "the case-sensitive rule leaves CRAP alone")
	res = guardbCall(t, m, alice, "search", map[string]any{"q": "what crap"})
	require.False(t, res.ContinueProcessing)
	require.NotNil(t, res.Violation)
	assert.Equal(t, "deny", res.Violation.Code)
	assert.Equal(t, "deny", res.Violation.PluginName)
	assert.Equal(t, map[string]any{"field": "args.q", "word": "yikes"}, res.Violation.Details)

	// Alice used her 3 requests; the limiter blocks the 4th before the other guards run.
	res = guardbCall(t, m, alice, "search", map[string]any{"q": "what crap"})
	require.False(t, res.ContinueProcessing)
	assert.Equal(t, "RATE_LIMIT", res.Violation.Code)
	assert.Equal(t, "limiter", res.Violation.PluginName)
	assert.Equal(t, 429, *res.Violation.HTTPStatusCode)
	assert.Equal(t, "60", res.Violation.HTTPHeaders["Retry-After"])
	assert.Len(t, res.Executions, 1, "the chain stopped at the limiter")

	// Another user dict counts separately (identity = email); the tool limit is shared.
	bob := map[string]any{"email": "bob@example.com"}
	assert.True(t, guardbCall(t, m, bob, "export", map[string]any{}).ContinueProcessing)
	res = guardbCall(t, m, "carol", "Export", map[string]any{})
	require.False(t, res.ContinueProcessing)
	assert.Equal(t, "tool", res.Violation.Details["dimension"])
}

// Go callers (the Go API path): user ids of any Go type are counted exactly, per user
// (by_user is 3/m in the chain above), never merged by a float64 rendering and never
// skipped (issue 10, item 2).
func TestGoCallersUserIdentitiesAreExact(t *testing.T) {
	m := guardbChain(t)
	for _, user := range []any{
		map[string]any{"id": uint64(1<<53 + 1)},
		map[string]any{"id": uint64(1 << 53)},
		map[string]any{"id": int64(-1)},
		map[string]any{"sub": []any{"x"}},
		map[string]any{"sub": map[string]any{"tenant": "a", "n": 1}},
		struct{ ID int }{7},
	} {
		allowed := 0
		for range 4 {
			if guardbCall(t, m, user, "search", map[string]any{"q": "hi"}).ContinueProcessing {
				allowed++
			}
		}
		assert.Equal(t, 3, allowed, "%#v: its own counter, limited", user)
	}
}
