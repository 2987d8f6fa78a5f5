package builtins

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"log/slog"
	"regexp"
	"slices"
	"strings"

	"github.com/cpex-go/cpex/core"
)

// builtin/pii_filter: finds personal data (SSN, BSN, credit cards with Luhn, email,
// phone, IPv4/IPv6, dates of birth, passport / driver's licence / bank account / medical
// record numbers, AWS keys, API keys, custom patterns) in prompt args and results and tool
// args and results, and masks it or blocks the call. The config keys are those of the
// gateway's PIIFilterPlugin (cpex_pii_filter), so a config migrates by changing `kind`.
// See docs/builtins/pii_filter.md.

func init() { core.RegisterFactory("builtin/pii_filter", newPIIFilter) }

var piiFilterHooks = []string{
	"prompt_pre_fetch", "prompt_post_fetch", "tool_pre_invoke", "tool_post_invoke",
	"resource_post_fetch", "agent_pre_invoke", "agent_post_invoke",
}

// piiViolations are the violation texts and codes per hook (the codes of the gateway's
// PII filter for the four hooks it implements).
var piiViolations = map[string]struct{ reason, description, code string }{
	"prompt_pre_fetch":    {"PII detected in prompt arguments", "Sensitive information detected in prompt arguments", "PII_DETECTED"},
	"prompt_post_fetch":   {"PII detected in prompt messages", "Sensitive information detected in prompt result", "PII_DETECTED_IN_PROMPT_RESULT"},
	"tool_pre_invoke":     {"PII detected in tool arguments", "Sensitive information detected in tool arguments", "PII_DETECTED_IN_TOOL_ARGS"},
	"tool_post_invoke":    {"PII detected in tool result", "Sensitive information detected in tool result", "PII_DETECTED_IN_TOOL_RESULT"},
	"resource_post_fetch": {"PII detected in resource content", "Sensitive information detected in resource content", "PII_DETECTED_IN_RESOURCE"},
	"agent_pre_invoke":    {"PII detected in agent messages", "Sensitive information detected in agent input", "PII_DETECTED_IN_AGENT_MESSAGES"},
	"agent_post_invoke":   {"PII detected in agent messages", "Sensitive information detected in agent output", "PII_DETECTED_IN_AGENT_MESSAGES"},
}

// Resource limits (the gateway plugin's defaults and ceilings).
const (
	piiDefaultMaxTextBytes       = 10 << 20
	piiMaxTextBytesLimit         = 100 << 20
	piiDefaultMaxNestedDepth     = 32
	piiMaxNestedDepthLimit       = 1000
	piiDefaultMaxCollectionItems = 4096
	piiMaxCollectionItemsLimit   = 1_000_000
)

// piiFilterConfig is the `config:` mapping.
type piiFilterConfig struct {
	DetectSSN           bool `json:"detect_ssn"`
	DetectBSN           bool `json:"detect_bsn"`
	DetectCreditCard    bool `json:"detect_credit_card"`
	DetectEmail         bool `json:"detect_email"`
	DetectPhone         bool `json:"detect_phone"`
	DetectIPAddress     bool `json:"detect_ip_address"`
	DetectDateOfBirth   bool `json:"detect_date_of_birth"`
	DetectPassport      bool `json:"detect_passport"`
	DetectDriverLicense bool `json:"detect_driver_license"`
	DetectBankAccount   bool `json:"detect_bank_account"`
	DetectMedicalRecord bool `json:"detect_medical_record"`
	DetectAWSKeys       bool `json:"detect_aws_keys"`
	DetectAPIKeys       bool `json:"detect_api_keys"`

	DefaultMaskStrategy     string `json:"default_mask_strategy"`
	RedactionText           string `json:"redaction_text"`
	BlockOnDetection        bool   `json:"block_on_detection"`
	LogDetections           bool   `json:"log_detections"`
	IncludeDetectionDetails bool   `json:"include_detection_details"`

	MaxTextBytes       int `json:"max_text_bytes"`
	MaxNestedDepth     int `json:"max_nested_depth"`
	MaxCollectionItems int `json:"max_collection_items"`

	CustomPatterns    []piiCustomPatternConfig `json:"custom_patterns"`
	WhitelistPatterns []string                 `json:"whitelist_patterns"`
}

