package core_test

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/cpex-go/cpex/core"
	"github.com/cpex-go/cpex/core/config"
)

// The state machine on its own, driven the way a foreign driver drives it: start a
// plan, report outcomes, read the steps. One table row per rule of spec §11.

type refDef struct {
	name    string
	mode    config.Mode
	onError config.OnError
	prio    int
	conds   []config.PluginCondition
}

func refs(defs ...refDef) []*core.Ref {
	out := make([]*core.Ref, len(defs))
	for i, d := range defs {
		mode, onErr, prio := d.mode, d.onError, d.prio
		if mode == "" {
			mode = config.ModeSequential
		}
		if onErr == "" {
			onErr = config.OnErrorFail
		}
		if prio == 0 {
			prio = 100
		}
		out[i] = core.NewRef(core.RefSpec{Name: d.name, Kind: "mod." + d.name, Mode: mode, Priority: prio, OnError: onErr, Conditions: d.conds, ConfigKeys: []string{"k"}})
	}
	return out
}

func ok(i int) *core.Outcome { return &core.Outcome{Index: i, Continue: true, DurationNs: 7} }

func block(i int) *core.Outcome {
	return &core.Outcome{Index: i, HasViolation: true, Violation: core.ViolationFacts{Reason: "r", Code: "C", Description: "d"}, DurationNs: 7}
}

func with(o *core.Outcome, f func(*core.Outcome)) *core.Outcome { f(o); return o }

// drive reports outcomes in order (by index) until the run ends; concurrent steps
// consume the outcomes queued for their indices in the order given.
func drive(t *testing.T, e *core.Executor, p *core.Plan, facts core.Facts, outcomes ...*core.Outcome) (*core.Run, *core.Step, []*core.Step) {
	t.Helper()
	run, step := e.Start(p, &facts)
	var trail []*core.Step
	for step.Op == core.OpCall || step.Op == core.OpConcurrent || step.Op == core.OpNext {
		cp := *step // the run reuses its step; the concurrent indices are never rewritten
		trail = append(trail, &cp)
		require.NotEmpty(t, outcomes, "the run wants more outcomes after %v", step.Op)
		o := outcomes[0]
		outcomes = outcomes[1:]
		var err error
		step, err = run.Report(o)
		require.NoError(t, err)
	}
	require.Empty(t, outcomes, "outcomes left over")
	return run, step, trail
}

// recordsOf are the records a final step carries.
func recordsOf(s *core.Step) []core.ExecutionRecord {
	switch s.Op {
	case core.OpDone:
		return s.Done().Records
	case core.OpRaise:
		return s.Raise().Records
	}
	return nil
}

func names(recs []core.ExecutionRecord) []string {
	out := []string{}
	for _, r := range recs {
		out = append(out, r.PluginName)
	}
	return out
}

func TestPhaseOrderAndPriority(t *testing.T) {
	e := core.NewExecutor(30, core.PolicyAllow)
	rs := refs(
		refDef{name: "faf", mode: config.ModeFireAndForget},
		refDef{name: "conc", mode: config.ModeConcurrent},
		refDef{name: "audit", mode: config.ModeAudit, prio: 1},
		refDef{name: "tr", mode: config.ModeTransform, prio: 200},
		refDef{name: "seqB", prio: 50},
		refDef{name: "seqA", prio: 50},
		refDef{name: "seq0", prio: 10},
		refDef{name: "off", mode: config.ModeDisabled},
	)
	p := core.NewPlan("tool_pre_invoke", rs, nil, false, false)
	_, done, trail := drive(t, e, p, core.Facts{}, ok(6), ok(4), ok(5), ok(3), ok(2), ok(1))
	var order []string
	for _, s := range trail {
		if s.Op == core.OpCall {
			order = append(order, rs[s.Call().Index].Name)
		}
	}
	assert.Equal(t, []string{"seq0", "seqB", "seqA", "tr", "audit"}, order, "phases in order, priority ascending, ties stable")
	require.Equal(t, core.OpDone, done.Op)
	assert.Equal(t, []int{0}, done.Done().FAF)
	assert.Equal(t, []string{"seq0", "seqB", "seqA", "tr", "audit", "conc", "faf"}, names(done.Done().Records))
	assert.True(t, done.Done().Continue)
	assert.False(t, trail[4].Call().Merge, "audit plugins never merge global state back")
	assert.Equal(t, core.ApplyNone, trail[4].Call().Apply, "audit modifications are discarded")
	assert.True(t, trail[0].Call().Merge && trail[0].Call().Meta)
}

