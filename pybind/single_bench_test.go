package pybind

import "testing"

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
