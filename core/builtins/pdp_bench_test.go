package builtins

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"

	"github.com/cpex-go/cpex/core/builtins/pdptest"
)

// The PDP benchmarks decide the same RBAC question (may this role call this tool in this
// tenant?) with each embedded engine and, for comparison, over HTTP to a local
// OPA-compatible stub (the gateway's sidecar pattern: the stub's own decision is a Go
// map lookup, so its figure is the HTTP cost alone). Each reports decisions/s and the
// p99 latency of one decision (make bench-pdp; README "Policy engines").

func BenchmarkPDPCEL(b *testing.B) { pdptest.BenchEngine(b, "builtin/pdp_cel", rbacCEL) }

func BenchmarkPDPCedar(b *testing.B) { pdptest.BenchEngine(b, "builtin/pdp_cedar", rbacCedar) }

// BenchmarkPDPHTTPStub makes the same decisions as an OPA Data API call to 127.0.0.1.
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
	bodies := make([][]byte, len(pdptest.BenchInputs))
	for i, in := range pdptest.BenchInputs {
		bodies[i], _ = json.Marshal(map[string]any{"input": map[string]any{"tool": in.Tool, "tenant_id": in.Tenant, "roles": in.User["roles"]}})
	}
	url := srv.URL + "/v1/data/tools/allow"
	pdptest.BenchDecide(b, func(i int) bool {
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