func TestSerialRules(t *testing.T) {
	type want struct {
		op        core.Op
		cont      bool
		payload   bool
		ext       bool
		retry     int
		commits   []bool
		viol      int
		decision  string
		raise     core.RaiseKind
		message   string
		records   int
		lastRec   func(*testing.T, core.ExecutionRecord)
		disabled  []string
		logSubstr string
	}
	cases := []struct {
		name     string
		hook     string
		defs     []refDef
		facts    core.Facts
		policy   []string
		deny     bool
		outcomes []*core.Outcome
		want     want
	}{
		{name: "modification chain and retry max", defs: []refDef{{name: "a", prio: 1}, {name: "b", prio: 2}},
			outcomes: []*core.Outcome{with(ok(0), func(o *core.Outcome) { o.Mod, o.Retry = core.ModCandidate, 5 }), with(ok(1), func(o *core.Outcome) { o.Retry = 3 })},
			want: want{op: core.OpDone, cont: true, payload: true, retry: 5, viol: -1, records: 2, lastRec: func(t *testing.T, r core.ExecutionRecord) {
				assert.Equal(t, core.True, r.RequestedAllow)
				assert.Equal(t, core.False, r.Matched)
				assert.Equal(t, int64(7), r.DurationNs)
			}}},
		{name: "sequential halt drops retry and extensions", defs: []refDef{{name: "a", prio: 1}, {name: "b", prio: 2}, {name: "c", prio: 3}},
			outcomes: []*core.Outcome{with(ok(0), func(o *core.Outcome) { o.Mod, o.Ext, o.Retry = core.ModCandidate, core.ExtOther, 9 }), block(1)},
			want: want{op: core.OpDone, cont: false, payload: true, viol: 1, records: 2, lastRec: func(t *testing.T, r core.ExecutionRecord) {
				assert.Equal(t, core.False, r.RequestedAllow)
				assert.False(t, r.EffectiveAllow)
				assert.Equal(t, "r", *r.Reason)
				assert.Equal(t, "C", *r.ErrorCode)
			}}},
		{name: "block as error", defs: []refDef{{name: "a"}}, facts: core.Facts{ViolationsAsErrors: true},
			outcomes: []*core.Outcome{block(0)},
			want:     want{op: core.OpRaise, raise: core.RaiseViolation, message: "tool_pre_invoke blocked by plugin a: C - r (d)", records: 1}},
		{name: "block as error without violation", defs: []refDef{{name: "a"}}, facts: core.Facts{ViolationsAsErrors: true},
			outcomes: []*core.Outcome{{Index: 0}},
			want: want{op: core.OpRaise, raise: core.RaiseViolation, message: "tool_pre_invoke blocked by plugin", records: 1, lastRec: func(t *testing.T, r core.ExecutionRecord) {
				assert.Equal(t, "tool_pre_invoke blocked by plugin", *r.Reason)
				assert.Equal(t, "plugin_violation", *r.ErrorCode)
			}}},
		{name: "transform block suppressed keeps payload", defs: []refDef{{name: "t", mode: config.ModeTransform}},
			outcomes: []*core.Outcome{with(block(0), func(o *core.Outcome) { o.Mod, o.Ext, o.Retry = core.ModCandidate, core.ExtOther, 4 })},
			want: want{op: core.OpDone, cont: true, payload: true, commits: []bool{true}, viol: -1, records: 1, logSubstr: "raised violation", lastRec: func(t *testing.T, r core.ExecutionRecord) {
				assert.Equal(t, core.True, r.RequestedAllow)
				assert.True(t, r.PayloadModified)
				assert.False(t, r.ExtensionsModified)
				assert.Nil(t, r.Reason)
			}}},
		{name: "audit modifications discarded, extensions recorded", defs: []refDef{{name: "au", mode: config.ModeAudit}},
			outcomes: []*core.Outcome{with(ok(0), func(o *core.Outcome) { o.Mod, o.Ext = core.ModIgnored, core.ExtOther })},
			want: want{op: core.OpDone, cont: true, commits: []bool{false}, viol: -1, records: 1, lastRec: func(t *testing.T, r core.ExecutionRecord) {
				assert.False(t, r.PayloadModified)
				assert.True(t, r.ExtensionsModified)
				assert.Equal(t, core.True, r.Matched)
				assert.True(t, r.Applied)
			}}},
		{name: "extensions kept from sequential", defs: []refDef{{name: "s"}},
			outcomes: []*core.Outcome{with(ok(0), func(o *core.Outcome) { o.Ext = core.ExtSame })},
			want: want{op: core.OpDone, cont: true, ext: true, viol: -1, records: 1, lastRec: func(t *testing.T, r core.ExecutionRecord) {
				assert.False(t, r.ExtensionsModified, "the same object is not a change")
			}}},
		{name: "same object accepted without modification", defs: []refDef{{name: "s"}},
			outcomes: []*core.Outcome{with(ok(0), func(o *core.Outcome) { o.Mod = core.ModSame })},
			want: want{op: core.OpDone, cont: true, payload: true, commits: []bool{true}, viol: -1, records: 1, lastRec: func(t *testing.T, r core.ExecutionRecord) {
				assert.False(t, r.PayloadModified)
			}}},
		{name: "policy rejects everything", defs: []refDef{{name: "s"}}, policy: []string{"args"},
			outcomes: []*core.Outcome{with(ok(0), func(o *core.Outcome) { o.Mod = core.ModRejected })},
			want:     want{op: core.OpDone, cont: true, commits: []bool{false}, viol: -1, records: 1}},
		{name: "default deny logs", defs: []refDef{{name: "s"}}, deny: true,
			outcomes: []*core.Outcome{with(ok(0), func(o *core.Outcome) { o.Mod = core.ModIgnored })},
			want:     want{op: core.OpDone, cont: true, viol: -1, records: 1, logSubstr: "default hook policy (deny)"}},
		{name: "policy unusable type logs", defs: []refDef{{name: "s"}}, policy: []string{"args"},
			outcomes: []*core.Outcome{with(ok(0), func(o *core.Outcome) { o.Mod = core.ModIgnored })},
			want:     want{op: core.OpDone, cont: true, viol: -1, records: 1, logSubstr: "unsupported type"}},
		{name: "decision plugin", hook: core.HookHTTPAuthCheckPermission, defs: []refDef{{name: "g", prio: 1}, {name: "h", prio: 2}},
			outcomes: []*core.Outcome{with(ok(0), func(o *core.Outcome) { o.Mod = core.ModOtherType }), ok(1)},
			want:     want{op: core.OpDone, cont: true, payload: true, viol: -1, records: 2, decision: "g"}},
		{name: "fail error", defs: []refDef{{name: "e"}},
			outcomes: []*core.Outcome{{Index: 0, Status: core.OutcomeError, Message: "ValueError('x')"}},
			want:     want{op: core.OpRaise, raise: core.RaiseError, message: "ValueError('x')"}},
		{name: "fail timeout", defs: []refDef{{name: "e"}},
			outcomes: []*core.Outcome{{Index: 0, Status: core.OutcomeTimeout}},
			want:     want{op: core.OpRaise, raise: core.RaiseTimeout, message: "Plugin e exceeded 30s timeout"}},
		{name: "ignore error reads as allow, disable disables", defs: []refDef{{name: "i", onError: config.OnErrorIgnore, prio: 1}, {name: "d", onError: config.OnErrorDisable, prio: 2}},
			outcomes: []*core.Outcome{{Index: 0, Status: core.OutcomeError, Message: "boom"}, {Index: 1, Status: core.OutcomePluginError, Message: "no"}},
			want: want{op: core.OpDone, cont: true, viol: -1, records: 2, disabled: []string{"d"}, logSubstr: "on_error=ignore", lastRec: func(t *testing.T, r core.ExecutionRecord) {
				assert.Equal(t, core.StatusCompleted, r.Status)
				assert.Equal(t, core.False, r.Matched)
			}}},
		{name: "ignored timeouts: applied only in sequential", defs: []refDef{{name: "s", onError: config.OnErrorIgnore}, {name: "t", mode: config.ModeTransform, onError: config.OnErrorIgnore}},
			outcomes: []*core.Outcome{{Index: 0, Status: core.OutcomeTimeout, DurationNs: 3}, {Index: 1, Status: core.OutcomeTimeout}},
			want: want{op: core.OpDone, cont: true, viol: -1, records: 2, lastRec: func(t *testing.T, r core.ExecutionRecord) {
				assert.Equal(t, core.StatusTimeout, r.Status)
				assert.False(t, r.Applied)
				assert.Equal(t, "plugin_timeout", *r.ErrorCode)
				assert.Equal(t, "Plugin t exceeded 30s timeout", *r.Reason)
			}}},
		{name: "raised violation ignores on_error", defs: []refDef{{name: "v", onError: config.OnErrorIgnore}},
			outcomes: []*core.Outcome{{Index: 0, Status: core.OutcomeViolationError, Message: "raised"}},
			want: want{op: core.OpRaise, raise: core.RaiseViolation, message: "raised", records: 1, lastRec: func(t *testing.T, r core.ExecutionRecord) {
				assert.Equal(t, "raised", *r.Reason)
				assert.Equal(t, "plugin_violation", *r.ErrorCode)
			}}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			e := core.NewExecutor(30, core.PolicyAllow)
			hook := tc.hook
			if hook == "" {
				hook = core.HookToolPreInvoke
			}
			p := core.NewPlan(hook, refs(tc.defs...), tc.policy, tc.policy != nil, tc.deny)
			run, step := e.Start(p, &tc.facts)
			var commits []bool
			var logs []string
			for _, o := range tc.outcomes {
				require.Equal(t, core.OpCall, step.Op)
				var err error
				step, err = run.Report(o)
				require.NoError(t, err)
				commits = append(commits, step.Commit)
				for _, l := range step.Logs {
					logs = append(logs, l.Message)
				}
			}
			w := tc.want
			require.Equal(t, w.op, step.Op)
			assert.True(t, run.Finished())
			if w.op == core.OpDone {
				d := step.Done()
				assert.Equal(t, w.cont, d.Continue)
				assert.Equal(t, w.payload, d.Payload)
				assert.Equal(t, w.ext, d.Ext)
				assert.Equal(t, w.retry, d.Retry)
				assert.Equal(t, w.viol, d.ViolationIndex)
				assert.Equal(t, w.decision, d.Decision)
			} else {
				assert.Equal(t, w.raise, step.Raise().Kind)
				assert.Equal(t, w.message, step.Raise().Message)
			}
			if w.commits != nil {
				assert.Equal(t, w.commits, commits)
			}
			recs := recordsOf(step)
			assert.Len(t, recs, w.records)
			if w.lastRec != nil && len(recs) > 0 {
				w.lastRec(t, recs[len(recs)-1])
			}
			if w.disabled != nil {
				assert.Equal(t, w.disabled, e.RuntimeDisabled())
			}
			if w.logSubstr != "" {
				assert.Contains(t, joinAll(logs), w.logSubstr)
			}
			_, err := run.Report(ok(0))
			assert.ErrorIs(t, err, core.ErrRunFinished)
		})
	}
}

