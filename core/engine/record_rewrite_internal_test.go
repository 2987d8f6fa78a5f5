package engine

import (
	"reflect"
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/cpex-go/cpex/core/config"
	"github.com/cpex-go/cpex/core/internal/dirty"
	"github.com/cpex-go/cpex/core/plugin"
)

// A recycled record rewritten by rewriteRecord equals the record newRecord builds in
// zeroed memory, whatever the earlier record held.
func TestRewriteRecordIsNewRecord(t *testing.T) {
	refs := []*Ref{
		NewRef(RefSpec{Name: "p", Kind: "builtin/noop", Mode: config.ModeSequential, Priority: 1, OnError: config.OnErrorFail}),
		NewRef(RefSpec{Name: "q", Kind: "builtin/noop", Mode: config.ModeAudit, Priority: 2, OnError: config.OnErrorFail}),
	}
	plan := NewPlan("tool_pre_invoke", refs, nil, false, false)
	for _, ref := range refs {
		fresh := Run{plan: plan}
		want := *fresh.newRecord(ref, plugin.StatusCompleted)

		var old plugin.ExecutionRecord
		dirty.Fill(t, reflect.ValueOf(&old).Elem())
		recycled := Run{plan: plan, records: []plugin.ExecutionRecord{old}[:0], recycled: true}
		assert.Equal(t, want, *recycled.rewrittenRecord(ref, plugin.StatusCompleted), "a dirty record, plugin %s", ref.Name)

		again := Run{plan: plan, records: []plugin.ExecutionRecord{want}[:0], recycled: true}
		assert.Equal(t, want, *again.rewrittenRecord(ref, plugin.StatusCompleted), "the same record again, plugin %s", ref.Name)
	}
	assert.True(t, sameSlice(nil, nil))
	assert.False(t, sameSlice(nil, []string{}))
	a := []string{"x", "y"}
	assert.True(t, sameSlice(a, a))
	assert.False(t, sameSlice(a, a[:1]))
	assert.False(t, sameSlice(a, []string{"x", "y"}))
}
