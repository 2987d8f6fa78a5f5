package builtins

import (
	"context"
	"regexp"
	"regexp/syntax"
	"unicode/utf8"
)

// Long texts. regexp's string API cannot be interrupted, and on a long text its NFA does
// work per pattern instruction for every byte, so a call of it could outlast the
// plugin's deadline by seconds. Above regexWorkBudget (text bytes × program
// instructions), a rule matches through ctxRuneReader, which gives up at the deadline.

// regexWorkBudget is the text × instructions product above which the interruptible
// path is taken: ~25 ms of NFA work at the ~25 ns per byte per instruction measured
// here. Below it, the string API (with its faster backtracker for small inputs) runs.
const regexWorkBudget = 1 << 20

// longTextFrom is the text length from which a rule takes the long-text path.
func longTextFrom(insts int) int { return max(regexWorkBudget/max(insts, 1), 1) }

// hasEmptyWidth reports whether the pattern asserts anything about the text around a
// position (^ $ \A \z \b \B): its matches from an offset then depend on what precedes
// the offset, which a reader starting there cannot see.
func hasEmptyWidth(re *syntax.Regexp) bool {
	switch re.Op {
	case syntax.OpBeginLine, syntax.OpEndLine, syntax.OpBeginText, syntax.OpEndText,
		syntax.OpWordBoundary, syntax.OpNoWordBoundary:
		return true
	}
	for _, sub := range re.Sub {
		if hasEmptyWidth(sub) {
			return true
		}
	}
	return false
}

// replaceLong is replace for a long s: the same result as regexp's ReplaceAll, or the
// context's error once it is done.
func (r *regexRule) replaceLong(ctx context.Context, s string) (string, bool, error) {
	if !r.anchored {
		return r.replaceLongByReader(ctx, s)
	}
	// A pattern with assertions: find out, interruptibly, whether it matches at all (the
	// common case for a guard is no match); only a match pays the string API's
	// replacement, on a goroutine the call leaves at its deadline.
	rr := newCtxRuneReader(ctx, s, r.insts)
	matched := r.re.MatchReader(&rr)
	if rr.err != nil {
		return s, false, rr.err
	}
	if !matched {
		return s, false, nil
	}
	ch := make(chan string, 1)
	go func() { ch <- r.replaceAll(s) }()
	select {
	case out := <-ch:
		return out, out != s, nil
	case <-ctx.Done():
		return s, false, ctx.Err()
	}
}

// replaceLongByReader is regexp's replaceAll loop (same match positions, same rule for
// empty matches abutting the previous one), searching each next match through a reader
// that starts at the search position: exact for patterns without assertions, whose
// matches from a position do not depend on the text before it.
func (r *regexRule) replaceLongByReader(ctx context.Context, s string) (string, bool, error) {
	var buf []byte
	last, pos := 0, 0
	for pos <= len(s) {
		rr := newCtxRuneReader(ctx, s[pos:], r.insts)
		m := r.re.FindReaderSubmatchIndex(&rr)
		if rr.err != nil {
			return s, false, rr.err
		}
		if m == nil {
			break
		}
		for k := range m {
			if m[k] >= 0 {
				m[k] += pos
			}
		}
		if buf == nil {
			buf = make([]byte, 0, len(s))
		}
		buf = append(buf, s[last:m[0]]...)
		if m[1] > last || m[0] == 0 {
			if r.literal {
				buf = append(buf, r.text...)
			} else {
				buf = r.re.ExpandString(buf, r.template, s, m)
			}
		}
		last = m[1]
		_, width := utf8.DecodeRuneInString(s[pos:])
		switch {
		case pos+width > m[1]:
			pos += width
		case pos+1 > m[1]:
			pos++
		default:
			pos = m[1]
		}
	}
	if buf == nil {
		return s, false, nil
	}
	out := string(append(buf, s[last:]...))
	return out, out != s, nil
}

// replaceAll is the string API's replacement of every match.
func (r *regexRule) replaceAll(s string) string {
	if r.literal {
		return r.re.ReplaceAllLiteralString(s, r.text)
	}
	return r.re.ReplaceAllString(s, r.template)
}

// ruleShape fills the long-text fields of a compiled rule.
func (r *regexRule) ruleShape(pattern string) {
	r.insts, r.anchored = patternShape(pattern)
	r.longText = longTextFrom(r.insts)
}

// findAllLong returns the match positions ([start, end] pairs) of re in s exactly as
// regexp's FindAllStringIndex(s, -1), for a long s: through a reader that stops at ctx's
// deadline (patterns without assertions, regexp's allMatches loop), or, for a pattern
// with assertions, an interruptible check that it matches at all followed by regexp on a
// goroutine the call leaves at its deadline. Once ctx is done it returns ctx's error.
// insts is the pattern's program size and anchored whether it has assertions.
func findAllLong(ctx context.Context, re *regexp.Regexp, insts int, anchored bool, s string) ([][]int, error) {
	if anchored {
		rr := newCtxRuneReader(ctx, s, insts)
		matched := re.MatchReader(&rr)
		if rr.err != nil {
			return nil, rr.err
		}
		if !matched {
			return nil, nil
		}
		ch := make(chan [][]int, 1)
		go func() { ch <- re.FindAllStringIndex(s, -1) }()
		select {
		case m := <-ch:
			return m, nil
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
	var out [][]int
	for pos, prevEnd := 0, -1; pos <= len(s); {
		rr := newCtxRuneReader(ctx, s[pos:], insts)
		m := re.FindReaderIndex(&rr)
		if rr.err != nil {
			return nil, rr.err
		}
		if m == nil {
			break
		}
		m[0], m[1] = m[0]+pos, m[1]+pos
		accept := true
		if m[1] == pos { // an empty match: never right after the previous match
			accept = m[0] != prevEnd
			if _, width := utf8.DecodeRuneInString(s[pos:]); pos < len(s) {
				pos += width
			} else {
				pos = len(s) + 1
			}
		} else {
			pos = m[1]
		}
		prevEnd = m[1]
		if accept {
			out = append(out, m)
		}
	}
	return out, nil
}

// patternShape tells, for a compiled user pattern (flags included), its program size
// and whether it has assertions (see hasEmptyWidth).
func patternShape(compiled string) (insts int, anchored bool) {
	parsed, err := syntax.Parse(compiled, syntax.Perl)
	if err != nil { // regexp.Compile accepted it: cannot happen
		return MaxPatternInstructions, true
	}
	return patternInstructions(compiled), hasEmptyWidth(parsed)
}
