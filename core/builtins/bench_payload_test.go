package builtins

import (
	"encoding/json"
	"fmt"
	"runtime"
	"strings"
	"testing"

	"github.com/cpex-go/cpex/core"
)

// mixedPayload16KB builds the tool_post_invoke payload the guard benchmarks scan: about
// 16 KB of string content in a nested result (MCP content blocks, a records list, a
// metadata map) that reads like real tool output: prose, ids, timestamps, numbers, URLs,
// code, with a few personal values and secrets in it (roughly one every 1.5 KB).
// It returns the decoded payload and the number of string bytes in it.
func mixedPayload16KB() (map[string]any, int) {
	prose := []string{
		"The quarterly report shows revenue growth of 12.5% compared to the previous period, driven by strong demand in the enterprise segment. ",
		"Deployment 2024-03-15T10:22:31Z completed on cluster eu-west-1 with 3 replicas; see https://status.example.net/incidents/4821 for details. ",
		"func handle(ctx context.Context, req *Request) (*Response, error) { return nil, fmt.Errorf(\"not implemented: %s\", req.ID) } ",
		"Order #A-99321 shipped in 4 boxes weighing 12.7 kg total, tracking number 1Z999AA10123456784, estimated arrival Friday afternoon. ",
		"User feedback: the new dashboard loads faster, but the export button is hard to find on small screens and tablets. ",
		"Build 7.4.2 passed 1432 tests in 3m21s; coverage 81.3%, no flaky tests detected, artifacts uploaded to the registry. ",
	}
	sensitive := []string{
		"Contact jane.doe@example.com for access. ",
		"Customer SSN 123-45-6789 on file. ",
		"Paid with card 4111 1111 1111 1111 yesterday. ",
		"Call back on 555-123-4567 after five. ",
		"Server at 10.20.30.40 rejected the login. ",
		"Leaked key AKIAIOSFODNN7EXAMPLE in logs. ",
		"token xoxb-1234567890-ABCDEFGHIJKLmnop found in channel. ",
		"-----BEGIN RSA PRIVATE KEY----- MIIEpAIBAAKCAQEA ",
	}
	var b strings.Builder
	next := 0 // the sensitive snippets rotate across blocks, so every kind occurs
	block := func(n int) string {
		b.Reset()
		i := 0
		for b.Len() < n {
			b.WriteString(prose[i%len(prose)])
			if i%5 == 4 {
				b.WriteString(sensitive[next%len(sensitive)])
				next++
			}
			i++
		}
		return b.String()
	}
	content := []any{}
	for k := 0; k < 4; k++ {
		content = append(content, map[string]any{"type": "text", "text": block(2920)})
	}
	records := []any{}
	for k := 0; k < 40; k++ {
		records = append(records, map[string]any{
			"id":      fmt.Sprintf("rec-%05d", k),
			"status":  []string{"open", "closed", "pending"}[k%3],
			"amount":  float64(k) * 13.7,
			"note":    prose[k%len(prose)][:80],
			"created": "2024-03-15T10:22:31Z",
		})
	}
	payload := map[string]any{
		"name": "search_tickets",
		"result": map[string]any{
			"content":           content,
			"structuredContent": map[string]any{"records": records, "total": 40.0, "next": "cursor-abc123"},
			"isError":           false,
		},
	}
	n := 0
	VisitStrings(payload["result"], func(_ []string, s string) bool { n += len(s); return true })
	return payload, n
}

// benchInvoke runs p on the mixed payload b.N times, reporting MB/s of scanned text. The
// payload is decoded once (a chain of Go plugins shares one decoded tree), so this is the
// guard's own cost: walk, scan, and copy-on-write of what it changes.
func benchInvoke(b *testing.B, p core.Plugin, hook string) {
	payload, n := mixedPayload16KB()
	if hook != "tool_post_invoke" {
		b.Fatalf("the mixed payload is a tool_post_invoke payload")
	}
	b.SetBytes(int64(n))
	b.ReportAllocs()
	pc := &core.PluginContext{}
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	cpu0, cpuOK := threadCPUTime()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := p.Invoke(b.Context(), hook, core.NewPayloadValue(payload), pc); err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	// MB/s over the thread's CPU time: steadier than wall time on a machine shared with
	// other jobs (GC work on other threads is not counted)
	if cpu1, ok := threadCPUTime(); ok && cpuOK && cpu1 > cpu0 {
		b.ReportMetric(float64(n)*float64(b.N)/(cpu1-cpu0).Seconds()/1e6, "cpuMB/s")
	}
}

// TestMixedPayloadShape keeps the benchmark input honest: ~16 KB of text with findings.
func TestMixedPayloadShape(t *testing.T) {
	payload, n := mixedPayload16KB()
	if n < 15*1024 || n > 18*1024 {
		t.Fatalf("mixed payload has %d bytes of text, want about 16 KB", n)
	}
	if _, err := json.Marshal(payload); err != nil {
		t.Fatal(err)
	}
}

// mixedText16KB is the text of the mixed payload's content blocks as one string (about
// 13 KB), for benchmarks of the scanners alone.
func mixedText16KB() string {
	payload, _ := mixedPayload16KB()
	var b strings.Builder
	for _, c := range payload["result"].(map[string]any)["content"].([]any) {
		b.WriteString(c.(map[string]any)["text"].(string))
	}
	return b.String()
}

// benchScan runs scan over text b.N times, reporting wall and CPU-time MB/s.
func benchScan(b *testing.B, text string, scan func()) {
	b.SetBytes(int64(len(text)))
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	cpu0, cpuOK := threadCPUTime()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		scan()
	}
	b.StopTimer()
	if cpu1, ok := threadCPUTime(); ok && cpuOK && cpu1 > cpu0 {
		b.ReportMetric(float64(len(text))*float64(b.N)/(cpu1-cpu0).Seconds()/1e6, "cpuMB/s")
	}
}