func joinAll(xs []string) string {
	s := ""
	for _, x := range xs {
		s += x + "\n"
	}
	return s
}

func TestConcurrentRules(t *testing.T) {
	cases := []struct {
		name     string
		defs     []refDef
		facts    core.Facts
		outcomes []*core.Outcome
		check    func(*testing.T, *core.Step, *core.Executor)
	}{
		{"all allow in completion order", []refDef{{name: "c0", mode: config.ModeConcurrent}, {name: "c1", mode: config.ModeConcurrent}}, core.Facts{Pool: 3},
			[]*core.Outcome{with(ok(1), func(o *core.Outcome) { o.Retry = 2; o.Mod = core.ModIgnored }), with(ok(0), func(o *core.Outcome) { o.HasViolation = true; o.Violation.Reason = "noted" })},
			func(t *testing.T, s *core.Step, _ *core.Executor) {
				assert.Equal(t, core.OpDone, s.Op)
				assert.Equal(t, []string{"c1", "c0"}, names(recordsOf(s)))
				assert.Equal(t, 2, s.Done().Retry)
				assert.Equal(t, "noted", *recordsOf(s)[1].Reason, "reason comes from the violation even on allow")
				assert.Equal(t, int64(0), recordsOf(s)[0].DurationNs)
			}},
		{"first processed block halts and cancels", []refDef{{name: "c0", mode: config.ModeConcurrent}, {name: "c1", mode: config.ModeConcurrent}, {name: "c2", mode: config.ModeConcurrent}, {name: "f", mode: config.ModeFireAndForget}}, core.Facts{},
			[]*core.Outcome{ok(2), block(0)},
			func(t *testing.T, s *core.Step, _ *core.Executor) {
				assert.Equal(t, core.OpDone, s.Op)
				assert.False(t, s.Done().Continue)
				assert.True(t, s.Done().Cancel)
				assert.Equal(t, 0, s.Done().ViolationIndex)
				assert.Equal(t, []int{3}, s.Done().FAF)
				assert.Equal(t, []string{"c2", "c0", "f"}, names(recordsOf(s)))
			}},
		{"block as error", []refDef{{name: "c0", mode: config.ModeConcurrent}, {name: "c1", mode: config.ModeConcurrent}}, core.Facts{ViolationsAsErrors: true},
			[]*core.Outcome{block(1)},
			func(t *testing.T, s *core.Step, _ *core.Executor) {
				assert.Equal(t, core.OpRaise, s.Op)
				assert.True(t, s.Raise().Cancel)
				assert.Equal(t, "tool_pre_invoke blocked by plugin c1: C - r (d)", s.Raise().Message)
			}},
		{"fail error cancels the siblings", []refDef{{name: "c0", mode: config.ModeConcurrent}, {name: "c1", mode: config.ModeConcurrent}}, core.Facts{},
			[]*core.Outcome{{Index: 0, Status: core.OutcomeError, Message: "x"}},
			func(t *testing.T, s *core.Step, _ *core.Executor) {
				assert.Equal(t, core.OpRaise, s.Op)
				assert.Equal(t, core.RaiseError, s.Raise().Kind)
				assert.True(t, s.Raise().Cancel)
			}},
		{"timeout and error swallowed", []refDef{{name: "c0", mode: config.ModeConcurrent, onError: config.OnErrorDisable}, {name: "c1", mode: config.ModeConcurrent, onError: config.OnErrorIgnore}}, core.Facts{},
			[]*core.Outcome{{Index: 0, Status: core.OutcomeTimeout, DurationNs: 5}, {Index: 1, Status: core.OutcomeError}},
			func(t *testing.T, s *core.Step, e *core.Executor) {
				assert.Equal(t, core.OpDone, s.Op)
				assert.Equal(t, core.StatusTimeout, recordsOf(s)[0].Status)
				assert.False(t, recordsOf(s)[0].Applied)
				assert.Equal(t, int64(0), recordsOf(s)[0].DurationNs)
				assert.Equal(t, []string{"c0"}, e.RuntimeDisabled())
			}},
		{"raised violation", []refDef{{name: "c0", mode: config.ModeConcurrent}}, core.Facts{},
			[]*core.Outcome{{Index: 0, Status: core.OutcomeViolationError, Message: "m", HasViolation: true, Violation: core.ViolationFacts{Reason: "why", Code: "X"}}},
			func(t *testing.T, s *core.Step, _ *core.Executor) {
				assert.Equal(t, core.RaiseViolation, s.Raise().Kind)
				assert.Equal(t, "why", *recordsOf(s)[0].Reason)
				assert.Equal(t, "X", *recordsOf(s)[0].ErrorCode)
			}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			e := core.NewExecutor(30, core.PolicyAllow)
			p := core.NewPlan(core.HookToolPreInvoke, refs(tc.defs...), nil, false, false)
			run, step := e.Start(p, &tc.facts)
			require.Equal(t, core.OpConcurrent, step.Op)
			assert.Equal(t, tc.facts.Pool, step.Concurrent().Pool)
			for k, o := range tc.outcomes {
				var err error
				step, err = run.Report(o)
				require.NoError(t, err)
				if k < len(tc.outcomes)-1 {
					require.Equal(t, core.OpNext, step.Op)
				}
			}
			tc.check(t, step, e)
		})
	}
}

