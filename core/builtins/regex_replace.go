package builtins

import (
	"context"
	"fmt"
	"regexp"
	"strconv"
	"strings"

	"github.com/cpex-go/cpex/core"
)

// builtin/regex_replace: an ordered search/replace list applied to every string of the
// scanned payload fields (tool args and results, prompt args and rendered messages, at
// any depth). Patterns are Go regexp (RE2): matching takes linear time in the text for
// every pattern, so no pattern or input can make a guard hang. See
// docs/builtins/regex_replace.md.

func init() { core.RegisterFactory("builtin/regex_replace", newRegexReplace) }

var regexReplaceHooks = []string{"prompt_pre_fetch", "prompt_post_fetch", "tool_pre_invoke", "tool_post_invoke"}

// regexReplaceWord is one entry of `words`, as in the gateway's SearchReplacePlugin.
// Pointers tell a missing key from an empty string: both keys are required there.
type regexReplaceWord struct {
	Search  *string `json:"search"`
	Replace *string `json:"replace"`
}

type regexReplaceConfig struct {
	Words []regexReplaceWord `json:"words"`

	rules []regexRule // compiled by Validate
}

// regexRule is one compiled entry. A pattern that is a plain literal (no metacharacter)
// with a replacement that references no group skips the regexp engine entirely.
type regexRule struct {
	re       *regexp.Regexp
	template string // Go Expand template (used when the replacement references groups)
	text     string // the replacement as plain text (when it references none)
	literal  bool   // the replacement references no group
	needle   string // the whole pattern when it is a plain literal, else ""
	pre      *regexPrefilter
	insts    int  // the size of the pattern's program (pattern_cost.go)
	longText int  // text length from which matching goes through replaceLong
	anchored bool // the pattern has assertions (^ $ \b ...): see replaceLong
}

func (c *regexReplaceConfig) Validate() error {
	if c.Words == nil {
		return NewConfigError("words", nil, "required: a list of {search, replace} entries")
	}
	c.rules = make([]regexRule, 0, len(c.Words))
	for i, w := range c.Words {
		key := "words." + strconv.Itoa(i)
		if w.Search == nil {
			return NewConfigError(key+".search", nil, "required")
		}
		if w.Replace == nil {
			return NewConfigError(key+".replace", nil, "required")
		}
		re, err := regexp.Compile(*w.Search)
		if err != nil {
			// Go's messages name the construct RE2 lacks (e.g. look-behind, backreference).
			return NewConfigError(key+".search", *w.Search, "invalid RE2 pattern: %v", err)
		}
		if err := checkPatternCost(key+".search", *w.Search, *w.Search); err != nil {
			return err
		}
		tmpl, text, literal, err := pyReplacement(*w.Replace, re)
		if err != nil {
			return NewConfigError(key+".replace", *w.Replace, "%v", err)
		}
		rule := regexRule{re: re, template: tmpl, text: text, literal: literal}
		rule.ruleShape(*w.Search)
		if prefix, complete := re.LiteralPrefix(); complete && prefix != "" && literal {
			rule.needle = prefix
		} else {
			rule.pre = newRegexPrefilter(*w.Search)
		}
		c.rules = append(c.rules, rule)
	}
	return nil
}

type regexReplace struct {
	ContextFree
	rules []regexRule
	// screen finds, in one pass over a string, which rules may match it: every rule's
	// required literals (its needle or prefilter literals) tagged with the rule's bit.
	// nil with more than 64 rules: each rule then uses its own prefilter.
	screen *denyAutomaton
	always uint64 // the rules without literals, which the screen cannot rule out
	// rescan has the bit of each rule after whose replacement the new text must be
	// screened again (see screenAfter); a rule without it keeps the candidates it had.
	rescan uint64
}

// newRegexScreen builds the combined screen of up to 64 rules.
func newRegexScreen(rules []regexRule) (*denyAutomaton, uint64) {
	if len(rules) == 0 || len(rules) > 64 {
		return nil, 0
	}
	var words []string
	var bits []uint64
	var always uint64
	fold := false
	for i, r := range rules {
		bit := uint64(1) << uint(i)
		lits, f, ok := []string{r.needle}, false, r.needle != ""
		if !ok && r.pre != nil {
			lits, f, ok = prefilterLiterals(r.re.String())
		}
		if !ok {
			always |= bit
			continue
		}
		for _, l := range lits {
			words, bits = append(words, l), append(bits, bit)
		}
		// One automaton: if any rule ignores case, all literals are matched ignoring
		// case, which only lets more strings through to the exact check.
		fold = fold || f
	}
	if len(words) == 0 {
		return nil, 0
	}
	return newMaskAutomaton(words, bits, fold), always
}

