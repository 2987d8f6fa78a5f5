package builtins

import (
	"context"
	"errors"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/cpex-go/cpex/core"
)

func newTestSecrets(t *testing.T, cfg map[string]any, hooks ...string) core.Plugin {
	t.Helper()
	p, err := core.NewPlugin(core.PluginSpec{Name: "sec", Kind: "builtin/secrets_detection", Hooks: hooks, Config: cfg})
	require.NoError(t, err)
	return p
}

const awsLine = "AWS_ACCESS_KEY_ID=AKIAFAKE12345EXAMPLE"

func TestSecretsDetectionRegistered(t *testing.T) {
	assert.Contains(t, core.FactoryKinds(), "builtin/secrets_detection")
}

func TestSecretsDetectionBlocksByDefault(t *testing.T) {
	p := newTestSecrets(t, nil)
	tests := []struct{ hook, payload, description string }{
		{"prompt_pre_fetch", `{"prompt_id":"p","args":{"q":"` + awsLine + `"}}`, "Potential secrets detected in prompt arguments"},
		{"tool_pre_invoke", `{"name":"t","args":{"q":["` + awsLine + `"]}}`, "Potential secrets detected in tool arguments"},
		{"tool_post_invoke", `{"name":"t","result":{"content":[{"type":"text","text":"` + awsLine + `"}]}}`, "Potential secrets detected in tool result"},
		{"resource_post_fetch", `{"uri":"file:///x","content":{"uri":"file:///x","text":"` + awsLine + `"}}`, "Potential secrets detected in resource content"},
		{"prompt_post_fetch", `{"prompt_id":"p","result":{"messages":[{"role":"assistant","content":{"type":"text","text":"` + awsLine + `"}}]}}`, "Potential secrets detected in prompt result"},
		{"agent_pre_invoke", `{"agent_id":"a","messages":[{"role":"user","content":"` + awsLine + `"}]}`, "Potential secrets detected in agent messages"},
		{"agent_post_invoke", `{"agent_id":"a","messages":[],"tool_calls":[{"arguments":{"k":"` + awsLine + `"}}]}`, "Potential secrets detected in agent messages"},
	}
	for _, tc := range tests {
		t.Run(tc.hook, func(t *testing.T) {
			r := invokeJSON(t, p, tc.hook, tc.payload)
			require.NotNil(t, r)
			assert.True(t, r.Block)
			require.NotNil(t, r.Violation)
			assert.Equal(t, "SECRETS_DETECTED", r.Violation.Code)
			assert.Equal(t, "Secrets detected", r.Violation.Reason)
			assert.Equal(t, tc.description, r.Violation.Description)
			assert.Equal(t, 1, r.Violation.Details["count"])
			assert.Equal(t, []any{map[string]any{"type": "aws_access_key_id"}}, r.Violation.Details["examples"])
			assert.Nil(t, r.ModifiedPayload, "redact is off by default")
			md := r.Metadata["secrets_detection"].(map[string]any)
			assert.Equal(t, 1, md["total_blocked"])
			assert.Equal(t, []string{"aws_access_key_id"}, md["secret_types"])
			assert.NotContains(t, fmtAny(r.Violation.Details)+fmtAny(r.Metadata), "AKIAFAKE")
		})
	}
	assert.Nil(t, invokeJSON(t, p, "tool_post_invoke", `{"name":"t","result":"all clear"}`))
}

func TestSecretsDetectionRedact(t *testing.T) {
	p := newTestSecrets(t, map[string]any{"redact": true, "block_on_detection": false, "redaction_text": "[REDACTED]"})
	in := map[string]any{"name": "t", "result": map[string]any{
		"a": awsLine, "b": []any{"ok", "slack xoxb-1234567890-ABCDEFGHIJKL"}, "n": 3.0,
	}}
	r, err := p.Invoke(context.Background(), "tool_post_invoke", core.NewPayloadValue(in), &core.PluginContext{})
	require.NoError(t, err)
	require.NotNil(t, r)
	assert.False(t, r.Block)
	res := r.ModifiedPayload.(map[string]any)["result"].(map[string]any)
	assert.Equal(t, "AWS_ACCESS_KEY_ID=[REDACTED]", res["a"])
	assert.Equal(t, []any{"ok", "slack [REDACTED]"}, res["b"])
	assert.Equal(t, awsLine, in["result"].(map[string]any)["a"], "input untouched")
	md := r.Metadata["secrets_detection"].(map[string]any)
	assert.Equal(t, 2, md["total_detections"])
	assert.Equal(t, 2, md["total_masked"])
	assert.Equal(t, 0, md["total_blocked"])
	assert.Equal(t, []string{"aws_access_key_id", "slack_token"}, md["secret_types"])
}

