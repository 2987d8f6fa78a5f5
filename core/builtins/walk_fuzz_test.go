package builtins

import (
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/cpex-go/cpex/core"
)

// FuzzRewriteStrings: on any JSON document, RewriteStrings leaves its input unchanged,
// rewrites exactly the leaves fn changes, and reports changed correctly.
func FuzzRewriteStrings(f *testing.F) {
	for _, s := range []string{`{}`, `[]`, `"a"`, `{"a":["x",{"b":"ya"}],"c":1}`, `[[["a"]],{"":"a"}]`, `null`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, doc string) {
		var v any
		if json.Unmarshal([]byte(doc), &v) != nil {
			return
		}
		before, _ := json.Marshal(v)
		wantChange := false
		VisitStrings(v, func(_ []string, s string) bool {
			wantChange = wantChange || strings.Contains(s, "a")
			return true
		})
		out, changed := RewriteStrings(v, func(_ []string, s string) (string, bool) {
			if strings.Contains(s, "a") {
				return strings.ReplaceAll(s, "a", "A"), true
			}
			return s, false
		})
		after, _ := json.Marshal(v)
		if string(before) != string(after) {
			t.Fatalf("input mutated: %s -> %s", before, after)
		}
		if changed != wantChange {
			t.Fatalf("changed=%v, want %v", changed, wantChange)
		}
		VisitStrings(out, func(_ []string, s string) bool {
			if strings.Contains(s, "a") {
				t.Fatalf("leaf %q not rewritten", s)
			}
			return true
		})
	})
}

// FuzzGuardConfig: any JSON object as the `config:` of pii_filter or secrets_detection
// either builds a plugin or fails with an error, never a panic.
func FuzzGuardConfig(f *testing.F) {
	for _, s := range []string{
		`{}`, `{"detect_ssn":false,"default_mask_strategy":"hash"}`, `{"custom_patterns":[{"pattern":"a("}]}`,
		`{"enabled":{"jwt_like":true},"field_allowlist":["a.b"]}`, `{"min_findings_to_block":-1}`, `{"max_text_bytes":1e30}`,
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, doc string) {
		var cfg map[string]any
		if json.Unmarshal([]byte(doc), &cfg) != nil {
			return
		}
		for _, kind := range []string{"builtin/pii_filter", "builtin/secrets_detection"} {
			p, err := core.NewPlugin(core.PluginSpec{Name: "f", Kind: kind, Config: cfg})
			if (p == nil) == (err == nil) {
				t.Fatalf("%s: plugin %v, error %v", kind, p, err)
			}
		}
	})
}

// FuzzGuardInvoke: any JSON value as a tool result goes through pii_filter (masking) and
// secrets_detection (redacting) without a panic, without changing the input tree, and
// with a modified payload exactly when a finding was reported.
func FuzzGuardInvoke(f *testing.F) {
	for _, s := range []string{
		`"SSN 123-45-6789"`, `{"a":["x@y.io",{"k":"AKIAFAKE12345EXAMPLE"}]}`, `[1,true,null,"4111 1111 1111 1111"]`,
		`{"api_key":"sk_live_0123456789abcdefXYZ"}`, `{}`, `"-----BEGIN RSA PRIVATE KEY-----"`,
	} {
		f.Add(s)
	}
	pii, err := core.NewPlugin(core.PluginSpec{Name: "p", Kind: "builtin/pii_filter", Config: map[string]any{"default_mask_strategy": "partial"}})
	if err != nil {
		f.Fatal(err)
	}
	sec, err := core.NewPlugin(core.PluginSpec{Name: "s", Kind: "builtin/secrets_detection", Config: map[string]any{"redact": true, "block_on_detection": false}})
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, doc string) {
		var result any
		if json.Unmarshal([]byte(doc), &result) != nil {
			return
		}
		payload := map[string]any{"name": "t", "result": result}
		before, _ := json.Marshal(payload)
		for _, p := range []core.Plugin{pii, sec} {
			r, err := p.Invoke(context.Background(), "tool_post_invoke", core.NewPayloadValue(payload), &core.PluginContext{})
			if err != nil {
				return // a limit (depth, size) was exceeded: a clean error is fine
			}
			if after, _ := json.Marshal(payload); string(after) != string(before) {
				t.Fatalf("input mutated: %s -> %s", before, after)
			}
			if r != nil && r.ModifiedPayload != nil {
				if _, err := json.Marshal(r.ModifiedPayload); err != nil {
					t.Fatalf("modified payload is not JSON: %v", err)
				}
				if r.Metadata == nil {
					t.Fatal("a change without metadata")
				}
			}
		}
	})
}