func TestReportRejectsWrongOutcomes(t *testing.T) {
	e := core.NewExecutor(30, core.PolicyAllow)
	p := core.NewPlan(core.HookToolPreInvoke, refs(refDef{name: "a"}, refDef{name: "c", mode: config.ModeConcurrent}), nil, false, false)
	run, _ := e.Start(p, &core.Facts{})
	_, err := run.Report(ok(1))
	assert.ErrorIs(t, err, core.ErrBadOutcome)
	_, err = run.Report(with(ok(0), func(o *core.Outcome) { o.Mod = 42 }))
	assert.ErrorIs(t, err, core.ErrBadOutcome)
	step, err := run.Report(ok(0))
	require.NoError(t, err)
	require.Equal(t, core.OpConcurrent, step.Op)
	_, err = run.Report(ok(0))
	assert.ErrorIs(t, err, core.ErrBadOutcome, "index 0 is not a concurrent plugin")
}

func TestFilteringAndConditions(t *testing.T) {
	str := func(s string) *string { return &s }
	defs := []refDef{
		{name: "tool-x", conds: []config.PluginCondition{{Tools: []string{"x"}}}},
		{name: "tool-y-or-server", conds: []config.PluginCondition{{Tools: []string{"y"}}, {ServerIDs: []string{"srv"}}}},
		{name: "tenant", conds: []config.PluginCondition{{TenantIDs: []string{"t1"}}}},
		{name: "json", conds: []config.PluginCondition{{ContentTypes: []string{"application/json"}}}},
		{name: "user-sub", conds: []config.PluginCondition{{UserPatterns: []string{"@corp"}}}},
		{name: "user-key", conds: []config.PluginCondition{{UserPatterns: []string{"email"}}}},
		{name: "prompts-only", conds: []config.PluginCondition{{Prompts: []string{"p"}}}},
		{name: "plain"},
		{name: "off"},
	}
	cases := []struct {
		name  string
		facts core.Facts
		want  []string
	}{
		{"nothing set: an empty payload value never excludes", core.Facts{}, []string{"tool-x", "tool-y-or-server", "prompts-only", "plain"}},
		{"match x", core.Facts{Match: "x", HasMatch: true}, []string{"tool-x", "prompts-only", "plain"}},
		{"match z (empty match does not exclude)", core.Facts{Match: "z", HasMatch: true, ServerID: str("srv")}, []string{"tool-y-or-server", "prompts-only", "plain"}},
		{"tenant and content type", core.Facts{TenantID: str("t1"), ContentType: str(" Application/JSON; charset=utf-8")}, []string{"tool-x", "tool-y-or-server", "tenant", "json", "prompts-only", "plain"}},
		{"blank content type", core.Facts{ContentType: str("  "), Match: "q", HasMatch: true}, []string{"prompts-only", "plain"}},
		{"string user", core.Facts{User: "bob@corp.com", UserSet: true, Match: "q", HasMatch: true}, []string{"user-sub", "prompts-only", "plain"}},
		{"dict user", core.Facts{UserKeys: []string{"email"}, UserIsKeys: true, UserSet: true, Match: "q", HasMatch: true}, []string{"user-key", "prompts-only", "plain"}},
		{"empty dict user", core.Facts{UserIsKeys: true, UserSet: true, Match: "q", HasMatch: true}, []string{"prompts-only", "plain"}},
	}
	e := core.NewExecutor(30, core.PolicyAllow)
	e.Disable("off")
	rs := refs(defs...)
	p := core.NewPlan(core.HookToolPreInvoke, rs, nil, false, false)
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			run, step := e.Start(p, &tc.facts)
			var got []string
			for step.Op == core.OpCall {
				i := step.Call().Index
				got = append(got, rs[i].Name)
				var err error
				step, err = run.Report(ok(i))
				require.NoError(t, err)
			}
			assert.Equal(t, tc.want, got)
			assert.Equal(t, len(defs)-len(tc.want), run.ChainEndAttrs()["plugin.skipped_count"])
		})
	}
}

