package engine

import (
	"testing"

	"github.com/cpex-go/cpex/core/plugin"
	"github.com/stretchr/testify/assert"
)

func TestPolicyDecision(t *testing.T) {
	writable := WritableIn([]string{"args", "name"})
	cases := []struct {
		name, hook string
		changed    []string
		accepted   []string
		warning    string
	}{
		{"nothing changed", "tool_pre_invoke", nil, nil, ""},
		{"all writable", "tool_pre_invoke", []string{"name", "args"}, []string{"args", "name"}, ""},
		{"some dropped", "tool_pre_invoke", []string{"zeta", "args", "alpha"}, []string{"args"},
			"Policy rejected modifications to non-writable fields: ['zeta', 'alpha']"},
		{"all dropped", "tool_pre_invoke", []string{"x"}, nil, "Policy rejected modifications to non-writable fields: ['x']"},
		{"no hook (apply_policy)", "", []string{"x", "name"}, []string{"name"}, "Policy rejected modifications to non-writable fields: ['x']"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			v := PolicyDecision(tc.hook, tc.changed, writable)
			assert.Equal(t, tc.accepted, v.Accepted)
			assert.Equal(t, tc.warning, v.Warning)
		})
	}
}

func TestClassifyReturned(t *testing.T) {
	withPolicy := NewPlan("tool_pre_invoke", nil, []string{"args"}, true, false)
	cases := []struct {
		name    string
		apply   Apply
		ret     Returned
		mod     Mod
		accept  []string
		warning bool
	}{
		{"none", ApplyAny, Returned{}, ModNone, nil, false},
		{"allow takes any object whole", ApplyAny, Returned{Kind: ReturnedForeign}, ModCandidate, nil, false},
		{"allow: the current object is no change", ApplyAny, Returned{Kind: ReturnedSameType, IsCurrent: true}, ModSame, nil, false},
		{"policy keeps writable fields", ApplyPolicy, Returned{Kind: ReturnedSameType, Changed: []string{"args"}}, ModCandidate, []string{"args"}, false},
		{"policy drops the rest with a warning", ApplyPolicy, Returned{Kind: ReturnedSameType, Changed: []string{"args", "name"}}, ModCandidate, []string{"args"}, true},
		{"policy rejects when nothing is writable", ApplyPolicy, Returned{Kind: ReturnedSameType, Changed: []string{"name"}}, ModRejected, nil, true},
		{"policy rejects an unchanged copy", ApplyPolicy, Returned{Kind: ReturnedSameType}, ModRejected, nil, false},
		{"policy takes another payload type whole", ApplyPolicy, Returned{Kind: ReturnedOtherPayload}, ModOtherType, nil, false},
		{"policy: the current other-type object is no change", ApplyPolicy, Returned{Kind: ReturnedOtherPayload, IsCurrent: true}, ModSame, nil, false},
		{"policy ignores a foreign object", ApplyPolicy, Returned{Kind: ReturnedForeign}, ModIgnored, nil, false},
		{"deny ignores everything", ApplyNone, Returned{Kind: ReturnedSameType, Changed: []string{"args"}}, ModIgnored, nil, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			mod, accept, warn := classifyReturned(withPolicy, tc.apply, &tc.ret)
			assert.Equal(t, tc.mod, mod)
			assert.Equal(t, tc.accept, accept)
			assert.Equal(t, tc.warning, warn != "", warn)
		})
	}
}

func TestReturnedKindNamesRoundTrip(t *testing.T) {
	for k := ReturnedNone; k <= returnedLast; k++ {
		got, ok := ParseReturnedKind(k.String())
		assert.True(t, ok)
		assert.Equal(t, k, got)
	}
	_, ok := ParseReturnedKind("maybe")
	assert.False(t, ok)
}

func TestExceptionText(t *testing.T) {
	cases := []struct {
		st   OutcomeStatus
		want string
	}{
		{OutcomePluginError, "str"}, {OutcomeViolationError, "str"},
		{OutcomeError, "repr"}, {OutcomeTimeout, "repr"}, {OutcomeTimeoutRaised, "repr"},
	}
	for _, tc := range cases {
		assert.Equal(t, tc.want, ExceptionText(tc.st, "str", "repr"), "status %d", tc.st)
	}
}

func TestPoolBound(t *testing.T) {
	cases := []struct{ pool, n, want int }{{0, 5, 0}, {-1, 5, 0}, {5, 5, 0}, {9, 5, 0}, {2, 5, 2}, {1, 2, 1}}
	for _, tc := range cases {
		assert.Equal(t, tc.want, PoolBound(tc.pool, tc.n), "pool %d of %d", tc.pool, tc.n)
	}
}

func TestFireAndForgetFailure(t *testing.T) {
	e := NewExecutor(2.5, PolicyAllow)
	dis := &Ref{Name: "d", OnError: "disable"}
	ign := &Ref{Name: "i", OnError: "ignore"}
	cases := []struct {
		name     string
		ref      *Ref
		o        Outcome
		message  string
		disabled bool
	}{
		{"error keeps its own text", ign, Outcome{Status: OutcomeError, Message: "ValueError('x')"}, "ValueError('x')", false},
		{"a foreign timeout keeps its text", ign, Outcome{Status: OutcomeTimeout, Message: "TimeoutError()"}, "TimeoutError()", false},
		{"a Go deadline reads as the executor's timeout", ign, Outcome{Status: OutcomeTimeout}, "Plugin i exceeded 2.5s timeout", false},
		{"disable disables", dis, Outcome{Status: OutcomeError, Message: "E()"}, "E()", true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			v := e.FireAndForgetFailure(tc.ref, &tc.o)
			assert.Equal(t, tc.message, v.Message)
			assert.Equal(t, tc.disabled, v.Disabled)
			assert.Equal(t, LogEntry{Level: "error", Message: "Plugin " + tc.ref.Name + " failed in fire-and-forget mode (ignored)"}, v.Log)
		})
	}
}

func TestEmptyChainIsAnAllowBeforeAnyRule(t *testing.T) {
	e := NewExecutor(30, PolicyDeny)
	plan := e.Plan("tool_pre_invoke", nil, nil, false)
	_, s := e.Start(plan, &Facts{SizeAttr: "args", Size: plugin.MaxPayloadSize + 1, Trace: true})
	assert.Equal(t, OpDone, s.Op)
	d := s.Done()
	assert.True(t, d.Continue)
	assert.Equal(t, -1, d.ViolationIndex)
	assert.False(t, d.Payload || d.Ext || s.ChainSpan || s.ChainEnd)
	assert.Empty(t, d.Records)
	assert.Empty(t, s.Logs)
	assert.Empty(t, d.FAF)
}
