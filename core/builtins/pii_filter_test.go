package builtins

import (
	"context"
	"errors"
	"log/slog"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/cpex-go/cpex/core"
)

func newTestPII(t *testing.T, cfg map[string]any, hooks ...string) core.Plugin {
	t.Helper()
	p, err := core.NewPlugin(core.PluginSpec{Name: "pii", Kind: "builtin/pii_filter", Hooks: hooks, Config: cfg})
	require.NoError(t, err)
	return p
}

func invokeJSON(t *testing.T, p core.Plugin, hook, payload string) *core.Result {
	t.Helper()
	r, err := p.Invoke(context.Background(), hook, core.NewPayloadJSON([]byte(payload)), &core.PluginContext{})
	require.NoError(t, err)
	return r
}

func TestPIIFilterRegistered(t *testing.T) {
	assert.Contains(t, core.FactoryKinds(), "builtin/pii_filter")
}

func TestPIIFilterMasksNestedToolArgs(t *testing.T) {
	p := newTestPII(t, nil)
	in := map[string]any{
		"name": "send 555-123-4567", // the tool name is not content: never touched
		"args": map[string]any{
			"to":    "alice@example.com",
			"notes": []any{"SSN 123-45-6789", 42.0, true, nil, map[string]any{"card": "4111 1111 1111 1111"}},
			"clean": "nothing here",
		},
	}
	r, err := p.Invoke(context.Background(), "tool_pre_invoke", core.NewPayloadValue(in), &core.PluginContext{})
	require.NoError(t, err)
	require.NotNil(t, r)
	assert.False(t, r.Block)
	out := r.ModifiedPayload.(map[string]any)
	args := out["args"].(map[string]any)
	assert.Equal(t, "send 555-123-4567", out["name"])
	assert.Equal(t, "[REDACTED]", args["to"])
	notes := args["notes"].([]any)
	assert.Equal(t, "SSN [REDACTED]", notes[0])
	assert.Equal(t, 42.0, notes[1])
	assert.Equal(t, "[REDACTED]", notes[4].(map[string]any)["card"])
	assert.Equal(t, "nothing here", args["clean"])
	// the input tree is shared with other plugins: it must be untouched
	assert.Equal(t, "alice@example.com", in["args"].(map[string]any)["to"])
	assert.Equal(t, "SSN 123-45-6789", in["args"].(map[string]any)["notes"].([]any)[0])

	md := r.Metadata["pii_filter"].(map[string]any)
	assert.Equal(t, 3, md["total_detections"])
	assert.Equal(t, 3, md["total_masked"])
	assert.Equal(t, []string{"credit_card", "email", "ssn"}, md["detection_types"])
	assert.Equal(t, "tool_pre_invoke", md["stage"])
	assert.NotContains(t, r.Metadata, "pii_detections", "details only with include_detection_details")
}

func TestPIIFilterHooksAndFields(t *testing.T) {
	p := newTestPII(t, nil)
	tests := []struct {
		hook, payload, field string
	}{
		{"prompt_pre_fetch", `{"prompt_id":"p","args":{"q":"mail bob@example.org"}}`, "args"},
		{"prompt_post_fetch", `{"prompt_id":"p","result":{"messages":[{"role":"user","content":{"type":"text","text":"mail bob@example.org"}}]}}`, "result"},
		{"tool_post_invoke", `{"name":"t","result":{"content":[{"type":"text","text":"mail bob@example.org"}],"isError":false}}`, "result"},
		{"resource_post_fetch", `{"uri":"file:///x","content":{"text":"mail bob@example.org"}}`, "content"},
		{"agent_pre_invoke", `{"agent_id":"a","messages":[{"role":"user","content":"mail bob@example.org"}]}`, "messages"},
	}
	for _, tc := range tests {
		t.Run(tc.hook, func(t *testing.T) {
			r := invokeJSON(t, p, tc.hook, tc.payload)
			require.NotNil(t, r)
			out := r.ModifiedPayload.(map[string]any)
			found := false
			VisitStrings(out[tc.field], func(_ []string, s string) bool {
				if strings.HasPrefix(s, "mail ") {
					assert.Equal(t, "mail [REDACTED]", s)
					found = true
				}
				return true
			})
			assert.True(t, found)
		})
	}
	assert.Nil(t, invokeJSON(t, p, "tool_pre_invoke", `{"name":"t","args":{"q":"clean text"}}`), "no finding: no result")
	assert.Nil(t, invokeJSON(t, p, "tool_pre_invoke", `{"name":"t"}`), "absent field")
}