func TestSizeGuardAndSpans(t *testing.T) {
	e := core.NewExecutor(0.25, core.PolicyAllow)
	p := core.NewPlan(core.HookToolPreInvoke, refs(refDef{name: "a"}), nil, false, false)
	_, step := e.Start(p, &core.Facts{SizeAttr: "args", Size: core.MaxPayloadSize + 1})
	assert.Equal(t, core.OpRaise, step.Op)
	assert.Equal(t, core.RaiseSize, step.Raise().Kind)
	assert.Equal(t, "Payload size 1000001 exceeds limit of 1000000 bytes", step.Raise().Message)
	_, step = e.Start(p, &core.Facts{SizeAttr: "args", Size: core.MaxPayloadSize})
	assert.Equal(t, core.OpCall, step.Op, "the limit itself is allowed")

	run, step := e.Start(p, &core.Facts{Trace: true})
	assert.True(t, step.ChainSpan)
	assert.True(t, step.Call().Span)
	assert.Equal(t, 0.25, step.Call().Timeout)
	assert.Equal(t, "0.25", step.Call().TimeoutText)
	assert.Equal(t, map[string]any{"plugin.hook.type": "tool_pre_invoke", "plugin.chain.length": 1}, run.ChainSpanAttrs())
	step, err := run.Report(block(0))
	require.NoError(t, err)
	assert.True(t, step.ChainEnd)
	assert.Equal(t, map[string]any{"plugin.executed_count": 1, "plugin.skipped_count": 0, "plugin.chain.stopped": true, "plugin.chain.stopped_by": "a"}, run.ChainEndAttrs())
}

