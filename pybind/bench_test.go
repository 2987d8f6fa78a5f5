package pybind

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/cpex-go/cpex/core"
	"github.com/cpex-go/cpex/internal/wirejson"
)

// BenchmarkRunGoTenNoops: a Python run of ten Go no-op plugins (RunStart, one go step).
func BenchmarkRunGoTenNoops(b *testing.B) {
	exec := mustExec(b)
	goID, _ := GoPluginNew(`{"name":"g","kind":"builtin/noop"}`)
	ids := make([]string, 10)
	for i := range ids {
		ids[i] = fmt.Sprint(mustRef(b, fmt.Sprint("g", i), "sequential", "fail", i+1, goID))
	}
	ans, _ := PlanGet(exec, "tool_pre_invoke", strings.Join(ids, ","), "null")
	plan := int(decode(b, ans)["plan"].(float64))
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		step, err := RunStart(plan, plainFacts)
		if err != nil {
			b.Fatal(err)
		}
		run := 0
		for _, c := range step[len(`{"run":`):] {
			if c < '0' || c > '9' {
				break
			}
			run = run*10 + int(c-'0')
		}
		if _, err := RunGo(run, `{"name":"search","args":{"q":"x"},"headers":null}`); err != nil {
			b.Fatal(err)
		}
	}
}

// s4Words and s4Findings mirror bench/scenarios.py's S4 payload: filler prose with a
// finding (PII, secrets, words to replace) every few dozen words.
var s4Words = strings.Fields("the report lists quarterly figures for each region and the analysts compare them " +
	"with last year while the team prepares a summary for the board meeting next week " +
	"customers asked about delivery times invoices and the new pricing model")

var s4Findings = []string{
	"contact alice.smith@example.com for details",
	"call +1 (415) 555-0132 tomorrow",
	"SSN 123-45-6789 on file",
	"card 4111 1111 1111 1111 exp 12/29",
	"server at 10.12.0.7 is slow",
	"key AKIAIOSFODNN7EXAMPLE was rotated",
	"aws_secret_access_key=wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
	"slack xoxb-123456789012-1234567890123-AbCdEfGhIjKlMnOpQrStUvWx",
	"this is crap and darn annoying",
}

// s4PayloadJSON is the tool_pre_invoke payload of scenario S4 as Python sends it to
// RunGo: about 16 KB of string content in nested args.
func s4PayloadJSON(tb testing.TB) string {
	rng := rand.New(rand.NewPCG(20261128, 1))
	text := func(size, every int) string {
		var b strings.Builder
		for n := 1; b.Len() < size; n++ {
			if b.Len() > 0 {
				b.WriteByte(' ')
			}
			if n%every == 0 {
				b.WriteString(s4Findings[rng.IntN(len(s4Findings))])
			} else {
				b.WriteString(s4Words[rng.IntN(len(s4Words))])
			}
		}
		return b.String()[:size]
	}
	docs := make([]any, 4)
	for i := range docs {
		docs[i] = text(2048, 30)
	}
	payload := map[string]any{
		"name": "ingest_documents",
		"args": map[string]any{
			"query":     text(4096, 40),
			"documents": docs,
			"metadata":  map[string]any{"notes": text(4096, 35), "author": "bench@example.com", "pages": 12},
			"limit":     10,
		},
		"headers": nil,
	}
	b, err := json.Marshal(payload)
	if err != nil {
		tb.Fatal(err)
	}
	return string(b)
}

// s4Plan registers the four S4 guards (bench/configs/s4_guards_builtin.yaml) as Go
// plugins behind Python refs and answers the plan id of tool_pre_invoke.
func s4Plan(tb testing.TB) int { return s4PlanPolicy(tb, "null") }