type piiCustomPatternConfig struct {
	Pattern      string  `json:"pattern"`
	Description  string  `json:"description"`
	MaskStrategy *string `json:"mask_strategy"`
	Enabled      *bool   `json:"enabled"`
}

func defaultPIIFilterConfig() piiFilterConfig {
	return piiFilterConfig{
		DetectSSN: true, DetectBSN: true, DetectCreditCard: true, DetectEmail: true, DetectPhone: true,
		DetectIPAddress: true, DetectDateOfBirth: true, DetectPassport: true, DetectDriverLicense: true,
		DetectBankAccount: true, DetectMedicalRecord: true, DetectAWSKeys: true, DetectAPIKeys: true,
		DefaultMaskStrategy: "redact",
		RedactionText:       "[REDACTED]",
		MaxTextBytes:        piiDefaultMaxTextBytes,
		MaxNestedDepth:      piiDefaultMaxNestedDepth,
		MaxCollectionItems:  piiDefaultMaxCollectionItems,
	}
}

// Validate checks ranges and enums (DecodeConfig calls it).
func (c *piiFilterConfig) Validate() error {
	if _, ok := maskStrategyNames[c.DefaultMaskStrategy]; !ok {
		return NewConfigError("default_mask_strategy", c.DefaultMaskStrategy, "must be one of %s", maskStrategyList)
	}
	limits := []struct {
		key        string
		v, ceiling int
	}{
		{"max_text_bytes", c.MaxTextBytes, piiMaxTextBytesLimit},
		{"max_nested_depth", c.MaxNestedDepth, piiMaxNestedDepthLimit},
		{"max_collection_items", c.MaxCollectionItems, piiMaxCollectionItemsLimit},
	}
	for _, l := range limits {
		if l.v < 1 || l.v > l.ceiling {
			return NewConfigError(l.key, l.v, "must be between 1 and %d", l.ceiling)
		}
	}
	for i, cp := range c.CustomPatterns {
		key := fmt.Sprintf("custom_patterns[%d]", i)
		if strings.TrimSpace(cp.Pattern) == "" {
			return NewConfigError(key+".pattern", cp.Pattern, "is required and must not be empty")
		}
		if cp.MaskStrategy != nil {
			if _, ok := maskStrategyNames[*cp.MaskStrategy]; !ok {
				return NewConfigError(key+".mask_strategy", *cp.MaskStrategy, "must be one of %s", maskStrategyList)
			}
		}
	}
	return nil
}

type piiFilter struct {
	ContextFree
	name    string
	cfg     piiFilterConfig
	scanner piiScanner
	masker  piiMasker
}

func newPIIFilter(spec core.PluginSpec) (core.Plugin, error) { return buildPIIFilter(spec) }

