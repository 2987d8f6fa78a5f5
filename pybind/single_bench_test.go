package pybind

import (
	"encoding/json"
	"testing"
)

// BenchmarkGoPluginInvokePII: one GoPluginInvoke of the PII filter as the gateway
// profile configures it, on its tool_pre_invoke sample (bench/gateway_profile.py).
func BenchmarkGoPluginInvokePII(b *testing.B) {
	id, err := GoPluginNew(`{"name":"PIIFilterPlugin","kind":"builtin/pii_filter","hooks":["tool_pre_invoke"],"config":{"detect_ssn":true,"detect_credit_card":true,"detect_email":true,"detect_phone":false,"detect_ip_address":false,"default_mask_strategy":"partial","redaction_text":"[PII_REDACTED]","block_on_detection":false,"log_detections":false,"include_detection_details":true,"whitelist_patterns":["test@example.com","555-555-5555"]}}`)
	if err != nil {
		b.Fatal(err)
	}
	payload := `{"name":"search_tool","args":{"query":"search for crap information","limit":10,"filter":"type:document","user_email":"user@example.com"},"headers":null}`
	facts := `{"rid":"r","server_id":"s","tenant_id":null,"content_type":null,"user":{"keys":["email","is_admin"]},"timeout":30}`
	b.ReportAllocs()
	for b.Loop() {
		if _, err := GoPluginInvoke(id, "tool_pre_invoke", payload, facts); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkRunSingleReport: the one crossing of a single call whose outcome is not plain
// (here a modified payload), as the PII filter's on invoke_hook_for_plugin.
func BenchmarkRunSingleReport(b *testing.B) {
	exec, _ := ExecutorNew(`{"timeout": 30}`)
	ref, _ := RefRegister(refInfoDoc("p", "sequential", "ignore", 1, 0))
	ans, _ := SingleRule(exec, ref, `{"vexc":false,"merge":false,"meta":false,"trace":false,"hook":"prompt_post_fetch"}`)
	var r struct{ Rule int }
	_ = json.Unmarshal([]byte(ans), &r)
	outcome := `{"i":0,"st":"ok","cont":true,"ret":"same","ext":0,"viol":null,"retry":0,"dur":12000,"cur":false}`
	b.ReportAllocs()
	for b.Loop() {
		if _, err := RunSingleReport(r.Rule, outcome); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkRunSinglePlain: the crossing of a plain single call while metrics are on.
func BenchmarkRunSinglePlain(b *testing.B) {
	exec, _ := ExecutorNew(`{"timeout": 30}`)
	_, _ = ExecutorMetrics(exec, 1)
	ref, _ := RefRegister(refInfoDoc("p", "sequential", "ignore", 1, 0))
	ans, _ := SingleRule(exec, ref, `{"hook":"tool_pre_invoke"}`)
	var r struct{ Rule int }
	_ = json.Unmarshal([]byte(ans), &r)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := RunSinglePlain(r.Rule, 12000); err != nil {
			b.Fatal(err)
		}
	}
}
