package core_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/cpex-go/cpex/core"
	"github.com/cpex-go/cpex/core/config"
)

// Batched reports (AppendBatch + ReportBatch) must be indistinguishable from one
// Report per outcome: each scenario is driven both ways on fresh executors and every
// observable answer is compared.

// trace is everything a driver can observe of a run.
// final is the last step of a run without its logs and records (compared apart).
type final struct {
	Op    core.Op
	Done  core.DoneStep
	Raise core.RaiseStep
}

func finalOf(s *core.Step) (final, []core.ExecutionRecord) {
	f := final{Op: s.Op}
	var recs []core.ExecutionRecord
	switch s.Op {
	case core.OpDone:
		f.Done = *s.Done()
		recs, f.Done.Records = f.Done.Records, nil
	case core.OpRaise:
		f.Raise = *s.Raise()
		recs, f.Raise.Records = f.Raise.Records, nil
	}
	return f, recs
}

type trace struct {
	Calls    []string // "i/merge/meta/apply" of each call the driver made, in order
	Commits  map[int][2]bool
	Logs     []core.LogEntry
	Final    final
	Records  []core.ExecutionRecord
	Disabled []string
	ChainEnd map[string]any
	GoRan    []int
}

type batchScenario struct {
	name     string
	refs     func() []*core.Ref
	facts    core.Facts
	policy   []string
	deny     bool
	outcomes map[int]*core.Outcome // by plan index; others are plain
	order    []int                 // concurrent completion order (default: as listed)
}

func outcomeOf(sc *batchScenario, i int) core.Outcome {
	if o, ok := sc.outcomes[i]; ok {
		cp := *o
		cp.Index = i
		return cp
	}
	return *ok(i)
}

func callKey(i int, merge, meta bool, apply core.Apply) string {
	return fmt.Sprintf("%d/%v/%v/%s", i, merge, meta, apply)
}

// runScenario drives sc to the end; batched: report serial Python calls in batches.
func runScenario(t *testing.T, sc *batchScenario, rs []*core.Ref, batched bool) trace {
	t.Helper()
	e := core.NewExecutor(30, core.PolicyAllow)
	if sc.deny {
		e.SetDefaultPolicy(core.PolicyDeny)
	}
	p := e.Plan(core.HookToolPreInvoke, rs, sc.policy, sc.policy != nil)
	facts := sc.facts
	run, step := e.Start(p, &facts)
	tr := trace{Commits: map[int][2]bool{}}
	last := -1 // the index whose outcome the current step answers
	observe := func(s *core.Step) {
		tr.Logs = append(tr.Logs, s.Logs...)
		if s.Answer && last >= 0 {
			tr.Commits[last] = [2]bool{s.Commit, s.CommitExt}
		}
	}
	observe(step)
	for steps := 0; steps < 100; steps++ {
		switch {
		case step.Op == core.OpGo:
			var eff core.GoEffects
			next, err := core.ExecGo(context.Background(), run, core.NewPayloadJSON([]byte(`{"name":"t","args":{"q":"x"}}`)), &eff)
			require.NoError(t, err)
			tr.GoRan = append(tr.GoRan, eff.Ran...)
			tr.Logs = append(tr.Logs, eff.Logs...)
			step, last = next, -1
		case step.Op == core.OpCall:
			c := step.Call()
			tr.Calls = append(tr.Calls, callKey(c.Index, c.Merge, c.Meta, c.Apply))
			outs := []core.Outcome{outcomeOf(sc, c.Index)}
			if batched && outs[0].Plain() {
				for _, c := range run.AppendBatch(nil) {
					tr.Calls = append(tr.Calls, callKey(c.Index, c.Merge, true, c.Apply))
					outs = append(outs, outcomeOf(sc, c.Index))
					if !outs[len(outs)-1].Plain() {
						break
					}
				}
			}
			for _, o := range outs[:len(outs)-1] {
				// ReportBatch checked that core answered each of these with the next
				// call and no commit, as a single report would
				tr.Commits[o.Index] = [2]bool{false, false}
			}
			var err error
			if batched {
				step, err = run.ReportBatch(outs)
			} else {
				step, err = run.Report(&outs[0])
			}
			require.NoError(t, err)
			last = outs[len(outs)-1].Index
			observe(step)
		case step.Op == core.OpConcurrent:
			order := sc.order
			if order == nil {
				order = step.Concurrent().Indices
			}
			for _, i := range order {
				o := outcomeOf(sc, i)
				var err error
				step, err = run.Report(&o)
				require.NoError(t, err)
				last = i
				observe(step)
				if step.Op != core.OpNext {
					break
				}
			}
		default:
			var recs []core.ExecutionRecord
			tr.Final, recs = finalOf(step)
			tr.Records = append([]core.ExecutionRecord(nil), recs...)
			for k := range tr.Records {
				if tr.Records[k].PluginKind == "builtin/x" {
					tr.Records[k].DurationNs = 0 // measured by core on Go plugins
				}
			}
			tr.Disabled = e.RuntimeDisabled()
			tr.ChainEnd = run.ChainEndAttrs()
			return tr
		}
	}
	t.Fatal("the run did not end")
	return tr
}

