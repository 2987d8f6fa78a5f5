package builtins

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// denyAutomaton finds any of a set of words in one left-to-right pass over the text,
// whatever the number of words: an Aho–Corasick automaton compiled to a dense DFA. Bytes
// are first mapped to classes (every byte that occurs in no word shares class 0), so the
// table is states × classes rather than states × 256 and stays in cache. The scan is one
// table lookup per byte.
type denyAutomaton struct {
	class  [256]uint16 // byte → class
	stride int         // number of classes
	// next[row+class] is the row of the state after reading a byte of that class, where
	// a state's row is its number × stride (premultiplied: no multiply in the scan). A
	// negative entry -(row+1) is a state in which some word ends: the scan stops there.
	next []int32
	// leaves[b] is true for the bytes that leave the root state. In the root the scan
	// skips every other byte with one independent table load per byte, instead of the
	// DFA's dependent load chain: most bytes of a text start no word.
	leaves [256]bool
	word   []int32 // state → index of a word that ends in it (or in a suffix of it), -1
	// masks (only for newMaskAutomaton): state → OR of the bits of every word that ends
	// in it or in a suffix of it.
	masks    []uint64
	wordBits []uint64 // (newMaskAutomaton) words[i]'s bits, as given
	fold     bool     // case-insensitive: words were folded, ASCII letters share a class
	words    []string
}

// newDenyAutomaton builds the automaton for words (non-empty, as given). With fold, the
// match ignores case: ASCII through the byte classes, other runes folded during the scan
// (see findFold).
func newDenyAutomaton(words []string, fold bool) *denyAutomaton {
	return buildAutomaton(words, nil, fold)
}

// newMaskAutomaton is newDenyAutomaton for matchMask: bits[i] is reported when words[i]
// occurs.
func newMaskAutomaton(words []string, bits []uint64, fold bool) *denyAutomaton {
	return buildAutomaton(words, bits, fold)
}

func buildAutomaton(words []string, bits []uint64, fold bool) *denyAutomaton {
	a := &denyAutomaton{fold: fold, words: words, wordBits: bits}
	keys := make([]string, len(words))
	for i, w := range words {
		if fold {
			w = denyFold(w)
		}
		keys[i] = w
	}
	// Byte classes: class 0 for bytes in no word; with fold, 'A' shares 'a''s class.
	n := uint16(1)
	for _, k := range keys {
		for i := 0; i < len(k); i++ {
			if a.class[k[i]] == 0 {
				a.class[k[i]] = n
				n++
			}
		}
	}
	if fold {
		for c := 'A'; c <= 'Z'; c++ {
			a.class[c] = a.class[c+'a'-'A']
		}
	}
	a.stride = int(n)

	// Trie, one dense row per state (-1 = no edge yet).
	newState := func() int32 {
		for range a.stride {
			a.next = append(a.next, -1)
		}
		a.word = append(a.word, -1)
		if bits != nil {
			a.masks = append(a.masks, 0)
		}
		return int32(len(a.word) - 1)
	}
	newState() // root = 0
	for wi, k := range keys {
		s := int32(0)
		for i := 0; i < len(k); i++ {
			c := int(a.class[k[i]])
			if a.next[int(s)*a.stride+c] < 0 {
				t := newState()
				a.next[int(s)*a.stride+c] = t
			}
			s = a.next[int(s)*a.stride+c]
		}
		if a.word[s] < 0 {
			a.word[s] = int32(wi)
		}
		if bits != nil {
			a.masks[s] |= bits[wi]
		}
	}

	// Breadth-first: failure links, then every missing edge becomes the edge of the
	// failure state (the DFA), and a state inherits the word of its failure state.
	fail := make([]int32, len(a.word))
	queue := make([]int32, 0, len(a.word))
	for c := 0; c < a.stride; c++ {
		t := a.next[c]
		if t < 0 {
			a.next[c] = 0
			continue
		}
		fail[t] = 0
		queue = append(queue, t)
	}
	for len(queue) > 0 {
		s := queue[0]
		queue = queue[1:]
		if a.word[s] < 0 {
			a.word[s] = a.word[fail[s]]
		}
		if bits != nil {
			a.masks[s] |= a.masks[fail[s]] // fail[s] is shallower: already complete
		}
		for c := 0; c < a.stride; c++ {
			t := a.next[int(s)*a.stride+c]
			f := a.next[int(fail[s])*a.stride+c]
			if t < 0 {
				a.next[int(s)*a.stride+c] = f
				continue
			}
			fail[t] = f
			queue = append(queue, t)
		}
	}
	for b := range 256 {
		// With fold, every non-ASCII byte stops the skip: it starts a rune to fold.
		a.leaves[b] = a.next[a.class[b]] != 0 || fold && b >= utf8.RuneSelf
	}
	// Premultiply, and mark accepting targets so the scan tests the sign of the entry
	// it already loaded.
	stride := int32(a.stride)
	for i, t := range a.next {
		if a.word[t] >= 0 {
			a.next[i] = -(t*stride + 1)
		} else {
			a.next[i] = t * stride
		}
	}
	return a
}