func TestSingleRuns(t *testing.T) {
	cases := []struct {
		name    string
		def     refDef
		facts   core.Facts
		merge   bool
		outcome *core.Outcome
		check   func(*testing.T, *core.Step)
	}{
		{"allowed as is", refDef{name: "s"}, core.Facts{}, true, ok(0), func(t *testing.T, s *core.Step) {
			assert.Equal(t, core.SinglePlugin, s.Done().Single)
		}},
		{"sequential block", refDef{name: "s"}, core.Facts{}, true, block(0), func(t *testing.T, s *core.Step) {
			assert.Equal(t, core.SingleNew, s.Done().Single)
			assert.False(t, s.Done().Continue)
			assert.True(t, s.Done().Violation && s.Done().Denial)
		}},
		{"block raises with hook", refDef{name: "s"}, core.Facts{ViolationsAsErrors: true, Hook: "h"}, false, block(0), func(t *testing.T, s *core.Step) {
			assert.Equal(t, "h blocked by plugin s: C - r (d)", s.Raise().Message)
		}},
		{"audit block", refDef{name: "a", mode: config.ModeAudit}, core.Facts{}, true, block(0), func(t *testing.T, s *core.Step) {
			assert.Equal(t, core.SingleNew, s.Done().Single)
			assert.True(t, s.Done().Continue)
			assert.False(t, s.Done().Payload)
		}},
		{"fire and forget block as is", refDef{name: "f", mode: config.ModeFireAndForget}, core.Facts{}, true, block(0), func(t *testing.T, s *core.Step) {
			assert.Equal(t, core.SinglePlugin, s.Done().Single)
		}},
		{"timeout under ignore", refDef{name: "s", onError: config.OnErrorDisable}, core.Facts{}, true, &core.Outcome{Status: core.OutcomeTimeout}, func(t *testing.T, s *core.Step) {
			assert.Equal(t, core.RaisePluginTimeout, s.Raise().Kind)
		}},
		{"error under ignore", refDef{name: "s", onError: config.OnErrorIgnore}, core.Facts{}, true, &core.Outcome{Status: core.OutcomeError}, func(t *testing.T, s *core.Step) {
			assert.Equal(t, core.SingleEmpty, s.Done().Single)
			assert.True(t, s.Done().Continue)
		}},
		{"error under fail", refDef{name: "s"}, core.Facts{}, true, &core.Outcome{Status: core.OutcomePluginError, Message: "m"}, func(t *testing.T, s *core.Step) {
			assert.Equal(t, core.RaiseError, s.Raise().Kind)
			assert.Equal(t, "m", s.Raise().Message)
		}},
		{"timeout under fail", refDef{name: "s"}, core.Facts{}, true, &core.Outcome{Status: core.OutcomeTimeout}, func(t *testing.T, s *core.Step) {
			assert.Equal(t, core.RaiseTimeout, s.Raise().Kind)
		}},
		{"raised violation", refDef{name: "s"}, core.Facts{}, true, &core.Outcome{Status: core.OutcomeViolationError}, func(t *testing.T, s *core.Step) {
			assert.Equal(t, core.RaiseViolation, s.Raise().Kind)
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			e := core.NewExecutor(30, core.PolicyAllow)
			ref := refs(tc.def)[0]
			run, step := e.StartSingle(ref, &tc.facts, tc.merge, true)
			require.Equal(t, core.OpCall, step.Op)
			assert.Equal(t, ref, run.Ref(0))
			assert.Nil(t, run.Plan())
			assert.Equal(t, tc.merge && tc.def.mode != config.ModeAudit && tc.def.mode != config.ModeFireAndForget, step.Call().Merge)
			_, err := run.Report(ok(1))
			assert.ErrorIs(t, err, core.ErrBadOutcome)
			step, err = run.Report(tc.outcome)
			require.NoError(t, err)
			tc.check(t, step)
		})
	}
}