func seqRefs(n int, mut func(i int, d *refDef)) func() []*core.Ref {
	return func() []*core.Ref {
		defs := make([]refDef, n)
		for i := range defs {
			defs[i] = refDef{name: fmt.Sprintf("p%d", i), prio: i + 1}
			if mut != nil {
				mut(i, &defs[i])
			}
		}
		return refs(defs...)
	}
}

func TestBatchedReportsMatchSingleReports(t *testing.T) {
	viol := core.ViolationFacts{Reason: "r", Code: "C", Description: "d"}
	mixed := func(i int, d *refDef) {
		d.mode = []config.Mode{config.ModeSequential, config.ModeTransform, config.ModeAudit, config.ModeConcurrent, config.ModeFireAndForget}[i%5]
	}
	goMiddle := func() []*core.Ref {
		g := goFn(func(context.Context, string, *core.Payload, *core.PluginContext) (*core.Result, error) {
			return &core.Result{Metadata: map[string]any{"g": 1}}, nil
		})
		return []*core.Ref{pyRef("a", config.ModeSequential, 1), pyRef("b", config.ModeSequential, 2), goRef("g", config.ModeSequential, 3, g), pyRef("c", config.ModeTransform, 4), pyRef("d", config.ModeAudit, 5)}
	}
	srv := "srv"
	scenarios := []batchScenario{
		{name: "ten plain sequential", refs: seqRefs(10, nil)},
		{name: "all five modes plain", refs: seqRefs(10, mixed)},
		{name: "all five modes traced", refs: seqRefs(10, mixed), facts: core.Facts{Trace: true}},
		{name: "block in the middle", refs: seqRefs(6, nil), outcomes: map[int]*core.Outcome{3: block(3)}},
		{name: "block raised as violation", refs: seqRefs(6, nil), facts: core.Facts{ViolationsAsErrors: true}, outcomes: map[int]*core.Outcome{2: block(2)}},
		{name: "modification then plain", refs: seqRefs(6, nil), outcomes: map[int]*core.Outcome{1: {Continue: true, Mod: core.ModCandidate}}},
		{name: "same object modification", refs: seqRefs(4, nil), outcomes: map[int]*core.Outcome{1: {Continue: true, Mod: core.ModSame}}},
		{name: "policy diff accepted nothing", refs: seqRefs(4, nil), policy: []string{"args"}, outcomes: map[int]*core.Outcome{2: {Continue: true, Mod: core.ModRejected}}},
		{name: "ignored modification under deny", refs: seqRefs(4, nil), deny: true, outcomes: map[int]*core.Outcome{1: {Continue: true, Mod: core.ModIgnored}}},
		{name: "retry and extensions", refs: seqRefs(6, nil), outcomes: map[int]*core.Outcome{1: {Continue: true, Retry: 9}, 3: {Continue: true, Ext: core.ExtOther}, 4: {Continue: true, Ext: core.ExtSame}}},
		{name: "allow with a violation", refs: seqRefs(4, nil), outcomes: map[int]*core.Outcome{2: {Continue: true, HasViolation: true, Violation: viol}}},
		{name: "transform block suppressed", refs: seqRefs(8, mixed), outcomes: map[int]*core.Outcome{1: block(1), 2: block(2)}},
		{name: "error ignored", refs: seqRefs(5, func(i int, d *refDef) { d.onError = config.OnErrorIgnore }), outcomes: map[int]*core.Outcome{2: {Status: core.OutcomeError, Message: "boom"}}},
		{name: "timeout disables", refs: seqRefs(5, func(i int, d *refDef) { d.onError = config.OnErrorDisable }), outcomes: map[int]*core.Outcome{1: {Status: core.OutcomeTimeout}}},
		{name: "error fails", refs: seqRefs(5, nil), outcomes: map[int]*core.Outcome{3: {Status: core.OutcomePluginError, Message: "bad"}}},
		{name: "violation error raised", refs: seqRefs(5, nil), outcomes: map[int]*core.Outcome{2: {Status: core.OutcomeViolationError, Message: "v", HasViolation: true, Violation: viol}}},
		{name: "audit modification discarded", refs: seqRefs(4, func(i int, d *refDef) { d.mode = config.ModeAudit }), outcomes: map[int]*core.Outcome{1: {Continue: true, Mod: core.ModCandidate}}},
		{name: "conditions filter", facts: core.Facts{ServerID: &srv}, refs: seqRefs(6, func(i int, d *refDef) {
			if i%2 == 1 {
				d.conds = []config.PluginCondition{{ServerIDs: []string{"other"}}}
			}
		})},
		{name: "concurrent block after plain serial", refs: seqRefs(10, mixed), outcomes: map[int]*core.Outcome{8: block(8)}},
		{name: "go plugin in the middle", refs: goMiddle},
		{name: "go plugin after a modification", refs: goMiddle, outcomes: map[int]*core.Outcome{0: {Continue: true, Mod: core.ModCandidate}}},
	}
	for k := range scenarios {
		sc := &scenarios[k]
		t.Run(sc.name, func(t *testing.T) {
			rs := sc.refs()
			single := runScenario(t, sc, rs, false)
			batched := runScenario(t, sc, rs, true)
			assert.Equal(t, single, batched)
			assert.NotEmpty(t, single.Calls)
		})
	}
}

