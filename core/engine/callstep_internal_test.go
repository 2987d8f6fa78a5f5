package engine

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/cpex-go/cpex/core/config"
)

// advance refills a call step's part only when the phase changes (callFor): every call
// step must still read as if it were written whole, across phases and across runs of
// one recycled Run.
func TestCallStepsAcrossPhasesAndRecycledRuns(t *testing.T) {
	refs := []*Ref{
		NewRef(RefSpec{Name: "s1", Mode: config.ModeSequential, Priority: 1, OnError: config.OnErrorFail}),
		NewRef(RefSpec{Name: "s2", Mode: config.ModeSequential, Priority: 2, OnError: config.OnErrorFail}),
		NewRef(RefSpec{Name: "t1", Mode: config.ModeTransform, Priority: 3, OnError: config.OnErrorFail}),
		NewRef(RefSpec{Name: "a1", Mode: config.ModeAudit, Priority: 4, OnError: config.OnErrorFail}),
		NewRef(RefSpec{Name: "a2", Mode: config.ModeAudit, Priority: 5, OnError: config.OnErrorFail}),
	}
	e := NewExecutor(30, PolicyAllow)
	plan := NewPlan("tool_pre_invoke", refs, []string{"args"}, true, false)
	want := []CallStep{
		{Index: 0, Timeout: 30, TimeoutText: "30", Merge: true, Meta: true, Apply: ApplyPolicy, Diff: true},
		{Index: 1, Timeout: 30, TimeoutText: "30", Merge: true, Meta: true, Apply: ApplyPolicy, Diff: true},
		{Index: 2, Timeout: 30, TimeoutText: "30", Merge: true, Meta: true, Apply: ApplyPolicy, Diff: true},
		{Index: 3, Timeout: 30, TimeoutText: "30", Meta: true, Apply: ApplyNone},
		{Index: 4, Timeout: 30, TimeoutText: "30", Meta: true, Apply: ApplyNone},
	}
	var r Run
	for run, trace := range []bool{false, true, false} {
		step := e.StartInto(&r, plan, &Facts{RequestID: "r", Trace: trace})
		for k := range want {
			require.Equal(t, OpCall, step.Op, "run %d, call %d", run, k)
			w := want[k]
			w.Span = trace
			w.TimeoutText = step.Call().TimeoutText // as Python prints it; not what is tested here
			assert.Equal(t, w, *step.Call(), "run %d, call %d", run, k)
			var err error
			step, err = r.Report(&Outcome{Index: k, Status: OutcomeOK, Continue: true})
			require.NoError(t, err)
		}
		require.Equal(t, OpDone, step.Op)
		assert.Len(t, step.Done().Records, len(refs))
	}
}

// A recycled Run whose last call was in the phase the next run starts in must still
// refill the step: here the runs differ in Trace.
func TestCallStepsOfARecycledRunInTheSamePhase(t *testing.T) {
	refs := []*Ref{
		NewRef(RefSpec{Name: "s1", Mode: config.ModeSequential, Priority: 1, OnError: config.OnErrorFail}),
		NewRef(RefSpec{Name: "s2", Mode: config.ModeSequential, Priority: 2, OnError: config.OnErrorFail}),
	}
	e := NewExecutor(30, PolicyAllow)
	plan := NewPlan("tool_pre_invoke", refs, nil, false, false)
	var r Run
	for run, trace := range []bool{false, true, false, true} {
		step := e.StartInto(&r, plan, &Facts{RequestID: "r", Trace: trace})
		for k := range refs {
			require.Equal(t, OpCall, step.Op)
			assert.Equal(t, k, step.Call().Index, "run %d", run)
			assert.Equal(t, trace, step.Call().Span, "run %d, call %d", run, k)
			var err error
			step, err = r.Report(&Outcome{Index: k, Status: OutcomeOK, Continue: true})
			require.NoError(t, err)
		}
		require.Equal(t, OpDone, step.Op)
	}
}
