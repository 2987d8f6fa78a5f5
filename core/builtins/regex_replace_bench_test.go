package builtins

import (
	"testing"

	"github.com/cpex-go/cpex/core"
)

// guardbBench runs one Go plugin over the shared 16 KB mixed payload (mixedPayload16KB,
// the one every guard benchmark scans) and reports MB/s.
func guardbBench(b *testing.B, kind string, cfg map[string]any) {
	p, err := core.NewPlugin(core.PluginSpec{Name: "bench", Kind: kind, Hooks: []string{"tool_post_invoke"}, Config: cfg})
	if err != nil {
		b.Fatal(err)
	}
	benchInvoke(b, p, "tool_post_invoke")
}

// A typical search/replace list: two literal words (the fast path), a case-insensitive
// word, an alternation with word boundaries and a credential pattern with groups.
func BenchmarkRegexReplace16KB(b *testing.B) {
	guardbBench(b, "builtin/regex_replace", map[string]any{"words": []any{
		map[string]any{"search": "crap", "replace": "crud"},
		map[string]any{"search": "groundbreaking", "replace": "new"},
		map[string]any{"search": "(?i)confidential", "replace": "[redacted]"},
		map[string]any{"search": `\b(damn|heck|darn)\b`, "replace": "***"},
		map[string]any{"search": `(password|passwd|pwd)\s*[:=]\s*\S+`, "replace": `\1=[hidden]`},
	}})
}

func BenchmarkRegexReplaceLiteralOnly16KB(b *testing.B) {
	guardbBench(b, "builtin/regex_replace", map[string]any{"words": []any{
		map[string]any{"search": "crap", "replace": "crud"},
		map[string]any{"search": "groundbreaking", "replace": "new"},
	}})
}

// The worst case: rules that match in most strings of the payload (ISO dates in every
// record, "the" in the prose), so the regexp engine runs and strings are rewritten.
func BenchmarkRegexReplaceMatching16KB(b *testing.B) {
	guardbBench(b, "builtin/regex_replace", map[string]any{"words": []any{
		map[string]any{"search": `(\d{4})-(\d{2})-(\d{2})T`, "replace": `\3/\2/\1 `},
		map[string]any{"search": `(?i)\bthe\b`, "replace": "THE"},
	}})
}
