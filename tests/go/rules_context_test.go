package core_test

// Spec §13 (contexts and state across hooks) and §30.10.

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// §13.2: a plugin's private state persists from the pre hook to the post hook when the
// caller passes the table back; without it the state starts empty.
func TestRuleLocalStatePersistsThroughTheTable(t *testing.T) {
	id, rec := newRecorder()
	m := newManager(t, id, []plugin{{name: "p", hooks: "[tool_pre_invoke, tool_post_invoke]", script: "lstate: {seen: true}"}})
	_, table := invoke(t, m, "tool_pre_invoke", toolPayload("t", nil), gctx("req"), nil)
	require.Len(t, table, 1)
	for _, pc := range table {
		assert.Equal(t, true, pc.State["seen"])
	}
	post := toolPayload("t", nil)
	invoke(t, m, "tool_post_invoke", post, gctx("req"), table)
	calls := rec.byName("p")
	require.Len(t, calls, 2)
	assert.Empty(t, calls[0].State)
	assert.Equal(t, true, calls[1].State["seen"], "state carried over by the table")

	invoke(t, m, "tool_post_invoke", post, gctx("req"), nil)
	assert.Empty(t, rec.byName("p")[2].State, "no table, fresh state")

	invoke(t, m, "tool_post_invoke", post, gctx("other-request"), table)
	assert.Empty(t, rec.byName("p")[3].State, "the key includes the request id")
}

// §13.3 / §30.10: global state writes merge back after sequential, transform and
// concurrent plugins (blocking ones too), never after audit or fire-and-forget; later
// plugins see earlier writes; deletions are not propagated.
func TestRuleGlobalStateMergeBack(t *testing.T) {
	id, rec := newRecorder()
	m := newManager(t, id, []plugin{
		{name: "seq", priority: 1, script: "gstate: {seq: 1}, gdelete: [pre]"},
		{name: "tr", mode: "transform", script: "gstate: {tr: 1}"},
		{name: "aud", mode: "audit", script: "gstate: {aud: 1}"},
		{name: "conc", mode: "concurrent", script: "gstate: {conc: 1}"},
		{name: "faf", mode: "fire_and_forget", script: "gstate: {faf: 1}"},
	})
	g := gctx("r")
	g.State["pre"] = "kept"
	res, table := invoke(t, m, "tool_pre_invoke", toolPayload("t", nil), g, nil)
	waitBackground(t, res)
	assert.Equal(t, map[string]any{"pre": "kept", "seq": float64(1), "tr": float64(1), "conc": float64(1)}, jsonCopy(g.State))
	assert.Equal(t, map[string]any{"pre": "kept", "seq": float64(1)}, rec.byName("tr")[0].GlobalState, "later plugins see earlier writes")
	assert.NotContains(t, rec.byName("conc")[0].GlobalState, "aud")
	assert.Len(t, table, 5, "every plugin that ran (fire-and-forget included) has a context")
}

// §13.3: a blocking sequential plugin's writes are merged too.
func TestRuleBlockingPluginStateMerged(t *testing.T) {
	id, _ := newRecorder()
	m := newManager(t, id, []plugin{{name: "blk", script: "block: true, gstate: {why: blocked}"}})
	g := gctx("r")
	res, _ := invoke(t, m, "tool_pre_invoke", toolPayload("t", nil), g, nil)
	assert.False(t, res.ContinueProcessing)
	assert.Equal(t, "blocked", g.State["why"])
}

// §13.2: entries of local contexts for plugins that did not run are not carried over.
func TestRuleTableHoldsOnlyPluginsThatRan(t *testing.T) {
	id, _ := newRecorder()
	m := newManager(t, id, []plugin{
		{name: "a", hooks: "[tool_pre_invoke, tool_post_invoke]"},
		{name: "b", hooks: "[tool_pre_invoke]"},
	})
	_, pre := invoke(t, m, "tool_pre_invoke", toolPayload("t", nil), gctx("r"), nil)
	require.Len(t, pre, 2)
	_, post := invoke(t, m, "tool_post_invoke", toolPayload("t", nil), gctx("r"), pre)
	assert.Len(t, post, 1)
}

// §11.9 / §13.2: a fire-and-forget plugin gets a fresh context every time (tables passed
// back are not reused) with a snapshot of the global state as of scheduling.
func TestRuleFireAndForgetContext(t *testing.T) {
	id, rec := newRecorder()
	m := newManager(t, id, []plugin{
		{name: "seq", script: "gstate: {seq: 1}"},
		{name: "faf", mode: "fire_and_forget", script: "lstate: {mine: 1}"},
	})
	res, table := invoke(t, m, "tool_pre_invoke", toolPayload("t", nil), gctx("r"), nil)
	waitBackground(t, res)
	res, _ = invoke(t, m, "tool_pre_invoke", toolPayload("t", nil), gctx("r"), table)
	waitBackground(t, res)
	calls := rec.byName("faf")
	require.Len(t, calls, 2)
	assert.Equal(t, float64(1), calls[0].GlobalState["seq"], "snapshot taken after the serial phases")
	assert.Empty(t, calls[1].State, "local contexts are not reused for fire-and-forget plugins")
}

// §11.6 / §13.3: concurrent plugins get their snapshots before any of them starts, so
// they never see each other's writes; all writes are merged afterwards.
func TestRuleConcurrentSnapshotsTakenBeforeStart(t *testing.T) {
	id, rec := newRecorder()
	m := newManager(t, id, []plugin{
		{name: "c1", mode: "concurrent", priority: 1, script: "gstate: {c1: 1}"},
		{name: "c2", mode: "concurrent", priority: 2, script: "gstate: {c2: 1}"},
	})
	g := gctx("r")
	invoke(t, m, "tool_pre_invoke", toolPayload("t", nil), g, nil)
	assert.NotContains(t, rec.byName("c1")[0].GlobalState, "c2")
	assert.NotContains(t, rec.byName("c2")[0].GlobalState, "c1")
	assert.Equal(t, map[string]any{"c1": float64(1), "c2": float64(1)}, jsonCopy(g.State))
}

// §10.3: a nil global context is an empty one; the plugin still runs.
func TestRuleNilGlobalContext(t *testing.T) {
	id, rec := newRecorder()
	m := newManager(t, id, []plugin{{name: "p", script: "gstate: {k: v}"}})
	res, table := invoke(t, m, "tool_pre_invoke", toolPayload("t", nil), nil, nil)
	assert.True(t, res.ContinueProcessing)
	assert.Len(t, table, 1)
	assert.Equal(t, []string{"p"}, rec.names())
}

// §13.2: a concurrent plugin's private state is kept through the table too.
func TestRuleConcurrentLocalState(t *testing.T) {
	id, rec := newRecorder()
	m := newManager(t, id, []plugin{{name: "c", mode: "concurrent", hooks: "[tool_pre_invoke, tool_post_invoke]", script: "lstate: {n: 1}"}})
	_, table := invoke(t, m, "tool_pre_invoke", toolPayload("t", nil), gctx("r"), nil)
	invoke(t, m, "tool_post_invoke", toolPayload("t", nil), gctx("r"), table)
	calls := rec.byName("c")
	require.Len(t, calls, 2)
	assert.Equal(t, float64(1), calls[1].State["n"])
}