// find returns the index of a word that occurs in s (the one that ends first), or -1.
func (a *denyAutomaton) find(s string) int {
	if a.fold {
		return a.findFold(s)
	}
	next, class, leaves := a.next, &a.class, &a.leaves
	state := int32(0)
	for i := 0; i < len(s); i++ {
		if state == 0 {
			for i < len(s) && !leaves[s[i]] {
				i++
			}
			if i == len(s) {
				break
			}
		}
		if state = next[int(state)+int(class[s[i]])]; state < 0 {
			return a.wordOf(state)
		}
	}
	return -1
}

// findFold is find for case-insensitive automata: ASCII letters are folded by the byte
// classes, other runes are decoded and folded on the fly (no copy of the text), because
// Unicode case folding changes byte lengths and maps some non-ASCII letters to ASCII
// ones. Invalid UTF-8 scans as U+FFFD, as strings.Map would turn it.
func (a *denyAutomaton) findFold(s string) int {
	next, class, leaves := a.next, &a.class, &a.leaves
	state := int32(0)
	for i := 0; i < len(s); i++ {
		if state == 0 {
			for i < len(s) && !leaves[s[i]] {
				i++
			}
			if i == len(s) {
				break
			}
		}
		c := s[i]
		if c < utf8.RuneSelf {
			if state = next[int(state)+int(class[c])]; state < 0 {
				return a.wordOf(state)
			}
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		var buf [utf8.UTFMax]byte
		for _, b := range buf[:utf8.EncodeRune(buf[:], denyFoldRune(r))] {
			if state = next[int(state)+int(class[b])]; state < 0 {
				return a.wordOf(state)
			}
		}
		i += size - 1
	}
	return -1
}

// matchMask returns the OR of the bits of every word that occurs in s (an automaton from
// newMaskAutomaton): unlike find, it reads the whole text.
func (a *denyAutomaton) matchMask(s string) uint64 {
	next, class, leaves, stride := a.next, &a.class, &a.leaves, a.stride
	var mask uint64
	row := int32(0)
	for i := 0; i < len(s); i++ {
		if row == 0 {
			for i < len(s) && !leaves[s[i]] {
				i++
			}
			if i == len(s) {
				break
			}
		}
		c := s[i]
		if c >= utf8.RuneSelf && a.fold {
			r, size := utf8.DecodeRuneInString(s[i:])
			var buf [utf8.UTFMax]byte
			for _, b := range buf[:utf8.EncodeRune(buf[:], denyFoldRune(r))] {
				if row = next[int(row)+int(class[b])]; row < 0 {
					row = -row - 1
					mask |= a.masks[int(row)/stride]
				}
			}
			i += size - 1
			continue
		}
		if row = next[int(row)+int(class[c])]; row < 0 {
			row = -row - 1
			mask |= a.masks[int(row)/stride]
		}
	}
	return mask
}

// wordOf is the word of an accepting (negative) table entry.
func (a *denyAutomaton) wordOf(entry int32) int {
	return int(a.word[int(-entry-1)/a.stride])
}

// denyFold is the case folding of case-insensitive matching: Unicode lower case, plus the
// long s (ſ, already lower case) as s, so that the two non-ASCII letters whose case
// folding includes an ASCII letter (K Kelvin sign → k, ſ → s) cannot smuggle an ASCII
// word past the scan.
func denyFold(s string) string { return strings.Map(denyFoldRune, s) }

func denyFoldRune(r rune) rune {
	if r == 'ſ' {
		return 's'
	}
	return unicode.ToLower(r)
}

func denyTextASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			return false
		}
	}
	return true
}
