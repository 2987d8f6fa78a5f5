package builtins

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestMayOverlap(t *testing.T) {
	for _, c := range []struct {
		r, lit string
		fold   bool
		want   bool
	}{
		{"crud", "darn", false, true},        // "crud" + "arn"
		{"[filtered]", "damn", false, false}, // no alignment agrees
		{"[filtered]", "red", false, true},   // inside it
		{"xdamny", "damn", false, true},      // contains it
		{"am", "damn", false, true},          // inside the literal: "d" + "am" + "n"
		{"AM", "damn", false, false},
		{"AM", "damn", true, true},
		{"\u212a", "kilo", true, true}, // non-ASCII under fold: may fold to ASCII
		{"\u212a", "kilo", false, false},
		{"zz", "damn", false, false},
	} {
		assert.Equal(t, c.want, mayOverlap(c.r, c.lit, c.fold), "%q / %q fold=%v", c.r, c.lit, c.fold)
	}
}

func TestScreenAfterS4Rules(t *testing.T) {
	cfg := regexReplaceConfig{Words: []regexReplaceWord{
		word("crap", "crud"), word("darn", "[filtered]"), word(`\bdamn\b`, "d***"), word("x", ""),
	}}
	require.NoError(t, cfg.Validate())
	p := newRegexReplacePlugin(cfg.rules)
	// crap→crud can make "darn": rescan; darn→[filtered] cannot make "damn": none; a
	// pattern rule and an empty replacement always rescan.
	assert.Equal(t, uint64(0b1101), p.rescan)
	got, changed, err := p.apply(t.Context(), "craparn, darn and damn")
	require.NoError(t, err)
	assert.True(t, changed)
	assert.Equal(t, "cru[filtered], [filtered] and d***", got)
}

func word(search, replace string) regexReplaceWord { return regexReplaceWord{&search, &replace} }