func TestBatchListsOnlyWhatPlainOutcomesLeadTo(t *testing.T) {
	g := goFn(func(context.Context, string, *core.Payload, *core.PluginContext) (*core.Result, error) {
		return nil, nil
	})
	rs := []*core.Ref{pyRef("a", config.ModeSequential, 1), pyRef("b", config.ModeTransform, 2), pyRef("c", config.ModeAudit, 3), goRef("g", config.ModeAudit, 4, g), pyRef("d", config.ModeAudit, 5), pyRef("e", config.ModeConcurrent, 6)}
	e := core.NewExecutor(30, core.PolicyAllow)
	p := e.Plan(core.HookToolPreInvoke, rs, []string{"args"}, true)
	run, step := e.Start(p, &core.Facts{})
	require.Equal(t, core.OpCall, step.Op)
	assert.Equal(t, []core.BatchCall{{Index: 1, Merge: true, Apply: core.ApplyPolicy}, {Index: 2, Merge: false, Apply: core.ApplyNone}}, run.AppendBatch(nil),
		"across serial phases, each with its phase's fields, up to the Go plugin")
	step, err := run.ReportBatch([]core.Outcome{*ok(0), *ok(1), *ok(2)})
	require.NoError(t, err)
	assert.Equal(t, core.OpGo, step.Op)
	assert.Empty(t, run.AppendBatch(nil), "nothing to batch while a go step is pending")
}

