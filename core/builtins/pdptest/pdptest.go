// Package pdptest holds what the tests and benchmarks of the embedded policy engines
// share (builtin/pdp_cel and builtin/pdp_cedar in core/builtins, builtin/pdp_rego in
// core/builtins/pdprego): one RBAC question with its expected decisions, so every engine
// is held to the same answers, and one way to build, call and time an engine plugin.
package pdptest

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/cpex-go/cpex/core"
)

// RBACCase is one request of the RBAC question: may this user call this tool in this
// tenant? A tool is allowed for admins, or for role "analyst" in tenant acme on read_
// tools; everything else is denied.
type RBACCase struct {
	Name   string
	Tool   string
	User   any
	Tenant string
	Allow  bool
}

// RBACCases are the expected decisions every engine's RBAC policy must give.
var RBACCases = []RBACCase{
	{"admin any tool", "delete_db", map[string]any{"id": "alice", "roles": []any{"admin"}}, "other", true},
	{"analyst read in acme", "read_sales", map[string]any{"id": "bob", "roles": []any{"analyst"}}, "acme", true},
	{"analyst read elsewhere", "read_sales", map[string]any{"id": "bob", "roles": []any{"analyst"}}, "globex", false},
	{"analyst write in acme", "write_sales", map[string]any{"id": "bob", "roles": []any{"analyst"}}, "acme", false},
	{"no roles", "read_sales", map[string]any{"id": "carol"}, "acme", false},
	{"user is a string", "read_sales", "carol", "acme", false},
	{"anonymous", "read_sales", nil, "acme", false},
}

// New builds a plugin named "policy" of kind with cfg, on tool_pre_invoke unless hooks
// says otherwise.
func New(t testing.TB, kind string, cfg map[string]any, hooks ...string) (core.Plugin, error) {
	t.Helper()
	if len(hooks) == 0 {
		hooks = []string{"tool_pre_invoke"}
	}
	return core.NewPlugin(core.PluginSpec{Name: "policy", Kind: kind, Hooks: hooks, Config: cfg})
}

// Call invokes p on tool_pre_invoke with payload and a context of user and tenant
// (server "srv", request "r1").
func Call(t testing.TB, p core.Plugin, payload map[string]any, user any, tenant string) (*core.Result, error) {
	t.Helper()
	return p.Invoke(context.Background(), "tool_pre_invoke", core.NewPayloadValue(payload),
		&core.PluginContext{User: user, TenantID: tenant, ServerID: "srv", RequestID: "r1"})
}

// RBACReason is the violation reason the engines' RBAC tests configure.
const RBACReason = "tool not allowed for this role"

// CheckRBAC runs RBACCases through p, an engine plugin of engine (pdp_cel, ...) loaded
// with an RBAC policy and `reason: RBACReason`: allowed requests give no result, denied
// ones a blocking PDP_DENY violation with that reason.
func CheckRBAC(t *testing.T, p core.Plugin, engine string) {
	t.Helper()
	for _, tc := range RBACCases {
		t.Run(tc.Name, func(t *testing.T) {
			r, err := Call(t, p, map[string]any{"name": tc.Tool, "args": map[string]any{}}, tc.User, tc.Tenant)
			require.NoError(t, err)
			if tc.Allow {
				assert.Nil(t, r)
				return
			}
			require.NotNil(t, r)
			assert.True(t, r.Block)
			assert.Equal(t, RBACReason, r.Violation.Reason)
			assert.Equal(t, "PDP_DENY", r.Violation.Code)
			assert.Equal(t, engine, r.Violation.Details["engine"])
		})
	}
}

// BenchInputs rotate allowed and denied requests so no engine sees only one path.
var BenchInputs = []struct {
	Tool, Tenant string
	User         map[string]any
}{
	{"read_sales", "acme", map[string]any{"id": "bob", "roles": []any{"analyst"}}},
	{"write_sales", "acme", map[string]any{"id": "bob", "roles": []any{"analyst"}}},
	{"delete_db", "globex", map[string]any{"id": "alice", "roles": []any{"admin"}}},
	{"read_sales", "globex", map[string]any{"id": "eve", "roles": []any{"analyst", "intern"}}},
}

// BenchDecide times every decision and reports decisions/s and the p99 latency; it fails
// the benchmark when the inputs did not give both decisions (a policy that always allows
// would measure nothing).
func BenchDecide(b *testing.B, decide func(i int) bool) {
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
	if b.N >= len(BenchInputs) && (allowed == 0 || allowed == b.N) {
		b.Fatalf("the inputs should give both decisions (allowed %d of %d)", allowed, b.N)
	}
	slices.Sort(lat)
	b.ReportMetric(float64(b.N)/total.Seconds(), "decisions/s")
	b.ReportMetric(float64(lat[(len(lat)*99)/100].Nanoseconds()), "p99-ns")
}

// BenchEngine benchmarks an engine plugin of kind deciding BenchInputs with policy.
func BenchEngine(b *testing.B, kind, policy string) {
	p, err := core.NewPlugin(core.PluginSpec{Name: "bench", Kind: kind, Hooks: []string{"tool_pre_invoke"}, Config: map[string]any{"policy": policy}})
	if err != nil {
		b.Fatal(err)
	}
	payloads := make([]*core.Payload, len(BenchInputs))
	ctxs := make([]*core.PluginContext, len(BenchInputs))
	for i, in := range BenchInputs {
		payloads[i] = core.NewPayloadValue(map[string]any{"name": in.Tool, "args": map[string]any{"q": "x"}})
		ctxs[i] = &core.PluginContext{User: in.User, TenantID: in.Tenant, ServerID: "srv", RequestID: "r"}
	}
	ctx := context.Background()
	BenchDecide(b, func(i int) bool {
		k := i % len(BenchInputs)
		r, err := p.Invoke(ctx, "tool_pre_invoke", payloads[k], ctxs[k])
		if err != nil {
			b.Fatal(err)
		}
		return r == nil
	})
}