func TestSecretsDetectionReportOnly(t *testing.T) {
	p := newTestSecrets(t, map[string]any{"block_on_detection": false})
	r := invokeJSON(t, p, "tool_post_invoke", `{"name":"t","result":"`+awsLine+`"}`)
	require.NotNil(t, r)
	assert.False(t, r.Block)
	assert.Nil(t, r.ModifiedPayload)
	md := r.Metadata["secrets_detection"].(map[string]any)
	assert.Equal(t, 1, md["total_detections"])
	assert.Equal(t, 0, md["total_masked"])
}

func TestSecretsDetectionThreshold(t *testing.T) {
	p := newTestSecrets(t, map[string]any{"min_findings_to_block": 2, "redact": true, "redaction_text": "[R]"})
	one := invokeJSON(t, p, "tool_pre_invoke", `{"name":"t","args":{"a":"`+awsLine+`"}}`)
	assert.False(t, one.Block, "one finding is under the threshold: redacted, not blocked")
	assert.Equal(t, "AWS_ACCESS_KEY_ID=[R]", one.ModifiedPayload.(map[string]any)["args"].(map[string]any)["a"])
	two := invokeJSON(t, p, "tool_pre_invoke", `{"name":"t","args":{"a":"`+awsLine+`","b":"`+awsLine+`"}}`)
	assert.True(t, two.Block)
	assert.Equal(t, 2, two.Violation.Details["count"])
	assert.NotNil(t, two.ModifiedPayload, "with redact, a block also carries the redacted payload")
}

func TestSecretsDetectionEnabledMap(t *testing.T) {
	p := newTestSecrets(t, map[string]any{"enabled": map[string]any{"aws_access_key_id": false, "jwt_like": true}})
	assert.Nil(t, invokeJSON(t, p, "tool_post_invoke", `{"name":"t","result":"`+awsLine+`"}`))
	r := invokeJSON(t, p, "tool_post_invoke", `{"name":"t","result":"eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N"}`)
	require.NotNil(t, r)
	assert.Equal(t, []string{"jwt_like"}, r.Metadata["secrets_detection"].(map[string]any)["secret_types"])
	// detectors not named keep their defaults
	r = invokeJSON(t, p, "tool_post_invoke", `{"name":"t","result":"xoxb-1234567890-ABCDEFGHIJKL"}`)
	require.NotNil(t, r)
}

func TestSecretsDetectionFieldLists(t *testing.T) {
	p := newTestSecrets(t, map[string]any{
		"redact": true, "block_on_detection": false, "redaction_text": "[R]",
		"field_allowlist": []any{"layer1", "accounts.credentials"},
		"field_denylist":  []any{"layer1.public", "accounts.credentials.test_token"},
	})
	payload := `{"name":"t","args":{
		"layer1":{"a":"` + awsLine + `","public":{"b":"` + awsLine + `"}},
		"accounts":{"credentials":{"token":"` + awsLine + `","test_token":"` + awsLine + `","list":["` + awsLine + `"]},"other":"` + awsLine + `"},
		"top":"` + awsLine + `"}}`
	r := invokeJSON(t, p, "tool_pre_invoke", payload)
	require.NotNil(t, r)
	args := r.ModifiedPayload.(map[string]any)["args"].(map[string]any)
	l1 := args["layer1"].(map[string]any)
	assert.Equal(t, "AWS_ACCESS_KEY_ID=[R]", l1["a"])
	assert.Equal(t, awsLine, l1["public"].(map[string]any)["b"], "denied")
	cred := args["accounts"].(map[string]any)["credentials"].(map[string]any)
	assert.Equal(t, "AWS_ACCESS_KEY_ID=[R]", cred["token"])
	assert.Equal(t, awsLine, cred["test_token"], "denied")
	assert.Equal(t, []any{"AWS_ACCESS_KEY_ID=[R]"}, cred["list"], "list items inherit their list's path")
	assert.Equal(t, awsLine, args["accounts"].(map[string]any)["other"], "not allowed")
	assert.Equal(t, awsLine, args["top"], "not allowed")
	assert.Equal(t, 3, r.Metadata["secrets_detection"].(map[string]any)["total_detections"])

	// a plain-string field is always scanned
	r = invokeJSON(t, p, "tool_post_invoke", `{"name":"t","result":"`+awsLine+`"}`)
	require.NotNil(t, r)
	assert.Equal(t, "AWS_ACCESS_KEY_ID=[R]", r.ModifiedPayload.(map[string]any)["result"])
}

