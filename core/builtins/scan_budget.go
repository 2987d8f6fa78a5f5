package builtins

import (
	"context"
	"io"
	"unicode/utf8"
)

// Guards stop at their context's deadline (issue 10, item 4a): a scan asks ctx.Err()
// now and then, and returns it, which the executor records as the plugin's timeout.
// ctx.Err() costs a lock and a clock read, so it is asked once per scanCheckBytes of
// text or scanCheckStrings strings, not per string: the scanners' hot path stays as it
// was (the benchmarks in *_bench_test.go measure it).
const (
	scanCheckBytes   = 64 << 10
	scanCheckStrings = 256
)

// scanBudget counts the text a scan went through since it last asked its context.
type scanBudget struct {
	ctx   context.Context
	bytes int
	strs  int
	err   error // the context's error, once seen: the scan must stop
}

func newScanBudget(ctx context.Context) scanBudget { return scanBudget{ctx: ctx} }

// spend accounts for the next string of n bytes, before it is scanned, and reports
// whether the scan may go on. Once it returned false it keeps returning false.
func (b *scanBudget) spend(n int) bool {
	if b.err != nil {
		return false
	}
	b.bytes += n
	b.strs++
	if b.bytes < scanCheckBytes && b.strs < scanCheckStrings {
		return true
	}
	b.bytes, b.strs = 0, 0
	b.err = b.ctx.Err()
	return b.err == nil
}

// done reports the context's error once the scan is over: the error that stopped it,
// or the deadline having passed during the last stretch.
func (b *scanBudget) done() error {
	if b.err != nil {
		return b.err
	}
	return b.ctx.Err()
}

// ctxRuneReader feeds a string to regexp's reader API and asks the context now and
// then: a match on a long text (regexp's NFA does work per pattern
// instruction for every byte) can then be abandoned at the deadline, which
// regexp's string API cannot. When the context is done it reports end of text and
// keeps the error in err; the match result is then meaningless.
type ctxRuneReader struct {
	ctx   context.Context
	s     string
	every int // bytes between two looks at the context (see newCtxRuneReader)
	i     int
	next  int // the offset at which the context is asked again
	err   error
}

// regexCheckWork is the NFA work (text bytes × program instructions) between two looks
// at the context: ~1 ms at the ~25 ns per byte per instruction measured here, against
// the tens of nanoseconds a look costs.
const regexCheckWork = 40_000

// newCtxRuneReader reads s for a program of insts instructions.
func newCtxRuneReader(ctx context.Context, s string, insts int) ctxRuneReader {
	return ctxRuneReader{ctx: ctx, s: s, every: max(regexCheckWork/max(insts, 1), 16)}
}

func (r *ctxRuneReader) ReadRune() (rune, int, error) {
	if r.i >= len(r.s) || r.err != nil {
		return 0, 0, io.EOF
	}
	if r.i >= r.next {
		r.next = r.i + r.every
		if r.err = r.ctx.Err(); r.err != nil {
			return 0, 0, io.EOF
		}
	}
	if c := r.s[r.i]; c < utf8.RuneSelf {
		r.i++
		return rune(c), 1, nil
	}
	c, n := utf8.DecodeRuneInString(r.s[r.i:])
	r.i += n
	return c, n, nil
}
