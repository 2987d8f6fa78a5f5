package pybind

import (
	"encoding/json"
	"testing"
)

// The gateway profile's Go built-ins (bench/configs/gateway_profile_builtin.yaml) on its
// small samples (bench/gateway_profile.py), through GoPluginSingle as
// invoke_hook_for_plugin calls them: the fixed per-call costs show here.

const (
	gpPIISpec     = `{"name":"PIIFilterPlugin","kind":"builtin/pii_filter","hooks":["prompt_pre_fetch","tool_pre_invoke"],"config":{"detect_ssn":true,"detect_credit_card":true,"detect_email":true,"detect_phone":false,"detect_ip_address":false,"default_mask_strategy":"partial","redaction_text":"[PII_REDACTED]","block_on_detection":false,"log_detections":false,"include_detection_details":true,"whitelist_patterns":["test@example.com","555-555-5555"]}}`
	gpSecretsSpec = `{"name":"SecretsDetection","kind":"builtin/secrets_detection","hooks":["prompt_pre_fetch","tool_pre_invoke"],"config":{"redact":false,"block_on_detection":true,"min_findings_to_block":1}}`
	gpWordsSpec   = `{"name":"ReplaceBadWordsPlugin","kind":"builtin/regex_replace","hooks":["tool_pre_invoke","tool_post_invoke"],"config":{"words":[{"search":"crap","replace":"crud"},{"search":"crud","replace":"yikes"}]}}`

	gpToolPre   = `{"name":"search_tool","args":{"query":"search for crap information","limit":10,"filter":"type:document","user_email":"user@example.com"},"headers":null}`
	gpPromptPre = `{"prompt_id":"test_prompt","args":{"user":"test_user","query":"What is the capital of France? My email is test@example.com","context":"Additional context with SSN: 123-45-6789 and credit card: 4111-1111-1111-1111"}}`
	gpToolPost  = `{"name":"search_tool","result":{"status":"success","results":[{"title":"Result 1","snippet":"This is crap content with crud data"},{"title":"Result 2","snippet":"Another crud result with sensitive info"}],"count":2,"metadata":{"query_time":0.123,"source":"database"}}}`
	// the facts _goplugin._context_facts writes for the gateway profile's GlobalContext
	// what it sends a plugin that answered "ctx": false (builtins.ContextFree)
	gpTimeoutFacts = `{"timeout":120.0}`
	gpFacts        = `{"rid":"perf-test-request","server_id":"perf-test-server","tenant_id":null,"content_type":null,"user":{"keys":["email","is_admin"],"values":{"email":"admin@example.com","is_admin":true}},"timeout":120.0}`
)

func benchGoSingle(b *testing.B, spec, hook, payload string) {
	benchGoSingleFacts(b, spec, hook, payload, gpFacts)
}

func benchGoSingleFacts(b *testing.B, spec, hook, payload, facts string) {
	id, err := GoPluginNew(spec)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _, _ = GoPluginRelease(id) })
	exec, _ := ExecutorNew(`{"timeout": 120}`)
	_, _ = ExecutorMetrics(exec, 1)
	ref, _ := RefRegister(refInfoDoc("p", "sequential", "ignore", 1, id))
	ans, err := SingleRule(exec, ref, `{"vexc":false,"merge":false,"meta":false,"trace":false,"hook":"`+hook+`"}`)
	if err != nil {
		b.Fatal(err)
	}
	var r struct{ Rule int }
	_ = json.Unmarshal([]byte(ans), &r)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := GoPluginSingle(r.Rule, id, hook, payload, facts); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkGoSinglePIIToolPre(b *testing.B) {
	benchGoSingle(b, gpPIISpec, "tool_pre_invoke", gpToolPre)
}
func BenchmarkGoSinglePIIPromptPre(b *testing.B) {
	benchGoSingle(b, gpPIISpec, "prompt_pre_fetch", gpPromptPre)
}
func BenchmarkGoSingleSecretsToolPre(b *testing.B) {
	benchGoSingle(b, gpSecretsSpec, "tool_pre_invoke", gpToolPre)
}
func BenchmarkGoSingleSecretsPromptPre(b *testing.B) {
	benchGoSingle(b, gpSecretsSpec, "prompt_pre_fetch", gpPromptPre)
}
func BenchmarkGoSingleWordsToolPre(b *testing.B) {
	benchGoSingle(b, gpWordsSpec, "tool_pre_invoke", gpToolPre)
}
func BenchmarkGoSingleWordsToolPost(b *testing.B) {
	benchGoSingle(b, gpWordsSpec, "tool_post_invoke", gpToolPost)
}

// The PII filter as invoke_hook_for_plugin calls it from its second call on: the
// timeout alone as facts.
func BenchmarkGoSinglePIIToolPreTimeoutFacts(b *testing.B) {
	benchGoSingleFacts(b, gpPIISpec, "tool_pre_invoke", gpToolPre, gpTimeoutFacts)
}
