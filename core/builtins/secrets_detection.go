package builtins

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/cpex-go/cpex/core"
)

// builtin/secrets_detection: finds credentials (AWS key ids and secret keys, Google API
// keys, GitHub tokens, Stripe keys, Slack tokens, private key blocks, and the opt-in broad
// detectors: JWT-like tokens, API keys assigned to well-known names, 32+ hex strings, a
// base64 heuristic) in prompt args, tool args and results and resource content; it
// reports them, redacts them, or blocks the call. The config keys are those of the
// gateway's SecretsDetection plugin (cpex_secrets_detection). See
// docs/builtins/secrets_detection.md.

func init() { core.RegisterFactory("builtin/secrets_detection", newSecretsDetection) }

var secretsHooks = []string{
	"prompt_pre_fetch", "prompt_post_fetch", "tool_pre_invoke", "tool_post_invoke",
	"resource_post_fetch", "agent_pre_invoke", "agent_post_invoke",
}

var secretsDescriptions = map[string]string{
	"prompt_pre_fetch":    "Potential secrets detected in prompt arguments",
	"prompt_post_fetch":   "Potential secrets detected in prompt result",
	"tool_pre_invoke":     "Potential secrets detected in tool arguments",
	"tool_post_invoke":    "Potential secrets detected in tool result",
	"resource_post_fetch": "Potential secrets detected in resource content",
	"agent_pre_invoke":    "Potential secrets detected in agent messages",
	"agent_post_invoke":   "Potential secrets detected in agent messages",
}

// maxViolationExamples bounds the findings listed in a violation.
const maxViolationExamples = 50

type secretsConfig struct {
	Enabled            map[string]bool `json:"enabled"`
	Redact             bool            `json:"redact"`
	RedactionText      string          `json:"redaction_text"`
	BlockOnDetection   bool            `json:"block_on_detection"`
	MinFindingsToBlock int             `json:"min_findings_to_block"`
	FieldAllowlist     []string        `json:"field_allowlist"`
	FieldDenylist      []string        `json:"field_denylist"`
}

func defaultSecretsConfig() secretsConfig {
	return secretsConfig{RedactionText: "***REDACTED***", BlockOnDetection: true, MinFindingsToBlock: 1}
}

// Validate checks detector names, the threshold and the field paths.
func (c *secretsConfig) Validate() error {
	names := make([]string, 0, len(c.Enabled))
	for name := range c.Enabled {
		names = append(names, name)
	}
	slices.Sort(names)
	for _, name := range names {
		if !slices.Contains(secretTypeNames[:], name) {
			return NewConfigError("enabled."+name, c.Enabled[name], "unknown detector; known detectors: %s", strings.Join(secretTypeNames[:], ", "))
		}
	}
	if c.MinFindingsToBlock < 1 {
		return NewConfigError("min_findings_to_block", c.MinFindingsToBlock, "must be at least 1")
	}
	for _, l := range []struct {
		key   string
		paths []string
	}{{"field_allowlist", c.FieldAllowlist}, {"field_denylist", c.FieldDenylist}} {
		for i, p := range l.paths {
			if err := checkFieldPath(p); err != nil {
				return NewConfigError(fmt.Sprintf("%s[%d]", l.key, i), p, "%v", err)
			}
		}
	}
	return nil
}

// checkFieldPath accepts dotted paths of non-blank segments ("accounts.credentials").
func checkFieldPath(p string) error {
	if strings.TrimSpace(p) == "" {
		return fmt.Errorf("must not be empty or whitespace-only")
	}
	if strings.HasPrefix(p, ".") || strings.HasSuffix(p, ".") {
		return fmt.Errorf("must not start or end with '.'")
	}
	for _, seg := range strings.Split(p, ".") {
		if strings.TrimSpace(seg) == "" {
			return fmt.Errorf("must not contain empty or whitespace-only segments")
		}
	}
	return nil
}

type secretsDetection struct {
	ContextFree
	cfg     secretsConfig
	scanner secretScanner
	allow   [][]string
	deny    [][]string
}

func newSecretsDetection(spec core.PluginSpec) (core.Plugin, error) {
	return buildSecretsDetection(spec)
}

func buildSecretsDetection(spec core.PluginSpec) (*secretsDetection, error) {
	if err := CheckHooks(spec, secretsHooks...); err != nil {
		return nil, err
	}
	cfg := defaultSecretsConfig()
	if err := DecodeConfig(spec.Config, &cfg); err != nil {
		return nil, err
	}
	on := secretDefaultOn
	for k, name := range secretTypeNames {
		if v, ok := cfg.Enabled[name]; ok {
			on[k] = v
		}
	}
	p := &secretsDetection{cfg: cfg, scanner: newSecretScanner(on)}
	for _, a := range cfg.FieldAllowlist {
		p.allow = append(p.allow, strings.Split(a, "."))
	}
	for _, d := range cfg.FieldDenylist {
		p.deny = append(p.deny, strings.Split(d, "."))
	}
	return p, nil
}

type secretsTally struct {
	count int
	types [numSecretTypes]int
	order []secretType // finding order, for the violation's examples
}