func TestReportBatchRefusesBadBatchesWhole(t *testing.T) {
	start := func() (*core.Run, *core.Executor) {
		e := core.NewExecutor(30, core.PolicyAllow)
		p := e.Plan(core.HookToolPreInvoke, seqRefs(4, func(i int, d *refDef) {
			if i == 3 {
				d.mode = config.ModeConcurrent
			}
		})(), nil, false)
		run, _ := e.Start(p, &core.Facts{})
		return run, e
	}
	cases := []struct {
		name string
		outs []core.Outcome
		msg  string
	}{
		{"empty", nil, "empty batch"},
		{"not plain before the end", []core.Outcome{{Index: 0, Continue: true, Mod: core.ModCandidate}, *ok(1)}, "outcome 0 (index 0) is not plain"},
		{"a block before the end", []core.Outcome{*block(0), *ok(1)}, "not plain"},
		{"an error before the end", []core.Outcome{{Index: 0, Status: core.OutcomeError}, *ok(1)}, "not plain"},
		{"a skipped plugin", []core.Outcome{*ok(0), *ok(2)}, "outcome 1: index 2, expected 1"},
		{"wrong first index", []core.Outcome{*ok(1), *ok(2)}, "outcome 0: index 1, expected 0"},
		{"a last outcome out of range", []core.Outcome{*ok(0), {Index: 1, Status: 99}}, "out of range"},
		{"past the serial phases", []core.Outcome{*ok(0), *ok(1), *ok(2), *ok(3)}, "at most 3 calls"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			run, _ := start()
			_, err := run.ReportBatch(c.outs)
			require.ErrorIs(t, err, core.ErrBadOutcome)
			assert.Contains(t, err.Error(), c.msg)
			// the run is untouched: the same plugins can still be reported one by one
			for i := 0; i < 3; i++ {
				step, err := run.Report(ok(i))
				require.NoError(t, err, "outcome %d", i)
				if i == 2 {
					assert.Equal(t, core.OpConcurrent, step.Op)
				}
			}
			_, err = run.ReportBatch([]core.Outcome{*ok(3), *ok(3)})
			assert.ErrorIs(t, err, core.ErrBadOutcome, "no batches in the concurrent phase")
		})
	}
	t.Run("a finished run", func(t *testing.T) {
		run, _ := start()
		_, err := run.ReportBatch([]core.Outcome{*block(0)})
		require.NoError(t, err)
		_, err = run.ReportBatch([]core.Outcome{*ok(1)})
		assert.ErrorIs(t, err, core.ErrRunFinished)
	})
	t.Run("a single run", func(t *testing.T) {
		e := core.NewExecutor(30, core.PolicyAllow)
		run, _ := e.StartSingle(refs(refDef{name: "x"})[0], &core.Facts{}, false, false)
		assert.Empty(t, run.AppendBatch(nil))
		_, err := run.ReportBatch([]core.Outcome{*ok(0), *ok(0)})
		assert.ErrorIs(t, err, core.ErrBadOutcome)
	})
}

func TestOutcomePlain(t *testing.T) {
	plain := *ok(0)
	assert.True(t, plain.Plain())
	for name, mut := range map[string]func(*core.Outcome){
		"status":    func(o *core.Outcome) { o.Status = core.OutcomeTimeout },
		"cont":      func(o *core.Outcome) { o.Continue = false },
		"mod":       func(o *core.Outcome) { o.Mod = core.ModRejected },
		"ext":       func(o *core.Outcome) { o.Ext = core.ExtSame },
		"violation": func(o *core.Outcome) { o.HasViolation = true },
		"retry":     func(o *core.Outcome) { o.Retry = 1 },
	} {
		o := plain
		mut(&o)
		assert.False(t, o.Plain(), name)
	}
}
