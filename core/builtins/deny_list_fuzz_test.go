package builtins

import (
	"strings"
	"testing"
)

// FuzzDenyAutomaton: for any word list and text, the one-pass automaton finds a word
// exactly when one strings.Contains per word would, in both case modes, and the word it
// reports does occur.
func FuzzDenyAutomaton(f *testing.F) {
	f.Add("he\nshe\nhis\nhers", "ushers", false)
	f.Add("Café\nstraße", "CAFÉ STRASSE", true)
	f.Add("kill", "\u212aILL", true)
	f.Add("a\n\nb", "\xff\xfe", true)
	f.Fuzz(func(t *testing.T, list, text string, fold bool) {
		var words []string
		for _, w := range strings.Split(list, "\n") {
			if w != "" {
				words = append(words, w)
			}
		}
		if len(words) == 0 {
			return
		}
		a := newDenyAutomaton(words, fold)
		got := a.find(text)
		if want := denyNaive(words, text, fold); want != (got >= 0) {
			t.Fatalf("words %q text %q fold %v: automaton %d, naive %v", words, text, fold, got, want)
		}
		if got >= 0 && !denyNaive(words[got:got+1], text, fold) {
			t.Fatalf("reported word %q does not occur in %q", words[got], text)
		}
		// matchMask (the regex screen) reports exactly the words that occur.
		bits := make([]uint64, len(words))
		var want uint64
		for i, w := range words {
			bits[i] = 1 << uint(i%64)
			if denyNaive([]string{w}, text, fold) {
				want |= bits[i]
			}
		}
		if m := newMaskAutomaton(words, bits, fold).matchMask(text); m != want {
			t.Fatalf("words %q text %q fold %v: mask %b, want %b", words, text, fold, m, want)
		}
	})
}
