package builtins

import "unicode/utf8"

// After a rule replaced text, apply screens the new text again for the later rules: a
// replacement can create a later rule's literal. It need not when it cannot. The new
// text is the old one with each match replaced by the rule's replacement R, so a literal
// L that occurs in it either lies within a stretch of old text (it occurred before: its
// rule is still a candidate) or overlaps an inserted R, and then L and R agree on the
// bytes where they overlap. For a literal replacement, that is decided once here; the
// benchmark payload's "darn"→"[filtered]" cannot make "damn", "crap"→"crud" can make
// "darn" ("crap"+"arn"). A replacement that references groups, or an empty one (which
// joins the text around it), always rescans.

// screenAfter answers the rescan bits of rules (see regexReplace.rescan).
func screenAfter(rules []regexRule, screen *denyAutomaton) uint64 {
	if screen == nil {
		return 0
	}
	var rescan uint64
	for i := range rules {
		r := &rules[i]
		if r.needle == "" || !r.literal || r.text == "" {
			rescan |= 1 << uint(i)
			continue
		}
		for w, lit := range screen.words {
			if screen.masks == nil || screen.wordBits[w] <= 1<<uint(i) {
				continue // this rule's own literals, or an earlier rule's
			}
			if mayOverlap(r.text, lit, screen.fold) {
				rescan |= 1 << uint(i)
				break
			}
		}
	}
	return rescan
}

// mayOverlap reports whether lit can occur in a text overlapping an occurrence of r:
// whether some alignment of the two agrees on every byte they share. With fold (the
// screen ignores case) ASCII letters compare folded, and any non-ASCII byte counts as
// agreeing (case folding maps some non-ASCII letters to ASCII ones).
func mayOverlap(r, lit string, fold bool) bool {
	for k := -(len(lit) - 1); k < len(r); k++ { // lit starts at r[k]
		agree := true
		for j := 0; j < len(lit) && agree; j++ {
			if p := k + j; p >= 0 && p < len(r) {
				agree = sameByte(r[p], lit[j], fold)
			}
		}
		if agree {
			return true
		}
	}
	return false
}

func sameByte(a, b byte, fold bool) bool {
	if !fold {
		return a == b
	}
	if a >= utf8.RuneSelf || b >= utf8.RuneSelf {
		return true
	}
	return lowerASCII(a) == lowerASCII(b)
}
