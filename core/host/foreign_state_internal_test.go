package host

import (
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/cpex-go/cpex/core/plugin"
)

func TestUntouchedComparesTheValuesThemselves(t *testing.T) {
	nested := map[string]any{"x": 1.0}
	src := map[string]any{"s": "v", "n": 1.0, "m": nested, "l": []any{1.0}, "z": nil}
	same := copyMap(src)
	cases := []struct {
		name string
		edit func(m map[string]any)
		want bool
	}{
		{"a copy", func(map[string]any) {}, true},
		{"a key set anew to an equal value", func(m map[string]any) { m["m"] = map[string]any{"x": 1.0} }, false},
		{"a key added", func(m map[string]any) { m["new"] = true }, false},
		{"a key removed", func(m map[string]any) { delete(m, "s") }, false},
		{"a scalar changed", func(m map[string]any) { m["n"] = 2.0 }, false},
		{"nil set", func(m map[string]any) { m["s"] = nil }, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			m := copyMap(same)
			tc.edit(m)
			assert.Equal(t, tc.want, untouched(m, src))
		})
	}
}

func TestChangedKeysAnswersOnlyWhatDiffers(t *testing.T) {
	before := map[string]any{"a": 1.0, "b": map[string]any{"x": "y"}, "c": "keep"}
	now := map[string]any{"a": 2.0, "b": map[string]any{"x": "y"}, "c": "keep", "d": true}
	assert.Equal(t, map[string]any{"a": 2.0, "d": true}, changedKeys(before, now), "an equal value set anew is no change")
	assert.Nil(t, changedKeys(before, copyMap(before)))
	assert.Equal(t, map[string]any{"k": 1.0}, changedKeys(nil, map[string]any{"k": 1.0}))
}

// A serial plugin's untouched snapshot is handed to the next; a changed one is merged and
// a plugin's later writes to it never reach the running state.
func TestGoSharedRecyclesUntouchedSnapshots(t *testing.T) {
	s := newGoShared(&GoState{Global: map[string]any{"k": "v"}})
	var a, b plugin.PluginContext
	s.prepare(0, &a)
	s.merge(&a)
	s.recycle(&a)
	assert.False(t, s.anyMerge, "untouched: nothing merged")
	s.prepare(1, &b)
	assert.Equal(t, map[string]any{"k": "v"}, b.GlobalState)
	b.GlobalState["k2"] = "w"
	s.merge(&b)
	s.recycle(&b)
	b.GlobalState["late"] = 1 // past Invoke: a misbehaving plugin
	var eff GoEffects
	s.finish(&eff)
	assert.Equal(t, map[string]any{"k2": "w"}, eff.Global)
	assert.Equal(t, map[string]any{"k": "v"}, s.in.Global, "what the driver sent is never written")
}
