package builtins

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/cpex-go/cpex/core"
)

// The PDP benchmarks decide the same RBAC question (may this role call this tool in this
// tenant?) with each embedded engine and, for comparison, over HTTP to a local
// OPA-compatible stub (the gateway's sidecar pattern: the stub's own decision is a Go
// map lookup, so its figure is the HTTP cost alone). Each reports decisions/s and the
// p99 latency of one decision (make bench-pdp; README "Policy engines").

// benchInputs rotates allowed and denied requests so no engine sees only one path.
var benchInputs = []struct {
	tool, tenant string
	user         map[string]any
}{
	{"read_sales", "acme", map[string]any{"id": "bob", "roles": []any{"analyst"}}},
	{"write_sales", "acme", map[string]any{"id": "bob", "roles": []any{"analyst"}}},
	{"delete_db", "globex", map[string]any{"id": "alice", "roles": []any{"admin"}}},
	{"read_sales", "globex", map[string]any{"id": "eve", "roles": []any{"analyst", "intern"}}},
}

// benchDecide times every call and reports decisions/s and p99.
func benchDecide(b *testing.B, decide func(i int) bool) {
	b.Helper()
	lat := make([]time.Duration, 0, b.N)
	allowed := 0
	b.ReportAllocs()
	b.ResetTimer()
	start := time.Now()
	for i := 0; i < b.N; i++ {
		t0 := time.Now()
		if decide(i) {
			allowed++
		}
		lat = append(lat, time.Since(t0))
	}
	total := time.Since(start)
	b.StopTimer()
	if b.N >= len(benchInputs) && (allowed == 0 || allowed == b.N) {
		b.Fatalf("the inputs should give both decisions (allowed %d of %d)", allowed, b.N)
	}
	slices.Sort(lat)
	b.ReportMetric(float64(b.N)/total.Seconds(), "decisions/s")
	b.ReportMetric(float64(lat[(len(lat)*99)/100].Nanoseconds()), "p99-ns")
}

func benchPlugin(b *testing.B, kind, policy string) {
	p, err := core.NewPlugin(core.PluginSpec{Name: "bench", Kind: kind, Hooks: []string{"tool_pre_invoke"}, Config: map[string]any{"policy": policy}})
	if err != nil {
		b.Fatal(err)
	}
	payloads := make([]*core.Payload, len(benchInputs))
	ctxs := make([]*core.PluginContext, len(benchInputs))
	for i, in := range benchInputs {
		payloads[i] = core.NewPayloadValue(map[string]any{"name": in.tool, "args": map[string]any{"q": "x"}})
		ctxs[i] = &core.PluginContext{User: in.user, TenantID: in.tenant, ServerID: "srv", RequestID: "r"}
	}
	ctx := context.Background()
	benchDecide(b, func(i int) bool {
		k := i % len(benchInputs)
		r, err := p.Invoke(ctx, "tool_pre_invoke", payloads[k], ctxs[k])
		if err != nil {
			b.Fatal(err)
		}
		return r == nil
	})
}

func BenchmarkPDPCEL(b *testing.B) { benchPlugin(b, "builtin/pdp_cel", rbacCEL) }

func BenchmarkPDPCedar(b *testing.B) { benchPlugin(b, "builtin/pdp_cedar", rbacCedar) }

// BenchmarkPDPHTTPStub: the same decisions as an OPA Data API call to 127.0.0.1.
func BenchmarkPDPHTTPStub(b *testing.B) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var body struct {
			Input struct {
				Tool     string   `json:"tool"`
				TenantID string   `json:"tenant_id"`
				Roles    []string `json:"roles"`
			} `json:"input"`
		}
		if err := json.NewDecoder(r.Body).Decode(&body); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		in := body.Input
		allow := slices.Contains(in.Roles, "admin") ||
			(slices.Contains(in.Roles, "analyst") && in.TenantID == "acme" && strings.HasPrefix(in.Tool, "read_"))
		_ = json.NewEncoder(w).Encode(map[string]any{"result": allow})
	}))
	defer srv.Close()
	client := srv.Client()
	bodies := make([][]byte, len(benchInputs))
	for i, in := range benchInputs {
		bodies[i], _ = json.Marshal(map[string]any{"input": map[string]any{"tool": in.tool, "tenant_id": in.tenant, "roles": in.user["roles"]}})
	}
	url := srv.URL + "/v1/data/tools/allow"
	benchDecide(b, func(i int) bool {
		resp, err := client.Post(url, "application/json", bytes.NewReader(bodies[i%len(bodies)]))
		if err != nil {
			b.Fatal(err)
		}
		var out struct {
			Result bool `json:"result"`
		}
		err = json.NewDecoder(resp.Body).Decode(&out)
		resp.Body.Close()
		if err != nil {
			b.Fatal(err)
		}
		return out.Result
	})
}