func newRegexReplace(spec core.PluginSpec) (core.Plugin, error) {
	if err := CheckHooks(spec, regexReplaceHooks...); err != nil {
		return nil, err
	}
	var cfg regexReplaceConfig
	if err := DecodeConfig(spec.Config, &cfg); err != nil {
		return nil, err
	}
	return newRegexReplacePlugin(cfg.rules), nil
}

// newRegexReplacePlugin builds the plugin of compiled rules: the combined screen and
// the rules after which it is run again.
func newRegexReplacePlugin(rules []regexRule) *regexReplace {
	screen, always := newRegexScreen(rules)
	return &regexReplace{rules: rules, screen: screen, always: always, rescan: screenAfter(rules, screen)}
}

// Invoke rewrites the scanned fields; the result carries a modified payload only when
// some string changed. It never blocks. It stops at ctx's deadline with ctx's error.
func (p *regexReplace) Invoke(ctx context.Context, hook string, payload *core.Payload, _ *core.PluginContext) (*core.Result, error) {
	if len(p.rules) == 0 {
		return nil, nil
	}
	v, err := payload.Value()
	if err != nil {
		return nil, fmt.Errorf("regex_replace: payload is not JSON: %w", err)
	}
	budget := newScanBudget(ctx)
	out, changed := RewritePayload(v, hook, func(_ []string, s string) (string, bool) {
		if !budget.spend(len(s)) {
			return s, false
		}
		r, changed, err := p.apply(ctx, s)
		if err != nil {
			budget.err = err
			return s, false
		}
		return r, changed
	})
	if err := budget.done(); err != nil {
		return nil, err
	}
	if !changed {
		return nil, nil
	}
	return &core.Result{ModifiedPayload: out}, nil
}

// apply runs every rule in order over s (each sees the previous one's output, as the
// gateway's plugin does) and reports whether the result differs.
func (p *regexReplace) apply(ctx context.Context, s string) (string, bool, error) {
	changed := false
	if p.screen == nil {
		for i := range p.rules {
			r, ok, err := p.rules[i].replace(ctx, s, true)
			if err != nil {
				return s, false, err
			}
			if ok {
				s, changed = r, true
			}
		}
		return s, changed, nil
	}
	candidates := p.screen.matchMask(s) | p.always
	for i := range p.rules {
		if candidates&(1<<uint(i)) == 0 {
			continue
		}
		r, ok, err := p.rules[i].replace(ctx, s, false)
		if err != nil {
			return s, false, err
		}
		if ok {
			s, changed = r, true
			// A replacement can create a later rule's literal ("crap"→"crud", then
			// "crud"→"yikes"): screen the new text for the remaining rules, unless
			// no later literal can occur in it that did not occur before.
			if p.rescan&(1<<uint(i)) != 0 {
				candidates = p.screen.matchMask(s) | p.always
			}
		}
	}
	return s, changed, nil
}

// replace applies one rule; prefilter says whether to run the rule's own prefilter first
// (false when the combined screen already did). The common case is no match: it is
// detected without allocating (regexp's Replace* always copies its input). Long texts
// go through replaceLong, which stops at ctx's deadline.
func (r *regexRule) replace(ctx context.Context, s string, prefilter bool) (string, bool, error) {
	if r.needle != "" {
		if !strings.Contains(s, r.needle) {
			return s, false, nil
		}
		out := strings.ReplaceAll(s, r.needle, r.text)
		return out, out != s, nil
	}
	if prefilter && r.pre != nil && !r.pre.mayMatch(s) {
		return s, false, nil
	}
	if len(s) >= r.longText {
		return r.replaceLong(ctx, s)
	}
	if r.re.FindStringIndex(s) == nil {
		return s, false, nil
	}
	out := r.replaceAll(s)
	return out, out != s, nil
}