func TestPIIFilterMaskStrategies(t *testing.T) {
	text := "SSN 123-45-6789 card 4111-1111-1111-1111 mail john.doe@example.com tel 555-123-4567 ip 10.0.0.1"
	tests := []struct {
		strategy string
		want     *regexp.Regexp
	}{
		{"redact", regexp.MustCompile(`^SSN <X> card <X> mail <X> tel <X> ip <X>$`)},
		{"partial", regexp.MustCompile(`^SSN \*\*\*-\*\*-6789 card \*\*\*\*-\*\*\*\*-\*\*\*\*-1111 mail j\*\*\*e@example\.com tel \*\*\*-\*\*\*-4567 ip 1\*\*\*\*\*\*1$`)},
		{"hash", regexp.MustCompile(`^SSN \[HASH:[0-9a-f]{16}\] card \[HASH:[0-9a-f]{16}\] mail \[HASH:[0-9a-f]{16}\] tel \[HASH:[0-9a-f]{16}\] ip \[HASH:[0-9a-f]{16}\]$`)},
		{"tokenize", regexp.MustCompile(`^SSN \[TOKEN:[0-9a-f]{8}\] card \[TOKEN:[0-9a-f]{8}\] mail \[TOKEN:[0-9a-f]{8}\] tel \[TOKEN:[0-9a-f]{8}\] ip \[TOKEN:[0-9a-f]{8}\]$`)},
		{"remove", regexp.MustCompile(`^SSN  card  mail  tel  ip $`)},
	}
	for _, tc := range tests {
		t.Run(tc.strategy, func(t *testing.T) {
			p := newTestPII(t, map[string]any{"default_mask_strategy": tc.strategy, "redaction_text": "<X>"})
			r := invokeJSON(t, p, "tool_pre_invoke", `{"name":"t","args":{"q":"`+text+`"}}`)
			got := r.ModifiedPayload.(map[string]any)["args"].(map[string]any)["q"].(string)
			assert.Regexp(t, tc.want, got)
		})
	}
}

func TestPIIFilterHashStableTokenFresh(t *testing.T) {
	run := func(p core.Plugin) []string {
		r := invokeJSON(t, p, "tool_pre_invoke", `{"name":"t","args":{"a":"x@y.io","b":"x@y.io","c":"z@y.io"}}`)
		a := r.ModifiedPayload.(map[string]any)["args"].(map[string]any)
		return []string{a["a"].(string), a["b"].(string), a["c"].(string)}
	}
	h := run(newTestPII(t, map[string]any{"default_mask_strategy": "hash"}))
	assert.Equal(t, h[0], h[1], "same value, same hash within an instance")
	assert.NotEqual(t, h[0], h[2])
	tok := run(newTestPII(t, map[string]any{"default_mask_strategy": "tokenize"}))
	assert.NotEqual(t, tok[0], tok[1], "tokens are per occurrence")
}

func TestPIIFilterCustomPatternStrategy(t *testing.T) {
	p := newTestPII(t, map[string]any{
		"default_mask_strategy": "redact",
		"custom_patterns": []any{
			map[string]any{"pattern": `\bEMP\d{6}\b`, "description": "Employee ID", "mask_strategy": "partial"},
			map[string]any{"pattern": `\bPRJ-\d+\b`, "description": "Project", "mask_strategy": nil},
		},
	})
	r := invokeJSON(t, p, "tool_pre_invoke", `{"name":"t","args":{"q":"EMP123456 on PRJ-77"}}`)
	assert.Equal(t, "E*******6 on [REDACTED]", r.ModifiedPayload.(map[string]any)["args"].(map[string]any)["q"])
	assert.Equal(t, []string{"custom"}, r.Metadata["pii_filter"].(map[string]any)["detection_types"])
}