func TestExecutorOptionsAndRuntimeDisabled(t *testing.T) {
	e := core.NewExecutor(0, core.PolicyDeny)
	secs, text := e.Timeout()
	assert.Equal(t, float64(core.DefaultTimeout), secs)
	assert.Equal(t, "30", text)
	assert.Equal(t, core.PolicyDeny, e.DefaultPolicy())
	e.SetDefaultPolicy(core.PolicyAllow)
	assert.Equal(t, core.PolicyAllow, e.DefaultPolicy())
	e.SetTimeout(2, "")
	_, text = e.Timeout()
	assert.Equal(t, "2", text)
	e.SetTimeout(30, "30.0")
	_, text = e.Timeout()
	assert.Equal(t, "30.0", text)

	assert.Equal(t, []string{}, e.RuntimeDisabled())
	assert.Equal(t, 1, e.Disable("b"))
	assert.Equal(t, 2, e.Disable("a"))
	assert.True(t, e.IsRuntimeDisabled("a"))
	assert.Equal(t, []string{"a", "b"}, e.RuntimeDisabled())
	assert.Equal(t, 1, e.Enable("a"))
	assert.Equal(t, 0, e.Enable("b"))
	assert.False(t, e.IsRuntimeDisabled("b"))
	e.Disable("x")
	e.ResetRuntimeDisabled()
	assert.Empty(t, e.RuntimeDisabled())

	faf := refs(refDef{name: "f", mode: config.ModeFireAndForget, onError: config.OnErrorDisable}, refDef{name: "g", mode: config.ModeFireAndForget})
	assert.True(t, e.FireAndForgetFailed(faf[0]))
	assert.False(t, e.FireAndForgetFailed(faf[1]))
	assert.Equal(t, []string{"f"}, e.RuntimeDisabled())
}

