package pybind

import (
	"fmt"
	"sync"

	"github.com/cpex-go/cpex/core"
)

// The single-plugin path (invoke_hook_for_plugin, execute_plugin, every external
// plugin server's call) in at most one crossing. RunSingle + RunReport remain the
// general protocol; these let the driver skip them when the engine allows it:
//
//   - SingleRule, asked once per (executor, ref, facts) and cached by the driver until
//     it changes the executor's options or metrics: the call step RunSingle would answer,
//     a rule id for RunSinglePlain, and "plain_ends", whether a plain outcome ends the
//     run with the plugin's own result and nothing else (core.Executor.SinglePlainEnds).
//     While it does, a call with a plain outcome needs no crossing at all.
//   - RunSinglePlain(rule, dur): the run of a call whose outcome was plain, without any
//     JSON: the engine decides (and counts) it as RunReport would; the answer is ""
//     when the run ended with the plugin's own result and nothing to do, else the final
//     step to carry out.
//   - RunSingleReport(rule, outcome): the run of any other call: StartSingle and Report
//     in one crossing, answering the final step ("" as RunSinglePlain does).

// singleRule is what RunSinglePlain starts a run with. The engine reads the executor's
// options at each start, so an entry stays right when they change.
type singleRule struct {
	exec  *executorEntry
	ref   *refEntry
	refID int
	facts core.Facts
	fd    factsDoc
}

type singleRuleKey struct {
	exec, ref int
	facts     string
}

// singleRules: one entry per (executor, ref, facts text), dropped with the executor
// (ExecutorRelease): a handful per plugin hook, never one per call.
var singleRules = struct {
	sync.Mutex
	ids  map[singleRuleKey]int
	byID map[int]*singleRule
	next int
}{ids: map[singleRuleKey]int{}, byID: map[int]*singleRule{}}

// SingleRule answers RunSingle's call step for ref under facts (with "run":0: no run is
// started) plus "rule" (the id for RunSinglePlain) and "plain_ends".
func SingleRule(exec int, ref int, facts string) (_ string, err error) {
	defer guard("SingleRule", &err)
	e, r, f, fd, err := singleArgs("SingleRule", exec, ref, facts)
	if err != nil {
		return "", err
	}
	run, step := e.exec.StartSingle(r.ref, f, fd.Merge, fd.Meta)
	ans, err := encodeStep(&runEntry{run: run, refID: ref}, step, nil)
	if err != nil {
		return "", err
	}
	key := singleRuleKey{exec, ref, facts}
	singleRules.Lock()
	id, ok := singleRules.ids[key]
	if !ok {
		singleRules.next++
		id = singleRules.next
		singleRules.ids[key] = id
		singleRules.byID[id] = &singleRule{exec: e, ref: r, refID: ref, facts: *f, fd: *fd}
	}
	singleRules.Unlock()
	plain := e.exec.SinglePlainEnds(r.ref, f, fd.Merge, fd.Meta)
	return fmt.Sprintf(`%s,"rule":%d,"plain_ends":%t}`, ans[:len(ans)-1], id, plain), nil
}

// RunSinglePlain runs a lone execute_plugin under rule whose call returned a plain
// outcome (core.Outcome.Plain) after durNs: "" when the engine ended it with the
// plugin's own result and nothing else, else the final step (done or raise) to carry
// out, as RunSingleReport would answer it.
func RunSinglePlain(rule int, durNs int64) (_ string, err error) {
	defer guard("RunSinglePlain", &err)
	sr, err := singleRuleOf("RunSinglePlain", rule)
	if err != nil {
		return "", err
	}
	if durNs < 0 {
		return "", fmt.Errorf("RunSinglePlain: durNs: want ≥ 0, got %d", durNs)
	}
	o := core.Outcome{Status: core.OutcomeOK, Continue: true, DurationNs: durNs}
	return sr.finish("RunSinglePlain", &o)
}

// RunSingleReport runs a lone execute_plugin under rule whose call already happened:
// starts it, folds in outcome (index 0) and answers the final step (done or raise),
// exactly as RunSingle then RunReport would, or "" when that step is the plugin's own
// result with nothing to log. No run id stays behind.
func RunSingleReport(rule int, outcome string) (_ string, err error) {
	defer guard("RunSingleReport", &err)
	sr, err := singleRuleOf("RunSingleReport", rule)
	if err != nil {
		return "", err
	}
	o, err := parseOutcome("RunSingleReport", outcome)
	if err != nil {
		return "", err
	}
	return sr.finish("RunSingleReport", o)
}

func singleRuleOf(fn string, rule int) (*singleRule, error) {
	singleRules.Lock()
	sr := singleRules.byID[rule]
	singleRules.Unlock()
	if sr == nil {
		return nil, fmt.Errorf("%s: rule: unknown single rule id %d", fn, rule)
	}
	return sr, nil
}

// singleRuns recycles the runs of one-crossing single calls: a run is done with once
// its final step is encoded (no id, no reference kept), and StartSingleInto overwrites
// it whole.
var singleRuns = sync.Pool{New: func() any { return new(core.Run) }}

// finish starts the rule's run, reports o and answers its final step, or "" when that
// step is the plugin's own result with nothing to log (the driver returns the result
// it holds: nothing to decode or carry out).
func (sr *singleRule) finish(fn string, o *core.Outcome) (string, error) {
	run := singleRuns.Get().(*core.Run)
	defer singleRuns.Put(run)
	sr.exec.exec.StartSingleInto(run, sr.ref.ref, &sr.facts, sr.fd.Merge, sr.fd.Meta)
	step, err := run.Report(o)
	if err != nil {
		return "", fmt.Errorf("%s: outcome.i=%d: %w", fn, o.Index, err)
	}
	if !run.Finished() { // a single run ends with its one outcome; say so if that changes
		return "", fmt.Errorf("%s: the core did not end the single run after its outcome", fn)
	}
	if step.Op == core.OpDone && step.Done().Single == core.SinglePlugin && len(step.Logs) == 0 {
		return "", nil
	}
	re := &runEntry{run: run, refID: sr.refID}
	re.rc.end()
	return encodeStep(re, step, nil)
}

// forgetSingleRules drops the rules of a released executor.
func forgetSingleRules(exec int) {
	singleRules.Lock()
	defer singleRules.Unlock()
	for k, id := range singleRules.ids {
		if k.exec == exec {
			delete(singleRules.ids, k)
			delete(singleRules.byID, id)
		}
	}
}

func singleArgs(fn string, exec, ref int, facts string) (*executorEntry, *refEntry, *core.Facts, *factsDoc, error) {
	e, err := st.executor(fn, "exec", exec)
	if err != nil {
		return nil, nil, nil, nil, err
	}
	r, err := st.ref(fn, "ref", ref)
	if err != nil {
		return nil, nil, nil, nil, err
	}
	f, fd, err := parseFacts(fn, facts)
	if err != nil {
		return nil, nil, nil, nil, err
	}
	return e, r, f, fd, nil
}