func TestPIIFilterBlockOnDetection(t *testing.T) {
	p := newTestPII(t, map[string]any{"block_on_detection": true, "include_detection_details": true})
	tests := []struct{ hook, payload, code string }{
		{"prompt_pre_fetch", `{"prompt_id":"p","args":{"q":"123-45-6789"}}`, "PII_DETECTED"},
		{"prompt_post_fetch", `{"prompt_id":"p","result":{"messages":[{"content":{"text":"123-45-6789"}}]}}`, "PII_DETECTED_IN_PROMPT_RESULT"},
		{"tool_pre_invoke", `{"name":"t","args":{"q":["123-45-6789","a@b.io"]}}`, "PII_DETECTED_IN_TOOL_ARGS"},
		{"tool_post_invoke", `{"name":"t","result":"123-45-6789"}`, "PII_DETECTED_IN_TOOL_RESULT"},
	}
	for _, tc := range tests {
		t.Run(tc.hook, func(t *testing.T) {
			r := invokeJSON(t, p, tc.hook, tc.payload)
			require.NotNil(t, r)
			assert.True(t, r.Block)
			assert.Nil(t, r.ModifiedPayload)
			require.NotNil(t, r.Violation)
			assert.Equal(t, tc.code, r.Violation.Code)
			assert.NotEmpty(t, r.Violation.Reason)
			assert.NotEmpty(t, r.Violation.Description)
			assert.Contains(t, r.Violation.Details["detected_types"], "ssn")
			assert.Contains(t, r.Metadata, "pii_detections")
			assert.Equal(t, 0, r.Metadata["pii_filter"].(map[string]any)["total_masked"])
			// the raw value never appears in the violation or metadata
			assert.NotContains(t, fmtAny(r.Violation.Details)+fmtAny(r.Metadata), "6789")
		})
	}
	r := invokeJSON(t, p, "tool_pre_invoke", `{"name":"t","args":{"q":"123-45-6789 and a@b.io"}}`)
	assert.Equal(t, 2, r.Violation.Details["count"])
	assert.Equal(t, map[string]any{"tool_pre_invoke": map[string]any{"email": 1, "ssn": 1}}, r.Metadata["pii_detections"])
}

func fmtAny(v any) string {
	var b strings.Builder
	VisitStrings(v, func(_ []string, s string) bool { b.WriteString(s); return true })
	return b.String()
}

func TestPIIFilterWhitelistFromGatewayConfig(t *testing.T) {
	// the active entry of the gateway's plugins/config.yaml, with only `kind` changed
	p := newTestPII(t, map[string]any{
		"detect_ssn": true, "detect_credit_card": true, "detect_email": true, "detect_phone": false,
		"detect_ip_address": false, "default_mask_strategy": "partial", "redaction_text": "[PII_REDACTED]",
		"block_on_detection": false, "log_detections": true, "include_detection_details": true,
		"whitelist_patterns": []any{"test@example.com", "555-555-5555"},
	}, "prompt_pre_fetch", "prompt_post_fetch", "tool_pre_invoke", "tool_post_invoke")
	r := invokeJSON(t, p, "tool_pre_invoke", `{"name":"t","args":{"a":"test@example.com","b":"10.0.0.1 555-555-5555","c":"mary@corp.io"}}`)
	args := r.ModifiedPayload.(map[string]any)["args"].(map[string]any)
	assert.Equal(t, "test@example.com", args["a"])
	assert.Equal(t, "10.0.0.1 555-555-5555", args["b"])
	assert.Equal(t, "m***y@corp.io", args["c"])
}