func buildPIIFilter(spec core.PluginSpec) (*piiFilter, error) {
	if err := CheckHooks(spec, piiFilterHooks...); err != nil {
		return nil, err
	}
	cfg := defaultPIIFilterConfig()
	if err := DecodeConfig(spec.Config, &cfg); err != nil {
		return nil, err
	}
	p := &piiFilter{name: spec.Name, cfg: cfg}
	sc := &p.scanner
	sc.on = [numPIITypes]bool{
		piiSSN: cfg.DetectSSN, piiBSN: cfg.DetectBSN, piiCreditCard: cfg.DetectCreditCard,
		piiEmail: cfg.DetectEmail, piiPhone: cfg.DetectPhone, piiIPAddress: cfg.DetectIPAddress,
		piiDateOfBirth: cfg.DetectDateOfBirth, piiPassport: cfg.DetectPassport,
		piiDriverLicense: cfg.DetectDriverLicense, piiBankAccount: cfg.DetectBankAccount,
		piiMedicalRecord: cfg.DetectMedicalRecord, piiAWSKey: cfg.DetectAWSKeys, piiAPIKey: cfg.DetectAPIKeys,
	}
	sc.context = cfg.DetectSSN || cfg.DetectBSN || cfg.DetectDateOfBirth || cfg.DetectPassport ||
		cfg.DetectDriverLicense || cfg.DetectBankAccount || cfg.DetectMedicalRecord
	def := maskStrategyNames[cfg.DefaultMaskStrategy]
	for i, cp := range cfg.CustomPatterns {
		if cp.Enabled != nil && !*cp.Enabled {
			continue
		}
		re, err := regexp.Compile("(?i)" + cp.Pattern)
		if err != nil {
			return nil, NewConfigError(fmt.Sprintf("custom_patterns[%d].pattern", i), cp.Pattern, "invalid regular expression: %v", err)
		}
		if err := checkPatternCost(fmt.Sprintf("custom_patterns[%d].pattern", i), cp.Pattern, "(?i)"+cp.Pattern); err != nil {
			return nil, err
		}
		st := def
		if cp.MaskStrategy != nil {
			st = maskStrategyNames[*cp.MaskStrategy]
		}
		rule := piiCustomRule{re: re, description: cp.Description, strategy: st}
		rule.insts, rule.anchored = patternShape("(?i)" + cp.Pattern)
		rule.longText = longTextFrom(rule.insts)
		sc.custom = append(sc.custom, rule)
	}
	for i, w := range cfg.WhitelistPatterns {
		re, err := regexp.Compile("(?i)" + w)
		if err != nil {
			return nil, NewConfigError(fmt.Sprintf("whitelist_patterns[%d]", i), w, "invalid regular expression: %v", err)
		}
		if err := checkPatternCost(fmt.Sprintf("whitelist_patterns[%d]", i), w, "(?i)"+w); err != nil {
			return nil, err
		}
		sc.whitelist = append(sc.whitelist, re)
	}
	var salt [16]byte
	_, _ = rand.Read(salt[:])
	p.masker = piiMasker{strategy: def, redactionText: cfg.RedactionText, salt: hex.EncodeToString(salt[:])}
	return p, nil
}

// piiTally counts detections per type.
type piiTally [numPIITypes]int

func (t *piiTally) add(spans []piiSpan) {
	for _, sp := range spans {
		t[sp.typ]++
	}
}

func (t *piiTally) total() int {
	n := 0
	for _, c := range t {
		n += c
	}
	return n
}

func (t *piiTally) types() []string {
	n := 0
	for _, c := range t {
		if c > 0 {
			n++
		}
	}
	if n == 0 {
		return nil
	}
	out := make([]string, 0, n) // one allocation, not one per growth
	for k, c := range t {
		if c > 0 {
			out = append(out, piiTypeNames[k])
		}
	}
	slices.Sort(out)
	return out
}

// Invoke scans the hook's content fields; it masks what it finds, or blocks when
// block_on_detection is set.
func (p *piiFilter) Invoke(ctx context.Context, hook string, payload *core.Payload, _ *core.PluginContext) (*core.Result, error) {
	v, err := payload.Value()
	if err != nil {
		return nil, fmt.Errorf("pii_filter: payload is not JSON: %w", err)
	}
	if err := p.checkLimits(v, hook); err != nil {
		return nil, err
	}
	var tally piiTally
	spans := make([]piiSpan, 0, 8)
	keyOf := func(path []string) string {
		if len(path) < 2 {
			return ""
		}
		return path[len(path)-1]
	}
	budget := newScanBudget(ctx)
	if p.cfg.BlockOnDetection {
		VisitPayload(v, hook, func(path []string, s string) bool {
			if !budget.spend(len(s)) {
				return false
			}
			if spans, err = p.scanner.scanCtx(ctx, s, keyOf(path), spans[:0]); err != nil {
				budget.err = err
				return false
			}
			tally.add(spans)
			return true
		})
		if err := budget.done(); err != nil {
			return nil, err
		}
		if tally.total() == 0 {
			return nil, nil
		}
		p.log(hook, "blocked", &tally)
		vt := piiViolations[hook]
		return &core.Result{
			Block: true,
			Violation: &core.Violation{
				Reason: vt.reason, Description: vt.description, Code: vt.code,
				Details: map[string]any{"detected_types": tally.types(), "count": tally.total()},
			},
			Metadata: p.metadata(hook, &tally, 0),
		}, nil
	}
	out, changed := RewritePayload(v, hook, func(path []string, s string) (string, bool) {
		if !budget.spend(len(s)) {
			return s, false
		}
		if spans, err = p.scanner.scanCtx(ctx, s, keyOf(path), spans[:0]); err != nil {
			budget.err = err
			return s, false
		}
		if len(spans) == 0 {
			return s, false
		}
		tally.add(spans)
		return p.masker.mask(s, spans, p.scanner.custom), true
	})
	if err := budget.done(); err != nil {
		return nil, err
	}
	if !changed {
		return nil, nil
	}
	p.log(hook, "masked", &tally)
	return &core.Result{ModifiedPayload: out, Metadata: p.metadata(hook, &tally, tally.total())}, nil
}

