package builtins

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/cpex-go/cpex/core"
)

// Pattern cost (issue 10, item 4b): a pattern whose program is too large is a load error
// naming the plugin, the key and the pattern, wherever user patterns are accepted.
func TestPatternCostLimit(t *testing.T) {
	costly := `[a-z]{1000}x`
	tests := []struct {
		kind, key string
		cfg       map[string]any
	}{
		{"builtin/regex_replace", "words.0.search", map[string]any{"words": []any{map[string]any{"search": costly, "replace": "y"}}}},
		{"builtin/pii_filter", "custom_patterns[0].pattern", map[string]any{"custom_patterns": []any{map[string]any{"pattern": costly, "description": "d"}}}},
		{"builtin/pii_filter", "whitelist_patterns[0]", map[string]any{"whitelist_patterns": []any{costly}}},
	}
	for _, tc := range tests {
		t.Run(tc.kind+" "+tc.key, func(t *testing.T) {
			_, err := core.NewPlugin(core.PluginSpec{Name: "guard", Kind: tc.kind, Config: tc.cfg})
			require.Error(t, err)
			assert.True(t, errors.Is(err, ErrConfig))
			assert.Contains(t, err.Error(), `plugin "guard"`)
			assert.Contains(t, err.Error(), `config key "`+tc.key+`" (value "[a-z]{1000}x"): pattern too costly: it compiles to 1003 instructions, the limit is 1000`)
		})
	}
	// Realistic patterns, and counted repetitions up to the limit, load.
	for _, ok := range []string{`[a-z]{500}x`, `(?i)[a-z0-9._%+-]+@[a-z0-9.-]+\.[a-z]{2,}`, `(?:[0-9a-f]{1,4}:){7}[0-9a-f]{1,4}`} {
		_, err := core.NewPlugin(core.PluginSpec{Name: "guard", Kind: "builtin/regex_replace",
			Config: map[string]any{"words": []any{map[string]any{"search": ok, "replace": "y"}}}})
		assert.NoError(t, err, ok)
	}
	// Go's parser already refuses counted repetitions above 1,000 (as RE2 does).
	_, err := core.NewPlugin(core.PluginSpec{Name: "guard", Kind: "builtin/regex_replace",
		Config: map[string]any{"words": []any{map[string]any{"search": `a{1001}`, "replace": "y"}}}})
	assert.ErrorContains(t, err, "invalid repeat count")
}

// guardCall invokes a built-in on a tool_pre_invoke payload with ctx.
func guardCall(t *testing.T, kind string, cfg map[string]any, ctx context.Context, args map[string]any) (*core.Result, error) {
	t.Helper()
	p, err := core.NewPlugin(core.PluginSpec{Name: "guard", Kind: kind, Config: cfg})
	require.NoError(t, err)
	return p.Invoke(ctx, "tool_pre_invoke", core.NewPayloadValue(map[string]any{"name": "t", "args": args}), &core.PluginContext{})
}

// Guards stop at their deadline (issue 10, item 4a). A pattern at the cost limit on a
// long text takes seconds; the call must give up at its deadline with the context's
// error (the executor records the timeout) instead of returning late or allowing.
// Elapsed times are logged, not asserted.
func TestRegexReplaceStopsAtTheDeadline(t *testing.T) {
	text := strings.Repeat("a", 1<<20)
	for _, pattern := range []string{`[a-z]{500}x`, `[a-z]{500}x\b`} {
		t.Run(pattern, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
			defer cancel()
			start := time.Now()
			_, err := guardCall(t, "builtin/regex_replace", map[string]any{"words": []any{map[string]any{"search": pattern, "replace": "y"}}},
				ctx, map[string]any{"text": text})
			t.Logf("%s on 1 MiB: returned after %.3f s (deadline 0.05 s)", pattern, time.Since(start).Seconds())
			require.ErrorIs(t, err, context.DeadlineExceeded)
		})
	}
}

// Every guard returns its context's error rather than a verdict on what it did not
// scan: here the deadline has passed before the call, and the payload is long enough
// for the scan to look at its context.
func TestGuardsStopOnADoneContext(t *testing.T) {
	args := map[string]any{}
	for i := range 2000 {
		args["k"+strings.Repeat("x", i%7)+string(rune('a'+i%26))+strings.Repeat("y", i/26)] = strings.Repeat("clean text ", 100)
	}
	ctx, cancel := context.WithDeadline(context.Background(), time.Now().Add(-time.Second))
	defer cancel()
	for _, tc := range []struct {
		kind string
		cfg  map[string]any
	}{
		{"builtin/regex_replace", map[string]any{"words": []any{map[string]any{"search": `secret\d+`, "replace": "x"}}}},
		{"builtin/deny_list", map[string]any{"words": []any{"forbidden"}}},
		{"builtin/pii_filter", nil},
		{"builtin/secrets_detection", nil},
	} {
		t.Run(tc.kind, func(t *testing.T) {
			_, err := guardCall(t, tc.kind, tc.cfg, ctx, args)
			require.ErrorIs(t, err, context.DeadlineExceeded)
		})
	}
}

// Through the executor's call path: the guard's deadline error is the plugin's timeout.
func TestRegexReplaceTimeoutThroughCallPlugin(t *testing.T) {
	p, err := core.NewPlugin(core.PluginSpec{Name: "guard", Kind: "builtin/regex_replace",
		Config: map[string]any{"words": []any{map[string]any{"search": `[a-z]{500}x`, "replace": "y"}}}})
	require.NoError(t, err)
	_, err = core.CallPlugin(context.Background(), p, "tool_pre_invoke",
		core.NewPayloadValue(map[string]any{"name": "t", "args": map[string]any{"text": strings.Repeat("a", 1<<20)}}),
		&core.PluginContext{}, 50*time.Millisecond)
	require.ErrorIs(t, err, context.DeadlineExceeded)
}

// The budget asks its context only every scanCheckBytes or scanCheckStrings.
func TestScanBudget(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	b := newScanBudget(ctx)
	cancel()
	for range scanCheckStrings - 1 {
		require.True(t, b.spend(1), "not asked yet")
	}
	require.False(t, b.spend(1))
	require.False(t, b.spend(0), "stays stopped")
	require.ErrorIs(t, b.done(), context.Canceled)

	b = newScanBudget(ctx)
	require.False(t, b.spend(scanCheckBytes), "a long string makes it ask at once")
	live := newScanBudget(context.Background())
	require.NoError(t, live.done())
}

// pii_filter's custom patterns (user regexes) on long text stop at the deadline too.
func TestPIICustomPatternsStopAtTheDeadline(t *testing.T) {
	text := strings.Repeat("a", 1<<20)
	for _, pattern := range []string{`[a-z]{500}x`, `[a-z]{500}x\b`} {
		t.Run(pattern, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
			defer cancel()
			start := time.Now()
			_, err := guardCall(t, "builtin/pii_filter", map[string]any{"max_text_bytes": 2 << 20,
				"custom_patterns": []any{map[string]any{"pattern": pattern, "description": "d"}}}, ctx, map[string]any{"text": text})
			t.Logf("pii custom %s on 1 MiB: returned after %.3f s (deadline 0.05 s)", pattern, time.Since(start).Seconds())
			require.ErrorIs(t, err, context.DeadlineExceeded)
		})
	}
}
