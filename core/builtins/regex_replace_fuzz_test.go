package builtins

import (
	"context"
	"reflect"
	"regexp"
	"strings"
	"testing"
)

// FuzzPyReplacement: any (pattern, replacement) pair either fails with an error or yields
// a template that expands without panicking; a literal replacement expands to its text.
func FuzzPyReplacement(f *testing.F) {
	for _, seed := range [][2]string{
		{`(\w+)@(\w+)`, `\2 at \1`}, {`(?P<n>\d+)`, `\g<n>!`}, {`a`, `$1\n\\`}, {`x`, `\101\0\.`},
		{`(a)`, `\g<0>\g<1>`}, {`b`, `\g<`}, {`c`, `\`}, {`(d)`, `\12`},
	} {
		f.Add(seed[0], seed[1], "xx bob@acme yy 42 abc")
	}
	f.Fuzz(func(t *testing.T, pattern, repl, text string) {
		re, err := regexp.Compile(pattern)
		if err != nil {
			return
		}
		tmpl, lit, literal, err := pyReplacement(repl, re)
		if err != nil {
			return
		}
		got := re.ReplaceAllString(text, tmpl)
		if literal && re.ReplaceAllLiteralString(text, lit) != got {
			t.Fatalf("literal replacement %q: template %q and text %q disagree", repl, tmpl, lit)
		}
	})
}

// FuzzRegexReplace runs the plugin's rule engine on arbitrary text: the literal fast path
// must agree with the regexp engine, and no input may panic.
func FuzzRegexReplace(f *testing.F) {
	f.Add("crap", "crud", "what crap is this crap")
	f.Add("a.b", "$x", "a.b axb")
	f.Add("é", "e", "café\xff")
	f.Fuzz(func(t *testing.T, search, replace, text string) {
		cfg := regexReplaceConfig{Words: []regexReplaceWord{{Search: &search, Replace: &replace}}}
		if cfg.Validate() != nil {
			return
		}
		rule := cfg.rules[0]
		out, changed, err := rule.replace(context.Background(), text, true)
		if err != nil {
			t.Fatal(err)
		}
		if changed == (out == text) {
			t.Fatalf("changed=%v but out==text is %v", changed, out == text)
		}
		if rule.needle != "" {
			want := rule.re.ReplaceAllLiteralString(text, rule.text)
			if out != want {
				t.Fatalf("literal path %q != regexp %q", out, want)
			}
			if !strings.Contains(text, rule.needle) && changed {
				t.Fatal("changed without a match")
			}
		}
	})
}

// FuzzRegexReplaceLong: the interruptible long-text path (reader-based matching)
// replaces exactly as regexp's ReplaceAll, for every pattern and text.
func FuzzRegexReplaceLong(f *testing.F) {
	f.Add(`a*`, "-", "baaac")
	f.Add(`(\w+)@(\w+)`, `\2 at \1`, "bob@acme, é@x")
	f.Add(`\bcat\b`, "dog", "cat concat cat")
	f.Add(`^x|y$`, "_", "xyx\nyxy")
	f.Add(`(?m)^\s*`, "> ", "a\n  b\n")
	f.Add(`[a-z]{3}`, "#", "abcd\xffefgh")
	f.Add(``, "|", "héllo")
	f.Fuzz(func(t *testing.T, search, replace, text string) {
		cfg := regexReplaceConfig{Words: []regexReplaceWord{{Search: &search, Replace: &replace}}}
		if cfg.Validate() != nil {
			return
		}
		rule := cfg.rules[0]
		got, changed, err := rule.replaceLong(context.Background(), text)
		if err != nil {
			t.Fatal(err)
		}
		if want := rule.replaceAll(text); got != want || changed != (want != text) {
			t.Fatalf("%q→%q on %q: long path %q (changed %v), regexp %q", search, replace, text, got, changed, want)
		}
	})
}

// FuzzRegexPrefilter: the prefilter never rejects a string the pattern matches (it may
// only skip work, never change a result).
func FuzzRegexPrefilter(f *testing.F) {
	for _, seed := range [][2]string{
		{`\b(damn|heck)\b`, "oh HECK damn"}, {`(?i)confidential`, "CONFIDENTIAL"}, {`(?i)pass`, "PAſſ"},
		{`(?i)kilo`, "\u212aILO"}, {`(pwd|passwd)\s*=\s*\S+`, "pwd = x"}, {`a(bcd)+e`, "abcdbcde"},
		{`(?i:abc)|DEF`, "aBc"}, {`x{2,3}yyy`, "xxyyy"}, {`(?i)σς`, "ΣΣ"},
	} {
		f.Add(seed[0], seed[1])
	}
	f.Fuzz(func(t *testing.T, pattern, text string) {
		re, err := regexp.Compile(pattern)
		if err != nil {
			return
		}
		pre := newRegexPrefilter(pattern)
		if pre != nil && re.MatchString(text) && !pre.mayMatch(text) {
			t.Fatalf("pattern %q matches %q but the prefilter rejected it", pattern, text)
		}
	})
}

// FuzzRegexReplaceRules: the plugin (combined screen, literal fast path, per-rule
// prefilters) rewrites a string exactly as applying every rule in order with regexp would.
func FuzzRegexReplaceRules(f *testing.F) {
	f.Add("crap", "crud", "crud", "yikes", `(?i)\bsecret\b`, "[x]", "what crap, SECRET crud")
	f.Add(`(\w+)@(\w+)`, `\2 at \1`, "at", "@", `\d+`, "#", "bob@acme 42")
	f.Add("abc", "", "(?i)kelvin", "K", "x+", "y", "\u212aELVIN abcabc xx")
	// after a literal replacement the screen runs again only when the replacement can
	// make a later literal: "crud"+"arn" makes "darn", "[filtered]" makes no "damn"
	f.Add("crap", "crud", "darn", "[filtered]", `\bdamn\b`, "d***", "craparn crap darn damn")
	f.Add("xx", "", "darn", "!", "yy", "z", "daxxrn")
	f.Add("a", "D", "(?i)damn", "!", "q", "r", "aamn")
	f.Add("a", "\u212a", "(?i)kilo", "!", "q", "r", "ailo")
	f.Fuzz(func(t *testing.T, s1, r1, s2, r2, s3, r3, text string) {
		words := []regexReplaceWord{{&s1, &r1}, {&s2, &r2}, {&s3, &r3}}
		cfg := regexReplaceConfig{Words: words}
		if cfg.Validate() != nil {
			return
		}
		p := newRegexReplacePlugin(cfg.rules)
		got, _, err := p.apply(context.Background(), text)
		if err != nil {
			t.Fatal(err)
		}
		want := text
		for _, r := range cfg.rules {
			if r.literal {
				want = r.re.ReplaceAllLiteralString(want, r.text)
			} else {
				want = r.re.ReplaceAllString(want, r.template)
			}
		}
		if got != want {
			t.Fatalf("rules %q→%q, %q→%q, %q→%q on %q: got %q, want %q", s1, r1, s2, r2, s3, r3, text, got, want)
		}
	})
}

// FuzzFindAllLong: the interruptible long-text search finds exactly what regexp's
// FindAllStringIndex finds, for every pattern and text.
func FuzzFindAllLong(f *testing.F) {
	for _, seed := range [][2]string{{`a*`, "baaac"}, {`\bcat\b`, "cat concat cat"}, {`(?i)x|`, "aXé\xff"},
		{`(?m)^\s*`, "a\n  b\n"}, {``, "héllo"}, {`[0-9]{2,3}`, "1 22 333 4444"}} {
		f.Add(seed[0], seed[1])
	}
	f.Fuzz(func(t *testing.T, pattern, text string) {
		re, err := regexp.Compile(pattern)
		if err != nil {
			return
		}
		insts, anchored := patternShape(pattern)
		got, err := findAllLong(context.Background(), re, insts, anchored, text)
		if err != nil {
			t.Fatal(err)
		}
		if want := re.FindAllStringIndex(text, -1); !reflect.DeepEqual(got, want) {
			t.Fatalf("%q on %q: long path %v, regexp %v", pattern, text, got, want)
		}
	})
}
