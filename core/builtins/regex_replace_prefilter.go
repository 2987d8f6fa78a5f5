package builtins

import (
	"regexp/syntax"
	"strings"
)

// Go's regexp has no DFA: a pattern without a literal prefix (a case-insensitive word, an
// alternation inside \b...\b) runs the NFA over every byte, at tens of MB/s. Most strings
// of a payload match no rule, so each rule gets a prefilter: a set of literals of which
// every match of the pattern must contain at least one, found in one pass with the deny
// list's automaton. A string without any of them cannot match and skips the regexp; a
// string with one runs the regexp as usual, so results never change, only speed.

// regexPrefilter answers "may the pattern match s?" without false negatives.
type regexPrefilter struct {
	single string         // one case-sensitive literal: strings.Contains
	auto   *denyAutomaton // several literals, or case-insensitive ones
}

// minPrefilterLiteral: a set whose shortest literal is shorter than this would match
// almost every string and only cost time; such patterns get no prefilter.
const minPrefilterLiteral = 3

// newRegexPrefilter derives the prefilter of pattern, or nil when the pattern has no
// useful required literals (e.g. `\d+`, `.*x?`).
func newRegexPrefilter(pattern string) *regexPrefilter {
	lits, fold, ok := prefilterLiterals(pattern)
	if !ok {
		return nil
	}
	if len(lits) == 1 && !fold {
		return &regexPrefilter{single: lits[0]}
	}
	return &regexPrefilter{auto: newDenyAutomaton(lits, fold)}
}

// prefilterLiterals returns the literals of which every match of pattern contains one,
// when they make a sound and useful filter: each at least minPrefilterLiteral bytes, and
// ASCII when case-insensitive.
func prefilterLiterals(pattern string) (lits []string, fold, ok bool) {
	re, err := syntax.Parse(pattern, syntax.Perl)
	if err != nil {
		return nil, false, false
	}
	lits, fold, ok = requiredLiterals(re.Simplify())
	if !ok || len(lits) == 0 {
		return nil, false, false
	}
	for _, l := range lits {
		if len(l) < minPrefilterLiteral {
			return nil, false, false
		}
		if fold && !denyTextASCII(l) {
			// Non-ASCII case orbits can have three members (σ ς Σ) that lower-casing
			// does not unite: no filter rather than a wrong one.
			return nil, false, false
		}
	}
	return lits, fold, true
}

// mayMatch reports whether s contains one of the literals. Case-insensitive literals are
// ASCII (see newRegexPrefilter), and the only non-ASCII letters that regexp's (?i)
// (Unicode simple folding) matches to ASCII ones, K and ſ, are folded by denyFold, so
// the filter never rejects a string the pattern would match.
func (p *regexPrefilter) mayMatch(s string) bool {
	if p.auto == nil {
		return strings.Contains(s, p.single)
	}
	return p.auto.find(s) >= 0
}

// maxLiteralSet bounds the sets built by concatenating alternations (a|b)(c|d)...: past
// it the product is abandoned for a smaller required part.
const maxLiteralSet = 64

// literalSet is what requiredLiterals knows of a sub-pattern: every match contains one
// of lits (and, when exact, every match is one of lits).
type literalSet struct {
	lits  []string
	fold  bool // some literal is case-insensitive
	exact bool
}

// requiredLiterals returns literals of which every match of re contains at least one,
// and whether any of them is case-insensitive. ok is false when none can be derived.
func requiredLiterals(re *syntax.Regexp) (lits []string, fold, ok bool) {
	set, ok := literalsOf(re)
	return set.lits, set.fold, ok
}

func literalsOf(re *syntax.Regexp) (literalSet, bool) {
	switch re.Op {
	case syntax.OpLiteral:
		return literalSet{lits: []string{string(re.Rune)}, fold: re.Flags&syntax.FoldCase != 0, exact: true}, true
	case syntax.OpEmptyMatch, syntax.OpBeginLine, syntax.OpEndLine, syntax.OpBeginText,
		syntax.OpEndText, syntax.OpWordBoundary, syntax.OpNoWordBoundary:
		return literalSet{lits: []string{""}, exact: true}, true // matches the empty string
	case syntax.OpCapture:
		return literalsOf(re.Sub[0])
	case syntax.OpPlus:
		set, ok := literalsOf(re.Sub[0])
		set.exact = false
		return set, ok
	case syntax.OpRepeat:
		if re.Min >= 1 {
			set, ok := literalsOf(re.Sub[0])
			set.exact = set.exact && re.Min == 1 && re.Max == 1
			return set, ok
		}
	case syntax.OpAlternate:
		// A match is a match of one branch: the union, if every branch has a set.
		out := literalSet{exact: true}
		for _, sub := range re.Sub {
			set, ok := literalsOf(sub)
			if !ok {
				return literalSet{}, false
			}
			out.lits = append(out.lits, set.lits...)
			out.fold = out.fold || set.fold
			out.exact = out.exact && set.exact
		}
		return out, true
	case syntax.OpConcat:
		return concatLiterals(re.Sub)
	}
	return literalSet{}, false
}

// concatLiterals: consecutive exact parts concatenate into one set (their cross
// product); a part that is not exact ends such a run. Every part and run is in every
// match, so the most selective one (longest shortest literal) is kept.
func concatLiterals(subs []*syntax.Regexp) (literalSet, bool) {
	var best literalSet
	found := false
	consider := func(set literalSet) {
		if !found || shortest(set.lits) > shortest(best.lits) {
			best, found = set, true
		}
	}
	run := literalSet{lits: []string{""}, exact: true}
	allExact := true
	for _, sub := range subs {
		set, ok := literalsOf(sub)
		if ok && set.exact && len(run.lits)*len(set.lits) <= maxLiteralSet {
			run = literalSet{lits: crossConcat(run.lits, set.lits), fold: run.fold || set.fold, exact: true}
			continue
		}
		allExact = false
		consider(literalSet{lits: run.lits, fold: run.fold})
		run = literalSet{lits: []string{""}, exact: true}
		if ok {
			if set.exact {
				run = set // the set that overflowed the product starts the next run
			}
			consider(literalSet{lits: set.lits, fold: set.fold})
		}
	}
	run.exact = allExact
	consider(run)
	return best, found
}

func crossConcat(a, b []string) []string {
	out := make([]string, 0, len(a)*len(b))
	for _, x := range a {
		for _, y := range b {
			out = append(out, x+y)
		}
	}
	return out
}

func shortest(lits []string) int {
	m := -1
	for _, l := range lits {
		if m < 0 || len(l) < m {
			m = len(l)
		}
	}
	return m
}
