package pdprego

import (
	"context"
	"os"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/cpex-go/cpex/core"
	"github.com/cpex-go/cpex/core/builtins/pdptest"
)

// rbacRego decides pdptest.RBACCases like the CEL and Cedar policies: the shared policy
// file, which the Python parity test also evaluates with an independent interpreter.
var rbacRego = func() string {
	b, err := os.ReadFile("../../../tests/cases/pdp/rbac.rego")
	if err != nil {
		panic(err)
	}
	return string(b)
}()

func TestPDPRegoRBAC(t *testing.T) {
	p, err := pdptest.New(t, "builtin/pdp_rego", map[string]any{"policy": rbacRego, "query": "data.cpex.tools.allow", "reason": pdptest.RBACReason})
	require.NoError(t, err)
	pdptest.CheckRBAC(t, p, "pdp_rego")
}

func TestPDPRegoPackageDocument(t *testing.T) {
	p, err := pdptest.New(t, "builtin/pdp_rego", map[string]any{"policy": `package cpex.limits

default allow := true

deny contains msg if {
	input.payload.args.amount > 100
	msg := sprintf("amount %v over limit", [input.payload.args.amount])
}
`})
	require.NoError(t, err)
	r, err := pdptest.Call(t, p, map[string]any{"name": "pay", "args": map[string]any{"amount": 50.0}}, nil, "")
	require.NoError(t, err)
	assert.Nil(t, r)
	r, err = pdptest.Call(t, p, map[string]any{"name": "pay", "args": map[string]any{"amount": 500.0}}, nil, "")
	require.NoError(t, err)
	require.NotNil(t, r)
	assert.Equal(t, "amount 500 over limit", r.Violation.Reason)
}

func TestPDPRegoBadPolicies(t *testing.T) {
	tests := []struct {
		name string
		cfg  map[string]any
		want string
	}{
		{"parse error names line", map[string]any{"policy": "package x\n\nallow if {\n  input.a ==\n}\n"},
			`plugin "policy" (kind builtin/pdp_rego): pdp_rego: policy policy.policy does not compile: 1 error occurred: policy.policy:5: rego_parse_error: unexpected } token`},
		{"unsafe variable", map[string]any{"policy": "package x\n\nallow if y > 1\n"},
			`policy.policy:3:`},
		{"no policy", map[string]any{}, `pdp_rego needs a policy`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := pdptest.New(t, "builtin/pdp_rego", tc.cfg)
			require.Error(t, err)
			assert.Contains(t, err.Error(), tc.want)
		})
	}
}

func TestPDPRegoStopsAtDeadline(t *testing.T) {
	p, err := pdptest.New(t, "builtin/pdp_rego", map[string]any{"policy": "package x\n\nallow if count([1 | some i in numbers.range(1, 100000000)]) > 0\n"})
	require.NoError(t, err)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	r, err := p.Invoke(ctx, "tool_pre_invoke", core.NewPayloadValue(map[string]any{"name": "x"}), &core.PluginContext{})
	require.Error(t, err)
	assert.Nil(t, r)
}

func BenchmarkPDPRego(b *testing.B) { pdptest.BenchEngine(b, "builtin/pdp_rego", rbacRego) }