// s4PlanPolicy is s4Plan with a hook policy (a JSON list of writable fields, or "null").
func s4PlanPolicy(tb testing.TB, policy string) int {
	exec := mustExec(tb)
	specs := []string{
		`{"name":"pii_filter","kind":"builtin/pii_filter","hooks":["tool_pre_invoke"],"config":{` +
			`"detect_ssn":true,"detect_credit_card":true,"detect_email":true,"detect_phone":true,` +
			`"detect_ip_address":true,"detect_aws_keys":true,"detect_api_keys":true,"detect_bsn":false,` +
			`"detect_date_of_birth":false,"detect_passport":false,"detect_driver_license":false,` +
			`"detect_bank_account":false,"detect_medical_record":false,"default_mask_strategy":"redact",` +
			`"redaction_text":"[REDACTED]"}}`,
		`{"name":"secrets_detection","kind":"builtin/secrets_detection","hooks":["tool_pre_invoke"],"config":{` +
			`"redact":true,"redaction_text":"***REDACTED***","block_on_detection":false}}`,
		`{"name":"regex_replace","kind":"builtin/regex_replace","hooks":["tool_pre_invoke"],"config":{"words":[` +
			`{"search":"crap","replace":"crud"},{"search":"darn","replace":"[filtered]"},{"search":"\\bdamn\\b","replace":"d***"}]}}`,
		`{"name":"deny_list","kind":"builtin/deny_list","hooks":["tool_pre_invoke"],"config":{` +
			`"words":["forbidden_term","DROP TABLE","rm -rf /","jailbreak_prompt"]}}`,
	}
	ids := make([]string, len(specs))
	for i, spec := range specs {
		goID, err := GoPluginNew(spec)
		if err != nil {
			tb.Fatal(err)
		}
		tb.Cleanup(func() { _, _ = GoPluginRelease(goID) })
		ids[i] = fmt.Sprint(mustRef(tb, fmt.Sprint("guard", i), "sequential", "fail", (i+1)*10, goID))
	}
	ans, err := PlanGet(exec, "tool_pre_invoke", strings.Join(ids, ","), policy)
	if err != nil {
		tb.Fatal(err)
	}
	return int(decode(tb, ans)["plan"].(float64))
}

// runIDOf reads the run id at the start of a step answer.
func runIDOf(step string) int {
	run := 0
	for _, c := range step[len(`{"run":`):] {
		if c < '0' || c > '9' {
			break
		}
		run = run*10 + int(c-'0')
	}
	return run
}

// BenchmarkPybindGuards16KB replays scenario S4 as Python drives it: RunStart, then
// RunGo with the 16 KB payload through pii_filter, secrets_detection, regex_replace and
// deny_list, answered with the modified payload as the answer's second frame.
func BenchmarkPybindGuards16KB(b *testing.B) {
	plan := s4Plan(b)
	payload := s4PayloadJSON(b)
	b.SetBytes(int64(len(payload)))
	b.ReportAllocs()
	for b.Loop() {
		step, err := RunStart(plan, plainFacts)
		if err != nil {
			b.Fatal(err)
		}
		ans, err := RunGo(runIDOf(step), payload)
		if err != nil {
			b.Fatal(err)
		}
		if !strings.Contains(ans, `"effects":{"payload":true`) {
			b.Fatalf("the guards did not modify the payload: %.300s", ans)
		}
	}
}

// BenchmarkS4PayloadDecode: the two halves of RunGo's own cost on the S4 payload, each
// beside the encoding/json path it replaced: validating and decoding the payload Python
// sends, and writing the new tree as the answer's payload frame.
func BenchmarkS4PayloadDecode(b *testing.B) {
	raw := []byte(s4PayloadJSON(b))
	b.Run("core", func(b *testing.B) {
		b.SetBytes(int64(len(raw)))
		b.ReportAllocs()
		for b.Loop() {
			if !wirejson.Valid(raw) {
				b.Fatal("invalid")
			}
			if _, err := core.NewPayloadJSON(raw).Value(); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("encoding_json", func(b *testing.B) {
		b.SetBytes(int64(len(raw)))
		b.ReportAllocs()
		for b.Loop() {
			if !json.Valid(raw) {
				b.Fatal("invalid")
			}
			var v any
			if err := json.Unmarshal(raw, &v); err != nil {
				b.Fatal(err)
			}
		}
	})
}

func BenchmarkS4PayloadEncode(b *testing.B) {
	raw := s4PayloadJSON(b)
	var tree any
	if err := json.Unmarshal([]byte(raw), &tree); err != nil {
		b.Fatal(err)
	}
	b.Run("value", func(b *testing.B) {
		b.SetBytes(int64(len(raw)))
		b.ReportAllocs()
		var w jw
		for b.Loop() {
			w.B = w.B[:0]
			if err := w.Value(tree); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("marshal", func(b *testing.B) {
		b.SetBytes(int64(len(raw)))
		b.ReportAllocs()
		var w jw
		for b.Loop() {
			w.B = w.B[:0]
			out, err := json.Marshal(tree)
			if err != nil {
				b.Fatal(err)
			}
			w.B = append(w.B, out...)
		}
	})
}