func (t *secretsTally) add(spans []secretSpan) {
	for _, sp := range spans {
		t.count++
		t.types[sp.typ]++
		if len(t.order) < maxViolationExamples {
			t.order = append(t.order, sp.typ)
		}
	}
}

func (t *secretsTally) typeNames() []string {
	var out []string
	for k, c := range t.types {
		if c > 0 {
			out = append(out, secretTypeNames[k])
		}
	}
	slices.Sort(out)
	return out
}

// Invoke scans the hook's content fields and reports, redacts or blocks.
func (p *secretsDetection) Invoke(ctx context.Context, hook string, payload *core.Payload, _ *core.PluginContext) (*core.Result, error) {
	v, err := payload.Value()
	if err != nil {
		return nil, fmt.Errorf("secrets_detection: payload is not JSON: %w", err)
	}
	var tally secretsTally
	spans := make([]secretSpan, 0, 4)
	var keyBuf []string
	budget := newScanBudget(ctx)
	scanLeaf := func(path []string, s string) []secretSpan {
		if !budget.spend(len(s)) {
			return nil
		}
		key := ""
		if len(path) >= 2 {
			key = path[len(path)-1]
		}
		if len(p.allow) > 0 || len(p.deny) > 0 {
			var ok bool
			keyBuf, ok = keyPath(v, path, keyBuf[:0])
			if ok && !p.scanPath(keyBuf, len(path) == 1) {
				return nil
			}
			if ok && len(keyBuf) > 0 && keyBuf[len(keyBuf)-1] != key {
				key = "" // the leaf is a list item: its key is not a name for it
			}
		}
		spans = p.scanner.scan(s, key, spans[:0])
		tally.add(spans)
		return spans
	}
	var modified map[string]any
	if p.cfg.Redact {
		modified, _ = RewritePayload(v, hook, func(path []string, s string) (string, bool) {
			found := scanLeaf(path, s)
			if len(found) == 0 {
				return s, false
			}
			return p.redact(s, found), true
		})
	} else {
		VisitPayload(v, hook, func(path []string, s string) bool {
			scanLeaf(path, s)
			return budget.err == nil
		})
	}
	if err := budget.done(); err != nil {
		return nil, err
	}
	if tally.count == 0 {
		return nil, nil
	}
	res := &core.Result{}
	if modified != nil {
		res.ModifiedPayload = modified
	}
	summary := map[string]any{
		"total_detections": tally.count,
		"total_masked":     0,
		"total_blocked":    0,
		"secret_types":     tally.typeNames(),
	}
	res.Metadata = map[string]any{"secrets_detection": summary}
	if p.cfg.BlockOnDetection && tally.count >= p.cfg.MinFindingsToBlock {
		examples := make([]any, len(tally.order))
		for k, t := range tally.order {
			examples[k] = map[string]any{"type": secretTypeNames[t]}
		}
		res.Block = true
		res.Violation = &core.Violation{
			Reason:      "Secrets detected",
			Description: secretsDescriptions[hook],
			Code:        "SECRETS_DETECTED",
			Details:     map[string]any{"count": tally.count, "examples": examples},
		}
		summary["total_blocked"] = tally.count
	} else if modified != nil {
		summary["total_masked"] = tally.count
	}
	return res, nil
}

// redact replaces each finding with the redaction text.
func (p *secretsDetection) redact(s string, spans []secretSpan) string {
	var b strings.Builder
	b.Grow(len(s))
	cur := 0
	for _, sp := range spans {
		b.WriteString(s[cur:sp.start])
		b.WriteString(p.cfg.RedactionText)
		cur = sp.end
	}
	b.WriteString(s[cur:])
	return b.String()
}

// scanPath applies field_denylist then field_allowlist to the map-key path of a leaf
// (relative to the scanned payload field; list indices are not segments). A string that
// is the scanned field itself (e.g. a plain-text tool result) is always scanned.
func (p *secretsDetection) scanPath(keys []string, fieldRoot bool) bool {
	if fieldRoot {
		return true
	}
	for _, d := range p.deny {
		if hasPathPrefix(keys, d) {
			return false
		}
	}
	if len(p.allow) == 0 {
		return true
	}
	for _, a := range p.allow {
		if hasPathPrefix(keys, a) {
			return true
		}
	}
	return false
}

func hasPathPrefix(path, prefix []string) bool {
	return len(path) >= len(prefix) && slices.Equal(path[:len(prefix)], prefix)
}

// keyPath turns a walker path (field name, then map keys and list indices) into the map
// keys only, by following it down the payload tree.
func keyPath(root any, path []string, buf []string) ([]string, bool) {
	obj, ok := root.(map[string]any)
	if !ok || len(path) == 0 {
		return buf, false
	}
	cur := obj[path[0]]
	for _, seg := range path[1:] {
		switch t := cur.(type) {
		case map[string]any:
			buf = append(buf, seg)
			cur = t[seg]
		case []any:
			i, err := strconv.Atoi(seg)
			if err != nil || i < 0 || i >= len(t) {
				return buf, false
			}
			cur = t[i]
		default:
			return buf, false
		}
	}
	return buf, true
}
