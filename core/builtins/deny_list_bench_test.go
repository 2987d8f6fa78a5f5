package builtins

import (
	"strconv"
	"testing"
)

// guardbDenyWords is a 200-word list (none occurs in the payload, so every byte of it
// is scanned: the worst case).
func guardbDenyWords() []any {
	words := []any{"innovative", "revolutionary", "synergy", "disruptive", "paradigm"}
	for i := len(words); i < 200; i++ {
		words = append(words, "forbidden-term-"+strconv.Itoa(i))
	}
	return words
}

func BenchmarkDenyList16KB(b *testing.B) {
	guardbBench(b, "builtin/deny_list", map[string]any{"words": guardbDenyWords()})
}

func BenchmarkDenyListCaseInsensitive16KB(b *testing.B) {
	guardbBench(b, "builtin/deny_list", map[string]any{"words": guardbDenyWords(), "case_sensitive": false})
}