func TestPlanCache(t *testing.T) {
	e := core.NewExecutor(30, core.PolicyAllow)
	rs := refs(refDef{name: "a"}, refDef{name: "b"})
	p1 := e.Plan("h", rs, nil, false)
	assert.Same(t, p1, e.Plan("h", rs, nil, false))
	p2 := e.Plan("h", rs, []string{"args", "name"}, true)
	assert.NotSame(t, p1, p2)
	assert.Same(t, p2, e.Plan("h", rs, []string{"name", "args", "name"}, true), "policy fields are a set")
	assert.True(t, p2.Isolate)
	assert.True(t, p2.HasPolicy())
	assert.True(t, p2.Writable("args"))
	assert.False(t, p2.Writable("other"))
	assert.True(t, p1.Writable("anything"))
	e.SetDefaultPolicy(core.PolicyDeny)
	p3 := e.Plan("h", rs, nil, false)
	assert.NotSame(t, p1, p3, "the default policy is part of the key")
	assert.Equal(t, core.ApplyNone, p3.Apply)
	assert.True(t, p3.Isolate)
	e.ForgetPlans(rs[0])
	assert.NotSame(t, p3, e.Plan("h", rs, nil, false))
	other := refs(refDef{name: "a"}, refDef{name: "b"})
	assert.NotSame(t, e.Plan("h", other, nil, false), e.Plan("h", rs, nil, false), "registrations are told apart even with equal names")
	assert.False(t, p1.HasGo())
}

func TestStepAndOptBoolStrings(t *testing.T) {
	assert.Equal(t, "call", core.OpCall.String())
	assert.Equal(t, "raise", core.OpRaise.String())
	assert.Equal(t, "?", core.Op(99).String())
	assert.Equal(t, "plugin_timeout", core.RaisePluginTimeout.String())
	assert.Equal(t, "?", core.RaiseKind(99).String())
	assert.Equal(t, "policy", core.ApplyPolicy.String())
	assert.Equal(t, "none", core.ApplyNone.String())
	assert.Equal(t, "any", core.ApplyAny.String())
	for _, tc := range []struct {
		o    core.OptBool
		s, j string
	}{{core.True, "True", "true"}, {core.False, "False", "false"}, {core.None, "None", "null"}} {
		assert.Equal(t, tc.s, tc.o.String())
		b, err := tc.o.MarshalJSON()
		require.NoError(t, err)
		assert.Equal(t, tc.j, string(b))
		var back core.OptBool
		require.NoError(t, back.UnmarshalJSON(b))
		assert.Equal(t, tc.o, back)
		v, set := tc.o.Get()
		assert.Equal(t, tc.o == core.True, v)
		assert.Equal(t, tc.o != core.None, set)
	}
	var o core.OptBool
	assert.Error(t, o.UnmarshalJSON([]byte(`1`)))
}