func TestSecretsDetectionConfigErrors(t *testing.T) {
	tests := []struct {
		name  string
		cfg   map[string]any
		hooks []string
		want  string
	}{
		{"unknown key", map[string]any{"redaction": "x"}, nil, `config key "redaction" (value "x"): unknown key`},
		{"unknown detector", map[string]any{"enabled": map[string]any{"openai_key": true}}, nil, `config key "enabled.openai_key" (value true): unknown detector`},
		{"detector flag type", map[string]any{"enabled": map[string]any{"jwt_like": "yes"}}, nil, `config key "enabled"`},
		{"enabled not a map", map[string]any{"enabled": []any{"jwt_like"}}, nil, `config key "enabled" (value ["jwt_like"]): expected a mapping, got a list`},
		{"redact type", map[string]any{"redact": "true"}, nil, `config key "redact" (value "true"): expected a boolean`},
		{"redaction text type", map[string]any{"redaction_text": []any{}}, nil, `config key "redaction_text"`},
		{"block type", map[string]any{"block_on_detection": 1}, nil, `config key "block_on_detection" (value 1): expected a boolean`},
		{"min findings zero", map[string]any{"min_findings_to_block": 0}, nil, `config key "min_findings_to_block" (value 0): must be at least 1`},
		{"min findings float", map[string]any{"min_findings_to_block": 1.5}, nil, `config key "min_findings_to_block" (value 1.5): expected an integer`},
		{"allowlist empty path", map[string]any{"field_allowlist": []any{" "}}, nil, `config key "field_allowlist[0]" (value " "): must not be empty`},
		{"denylist dotted edge", map[string]any{"field_denylist": []any{".token"}}, nil, `config key "field_denylist[0]" (value ".token"): must not start or end with '.'`},
		{"denylist empty segment", map[string]any{"field_denylist": []any{"a..b"}}, nil, `must not contain empty or whitespace-only segments`},
		{"allowlist not strings", map[string]any{"field_allowlist": []any{1}}, nil, `config key "field_allowlist" (value [1]): expected a list of strings: an item must be a string, got a number`},
		{"unsupported hook", nil, []string{"resource_pre_fetch"}, `hook "resource_pre_fetch" is not supported by builtin/secrets_detection`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := core.NewPlugin(core.PluginSpec{Name: "sec", Kind: "builtin/secrets_detection", Hooks: tc.hooks, Config: tc.cfg})
			require.Error(t, err)
			assert.Contains(t, err.Error(), tc.want)
			assert.True(t, errors.Is(err, ErrConfig))
		})
	}
}

func TestSecretsDetectionGatewayConfig(t *testing.T) {
	// the gateway's plugins/config.yaml entry, with only `kind` changed
	p := newTestSecrets(t, map[string]any{
		"enabled": map[string]any{
			"aws_access_key_id": true, "aws_secret_access_key": true, "google_api_key": true, "slack_token": true,
			"private_key_block": true, "jwt_like": true, "hex_secret_32": true, "base64_24": false,
		},
		"redact": false, "redaction_text": "***REDACTED***", "block_on_detection": true, "min_findings_to_block": 1,
	}, "prompt_pre_fetch", "tool_post_invoke", "resource_post_fetch")
	r := invokeJSON(t, p, "resource_post_fetch", `{"uri":"u","content":{"text":"token 0123456789abcdef0123456789abcdef"}}`)
	require.NotNil(t, r)
	assert.True(t, r.Block)
	assert.Equal(t, []string{"hex_secret_32"}, r.Metadata["secrets_detection"].(map[string]any)["secret_types"])
}

func TestSecretsDetectionCancelledAndBadPayload(t *testing.T) {
	p := newTestSecrets(t, nil)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	args := map[string]any{}
	for i := 0; i < 100; i++ {
		args[string(rune('a'+i%26))+string(rune('a'+i/26))] = awsLine
	}
	_, err := p.Invoke(ctx, "tool_pre_invoke", core.NewPayloadValue(map[string]any{"name": "t", "args": args}), &core.PluginContext{})
	assert.ErrorIs(t, err, context.Canceled)
	_, err = p.Invoke(context.Background(), "tool_pre_invoke", core.NewPayloadJSON([]byte(`{`)), &core.PluginContext{})
	assert.ErrorContains(t, err, "secrets_detection: payload is not JSON")
}