// metadata reports what was found: counts and type names only, never the values.
func (p *piiFilter) metadata(hook string, t *piiTally, masked int) map[string]any {
	md := map[string]any{
		"pii_filter": map[string]any{
			"total_detections": t.total(),
			"total_masked":     masked,
			"detection_types":  t.types(),
			"stage":            hook,
		},
	}
	if p.cfg.IncludeDetectionDetails {
		perType := map[string]any{}
		for k, c := range t {
			if c > 0 {
				perType[piiTypeNames[k]] = c
			}
		}
		md["pii_detections"] = map[string]any{hook: perType}
	}
	return md
}

func (p *piiFilter) log(hook, action string, t *piiTally) {
	if !p.cfg.LogDetections {
		return
	}
	slog.Info("PII detected", "plugin", p.name, "stage", hook, "action", action,
		"total", t.total(), "types", strings.Join(t.types(), ","))
}

// checkLimits enforces max_text_bytes, max_nested_depth and max_collection_items on the
// scanned fields; a payload over a limit is a plugin error (the plugin's on_error rule
// decides), never a partial scan.
func (p *piiFilter) checkLimits(v any, hook string) error {
	obj, ok := v.(map[string]any)
	if !ok {
		return nil
	}
	for _, f := range scanFields[hook] {
		if fv, present := obj[f]; present {
			if le := p.checkValue(fv, 1); le != nil {
				le.path = append(le.path, f)
				return le
			}
		}
	}
	return nil
}

// limitError names the value over a limit; the path is collected while unwinding, so the
// common (within limits) walk builds no strings.
type limitError struct {
	path []string // leaf first
	what string
}

func (e *limitError) Error() string {
	p := slices.Clone(e.path)
	slices.Reverse(p)
	return fmt.Sprintf("pii_filter: %s %s", strings.Join(p, "."), e.what)
}

func (p *piiFilter) checkValue(v any, depth int) *limitError {
	switch t := v.(type) {
	case string:
		if len(t) > p.cfg.MaxTextBytes {
			return &limitError{what: fmt.Sprintf("is %d bytes, over max_text_bytes (%d)", len(t), p.cfg.MaxTextBytes)}
		}
	case map[string]any:
		if le := p.checkContainer(depth, len(t)); le != nil {
			return le
		}
		for k, e := range t {
			if le := p.checkValue(e, depth+1); le != nil {
				le.path = append(le.path, k)
				return le
			}
		}
	case []any:
		if le := p.checkContainer(depth, len(t)); le != nil {
			return le
		}
		for i, e := range t {
			if le := p.checkValue(e, depth+1); le != nil {
				le.path = append(le.path, fmt.Sprint(i))
				return le
			}
		}
	}
	return nil
}

func (p *piiFilter) checkContainer(depth, items int) *limitError {
	if depth > p.cfg.MaxNestedDepth {
		return &limitError{what: fmt.Sprintf("is nested %d deep, over max_nested_depth (%d)", depth, p.cfg.MaxNestedDepth)}
	}
	if items > p.cfg.MaxCollectionItems {
		return &limitError{what: fmt.Sprintf("has %d items, over max_collection_items (%d)", items, p.cfg.MaxCollectionItems)}
	}
	return nil
}
