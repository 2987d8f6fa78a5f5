package pybind

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The memoized facts (lastFacts) answer what reading the document answers, every call
// gets a PluginContext of its own, and a user map a plugin writes to is not what the
// next call under the same document sees.
func TestParseContextFactsMemoGivesEachCallItsOwnContext(t *testing.T) {
	for _, doc := range factsCases {
		t.Run(doc, func(t *testing.T) {
			lastFacts.Store(nil)
			want, wantTimeout, wantErr := parseContextFactsJSON("F", doc)
			for range 3 { // the first reads, the next ones may come from the memo
				pc, timeout, err := parseContextFacts("F", doc)
				if wantErr != nil {
					require.EqualError(t, err, wantErr.Error())
					continue
				}
				require.NoError(t, err)
				assert.Equal(t, want, pc)
				assert.Equal(t, wantTimeout, timeout)
				if u, ok := pc.User.(map[string]any); ok {
					u["written"] = "by a plugin" // must not reach the next call
				}
				pc.RequestID = "changed"
			}
		})
	}
}

func TestParseContextFactsMemoFollowsTheDocument(t *testing.T) {
	lastFacts.Store(nil)
	a := `{"rid":"a","user":{"keys":["email"],"values":{"email":"a@x"}},"timeout":2}`
	b := `{"rid":"b","user":"bob"}`
	for _, doc := range []string{a, b, a, a, b} {
		want, wantTimeout, err := parseContextFactsJSON("F", doc)
		require.NoError(t, err)
		pc, timeout, err := parseContextFacts("F", doc)
		require.NoError(t, err)
		assert.Equal(t, want, pc, doc)
		assert.Equal(t, wantTimeout, timeout, doc)
	}
}

// A user value that is a nested JSON document ({"json": ...}) is decoded into maps a
// plugin could change: such a document is read anew on every call, never memoized.
func TestParseContextFactsNestedUserValueIsNotMemoized(t *testing.T) {
	lastFacts.Store(nil)
	doc := `{"rid":"r","user":{"keys":["roles"],"values":{"roles":{"json":"{\"admin\":true}"}}}}`
	pc, _, err := parseContextFacts("F", doc)
	require.NoError(t, err)
	assert.Equal(t, map[string]any{"roles": map[string]any{"admin": true}}, pc.User)
	if m := lastFacts.Load(); m != nil {
		assert.NotEqual(t, doc, m.doc)
	}
}

// "ctx": false in a direct call's answer exactly for the built-ins that never read their
// context: the driver then sends them the timeout alone.
func TestGoPluginAnswerSaysWhetherThePluginReadsItsContext(t *testing.T) {
	for _, tc := range []struct {
		spec  string
		reads bool
	}{
		{`{"name":"n","kind":"builtin/noop","hooks":["tool_pre_invoke"]}`, false},
		{`{"name":"p","kind":"builtin/pii_filter","hooks":["tool_pre_invoke"]}`, false},
		{`{"name":"s","kind":"builtin/secrets_detection","hooks":["tool_pre_invoke"]}`, false},
		{`{"name":"w","kind":"builtin/regex_replace","hooks":["tool_pre_invoke"],"config":{"words":[{"search":"a","replace":"b"}]}}`, false},
		{`{"name":"d","kind":"builtin/deny_list","hooks":["tool_pre_invoke"],"config":{"words":["x"]}}`, false},
		{`{"name":"r","kind":"builtin/rate_limiter","hooks":["tool_pre_invoke"],"config":{"by_user":"10/s"}}`, true},
	} {
		id, err := GoPluginNew(tc.spec)
		require.NoError(t, err, tc.spec)
		ans := decode(t, must(GoPluginInvoke(id, "tool_pre_invoke", `{"name":"t","args":{"q":"hello"}}`, `{"rid":"r","user":"u"}`)))
		ctx, present := ans["ctx"]
		assert.Equal(t, !tc.reads, present, tc.spec)
		if present {
			assert.Equal(t, false, ctx, tc.spec)
		}
		_, _ = GoPluginRelease(id)
	}
}
