package builtins

import (
	"fmt"
	"regexp/syntax"
)

// MaxPatternInstructions bounds the compiled size of a user pattern (regex_replace
// words[].search, pii_filter custom_patterns[].pattern and whitelist_patterns). Go's
// regexp takes linear time in the text, but the factor is the program size: on long
// text the NFA does work for every instruction at every byte (measured ~25 ns per byte
// per instruction here), so `[a-z]{1000}x` (1,003 instructions) costs seconds on
// 200 KB. Realistic patterns stay far below (an email pattern compiles to ~11
// instructions, a UUID to ~38, an IPv6 address to ~65). Counted repetitions above
// 1,000 are already rejected by Go's parser, as by RE2.
const MaxPatternInstructions = 1000

// checkPatternCost refuses a compiled user pattern whose program exceeds
// MaxPatternInstructions, with an error naming the config key and the pattern as
// written. compiled is what was given to regexp.Compile (flags included).
func checkPatternCost(key, pattern, compiled string) error {
	if n := patternInstructions(compiled); n > MaxPatternInstructions {
		return NewConfigError(key, pattern,
			"pattern too costly: it compiles to %d instructions, the limit is %d (matching costs work per instruction for every byte scanned; use smaller repetition counts)",
			n, MaxPatternInstructions)
	}
	return nil
}

// patternInstructions is the size of the program regexp runs for pattern (which must
// parse: regexp.Compile accepted it).
func patternInstructions(pattern string) int {
	re, err := syntax.Parse(pattern, syntax.Perl)
	if err != nil {
		panic(fmt.Sprintf("pattern accepted by regexp.Compile does not parse: %v", err))
	}
	prog, err := syntax.Compile(re.Simplify())
	if err != nil {
		panic(fmt.Sprintf("pattern accepted by regexp.Compile does not compile: %v", err))
	}
	return len(prog.Inst)
}