func TestPIIFilterLimits(t *testing.T) {
	p := newTestPII(t, map[string]any{"max_text_bytes": 8, "max_nested_depth": 2, "max_collection_items": 3})
	tests := []struct{ payload, want string }{
		{`{"name":"t","args":{"a":"123456789"}}`, "pii_filter: args.a is 9 bytes, over max_text_bytes (8)"},
		{`{"name":"t","args":{"a":{"b":{"c":"x"}}}}`, "pii_filter: args.a.b is nested 3 deep, over max_nested_depth (2)"},
		{`{"name":"t","args":{"a":[1,2,3,4]}}`, "pii_filter: args.a has 4 items, over max_collection_items (3)"},
	}
	for _, tc := range tests {
		_, err := p.Invoke(context.Background(), "tool_pre_invoke", core.NewPayloadJSON([]byte(tc.payload)), &core.PluginContext{})
		require.Error(t, err)
		assert.Equal(t, tc.want, err.Error())
	}
	r := invokeJSON(t, p, "tool_pre_invoke", `{"name":"t","args":{"a":"x@y.io"}}`)
	require.NotNil(t, r)
}

func TestPIIFilterHonoursCancelledContext(t *testing.T) {
	p := newTestPII(t, nil)
	args := map[string]any{}
	for i := 0; i < 200; i++ {
		args[strings.Repeat("k", i+1)] = "a@b.io"
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := p.Invoke(ctx, "tool_pre_invoke", core.NewPayloadValue(map[string]any{"name": "t", "args": args}), &core.PluginContext{})
	assert.ErrorIs(t, err, context.Canceled)
}

func TestPIIFilterBadPayload(t *testing.T) {
	p := newTestPII(t, nil)
	_, err := p.Invoke(context.Background(), "tool_pre_invoke", core.NewPayloadJSON([]byte(`{"name":`)), &core.PluginContext{})
	assert.ErrorContains(t, err, "pii_filter: payload is not JSON")
	r, err := p.Invoke(context.Background(), "tool_pre_invoke", core.NewPayloadJSON([]byte(`"a@b.io"`)), &core.PluginContext{})
	assert.NoError(t, err)
	assert.Nil(t, r, "a non-object payload has no content fields")
}

func TestPIIFilterConfigErrors(t *testing.T) {
	tests := []struct {
		name  string
		cfg   map[string]any
		hooks []string
		want  string
	}{
		{"unknown key", map[string]any{"detect_ssns": true}, nil, `config key "detect_ssns" (value true): unknown key`},
		{"ill typed flag", map[string]any{"detect_email": "yes"}, nil, `config key "detect_email" (value "yes"): expected a boolean, got a string`},
		{"bad strategy", map[string]any{"default_mask_strategy": "shred"}, nil, `config key "default_mask_strategy" (value "shred"): must be one of redact, partial, hash, tokenize, remove`},
		{"redaction text type", map[string]any{"redaction_text": 5}, nil, `config key "redaction_text" (value 5): expected a string`},
		{"max text bytes zero", map[string]any{"max_text_bytes": 0}, nil, `config key "max_text_bytes" (value 0): must be between 1 and 104857600`},
		{"nested depth too big", map[string]any{"max_nested_depth": 1001}, nil, `config key "max_nested_depth" (value 1001): must be between 1 and 1000`},
		{"collection items type", map[string]any{"max_collection_items": "many"}, nil, `config key "max_collection_items" (value "many"): expected an integer`},
		{"whitelist not a list", map[string]any{"whitelist_patterns": "x"}, nil, `config key "whitelist_patterns" (value "x"): expected a list of strings`},
		{"whitelist bad regex", map[string]any{"whitelist_patterns": []any{"ok", "(unclosed"}}, nil, `config key "whitelist_patterns[1]" (value "(unclosed"): invalid regular expression`},
		{"custom missing pattern", map[string]any{"custom_patterns": []any{map[string]any{"description": "d"}}}, nil, `config key "custom_patterns[0].pattern" (value ""): is required`},
		{"custom bad regex", map[string]any{"custom_patterns": []any{map[string]any{"pattern": "a(", "description": "d"}}}, nil, `config key "custom_patterns[0].pattern" (value "a("): invalid regular expression`},
		{"custom bad strategy", map[string]any{"custom_patterns": []any{map[string]any{"pattern": "a", "mask_strategy": "x"}}}, nil, `config key "custom_patterns[0].mask_strategy" (value "x")`},
		{"custom field ill typed", map[string]any{"custom_patterns": []any{map[string]any{"pattern": 5}}}, nil, `config key "custom_patterns" (value [{"pattern":5}]): expected a list of mappings: field "pattern" must be a string, got a number`},
		{"custom unknown field", map[string]any{"custom_patterns": []any{map[string]any{"pattern": "a", "colour": "x"}}}, nil, `config key "custom_patterns"`},
		{"unsupported hook", nil, []string{"tool_pre_invoke", "http_pre_request"}, `hook "http_pre_request" is not supported by builtin/pii_filter`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := core.NewPlugin(core.PluginSpec{Name: "pii", Kind: "builtin/pii_filter", Hooks: tc.hooks, Config: tc.cfg})
			require.Error(t, err)
			assert.Contains(t, err.Error(), tc.want)
			assert.Contains(t, err.Error(), `plugin "pii"`)
			assert.True(t, errors.Is(err, ErrConfig))
		})
	}
}

func TestPIIFilterEveryConfigKeyAccepted(t *testing.T) {
	cfg := map[string]any{
		"detect_ssn": true, "detect_bsn": true, "detect_credit_card": true, "detect_email": true,
		"detect_phone": true, "detect_ip_address": true, "detect_date_of_birth": true, "detect_passport": true,
		"detect_driver_license": true, "detect_bank_account": true, "detect_medical_record": true,
		"detect_aws_keys": true, "detect_api_keys": true, "default_mask_strategy": "partial",
		"redaction_text": "[X]", "block_on_detection": false, "log_detections": false,
		"include_detection_details": true, "max_text_bytes": 1024, "max_nested_depth": 8,
		"max_collection_items": 100, "whitelist_patterns": []any{"^x$"},
		"custom_patterns": []any{map[string]any{"pattern": "p", "description": "d", "mask_strategy": "hash", "enabled": true}},
	}
	p, err := buildPIIFilter(core.PluginSpec{Name: "pii", Kind: "builtin/pii_filter", Config: cfg})
	require.NoError(t, err)
	assert.Equal(t, maskPartial, p.masker.strategy)
	assert.Equal(t, "[X]", p.masker.redactionText)
	assert.Equal(t, 1024, p.cfg.MaxTextBytes)
	assert.Len(t, p.scanner.custom, 1)
	assert.Equal(t, maskHash, p.scanner.custom[0].strategy)
	assert.Len(t, p.scanner.whitelist, 1)
}

func TestPIIFilterLogDetections(t *testing.T) {
	var buf strings.Builder
	prev := slog.Default()
	slog.SetDefault(slog.New(slog.NewTextHandler(&buf, nil)))
	t.Cleanup(func() { slog.SetDefault(prev) })

	quiet := newTestPII(t, nil)
	invokeJSON(t, quiet, "tool_pre_invoke", `{"name":"t","args":{"a":"x@y.io"}}`)
	assert.Empty(t, buf.String(), "log_detections is off by default")

	loud := newTestPII(t, map[string]any{"log_detections": true})
	invokeJSON(t, loud, "tool_pre_invoke", `{"name":"t","args":{"a":"x@y.io","b":"123-45-6789"}}`)
	out := buf.String()
	assert.Contains(t, out, "PII detected")
	assert.Contains(t, out, "stage=tool_pre_invoke")
	assert.Contains(t, out, "action=masked")
	assert.Contains(t, out, "total=2")
	assert.Contains(t, out, "types=email,ssn")
	assert.NotContains(t, out, "x@y.io")
	assert.NotContains(t, out, "6789")
}
