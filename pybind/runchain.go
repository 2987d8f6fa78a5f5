package pybind

import (
	"fmt"
	"strconv"
	"strings"
	"sync"

	core "github.com/cpex-go/cpex/core/engine"
	"github.com/cpex-go/cpex/core/plugin"
)

// Chain rules: a run of Python plugins whose outcomes are all plain, without the facts'
// JSON, the call steps' JSON or the done step's JSON (docs/protocol.md, "Chain rules").
//
// Most runs of a plan without conditions and without Go plugins go the same way: the
// same call steps, every outcome plain, the same done step whose records differ only in
// their durations. RunChainRule runs the engine once on probe outcomes and, when that
// done step is nothing but records, hands the driver the call steps and the records as
// a standing answer. Then, per call:
//
//   - RunChainStart(rule, size attr, size): a real run of the plan, started with the
//     rule's facts and the call's size fact; the answer is its id when its first step
//     and the calls listed after it are the rule's (the driver carries out the rule's
//     call steps), else the first step's JSON, as RunStart answers it, to carry out the
//     general way (a plugin was disabled, the options changed, the payload is too big);
//   - RunChainEnd(rule, run, "dur,dur,..."): the plain outcomes of the calls the run
//     awaits (the rule's, RunChainStart checked), in order, folded in exactly as
//     RunReportPlain would; "" when the engine's done step is the rule's with these
//     durations (the run is over: the driver builds the result
//     from the rule's records), else that step's JSON to carry out;
//   - an outcome that is not plain ends the rule's path: the driver reports the batch
//     with RunReportPlain (the run's id is an ordinary run's) and goes on as usual.
//
// The engine decides every run; the rule only saves writing and parsing what it would
// say. The facts a rule stands for are the ones its plan can read: a plan without
// conditions and without Go plugins reads only the size fact (passed per call), the
// pool, "vexc" and the hook text (the driver's key), and no rule is given when tracing.

// chainRule is one standing answer for runs of a plan under some facts.
type chainRule struct {
	pe      *planEntry
	facts   core.Facts // the facts of the run that asked, with no size fact
	first   core.CallStep
	next    []core.BatchCall
	records []plugin.ExecutionRecord // the done step's records; record k's duration is call k's
}

// chainRules holds the rules by id. A rule belongs to its plan entry: rules of plans the
// state forgot are dropped when the next rule is made (bounded by the live plans).
// A plan has one rule per (vexc, pool, hook text): asked again, the rule keeps its id.
var chainRules = struct {
	sync.Mutex
	byID  map[int]*chainRule
	byKey map[chainRuleKey]int
	next  int
}{byID: map[int]*chainRule{}, byKey: map[chainRuleKey]int{}}

// chainRuleKey: what tells two rules of a plan apart (the facts a rule's plan reads,
// besides the size fact).
type chainRuleKey struct {
	plan int
	vexc bool
	pool int
	hook string
}

// noChainRule is the answer of RunChainRule when runs of the plan under these facts
// cannot be answered in advance.
const noChainRule = `{"rule":0}`

// RunChainRule answers the rule for runs of plan under facts (RunStart's facts): the
// call step RunStart would answer (with "run":0: no run is started, and "next"), plus
// "rule" (its id for RunChainStart and RunChainEnd) and "records" (the done step's
// records after plain outcomes, each with duration_ns 0), or {"rule":0} when there is
// none (a conditional plan, Go plugins, tracing, or a run that would not end with
// records alone).
func RunChainRule(plan int, facts string) (_ string, err error) {
	defer guard("RunChainRule", &err)
	st.mu.Lock()
	pe := st.plans[plan]
	st.mu.Unlock()
	if pe == nil {
		return "", fmt.Errorf("RunChainRule: plan: unknown plan id %d", plan)
	}
	f, _, err := parseFacts("RunChainRule", facts)
	if err != nil {
		return "", err
	}
	if f.Trace || pe.plan.Conditional() || pe.plan.HasGo() {
		return noChainRule, nil
	}
	f.SizeAttr, f.Size = "", 0                  // each call brings its own
	run, step := pe.exec.exec.Probe(pe.plan, f) // counts nothing: no call happened
	if !startsChain(run, step) {
		return noChainRule, nil
	}
	first := *step.Call()
	next := run.AppendBatch(nil)
	head, err := encodeStep(&runEntry{run: run, plan: pe}, step, nil)
	if err != nil {
		return "", err
	}
	outs := chainOutcomes(first.Index, next, nil)
	for k := range outs {
		outs[k].DurationNs = int64(k + 1) // tells each record's call
	}
	end, err := run.ReportBatch(outs)
	if err != nil || !endsPlain(end) {
		return noChainRule, nil
	}
	recs := end.Done().Records
	if len(recs) != len(outs) {
		return noChainRule, nil
	}
	for k := range recs {
		if recs[k].DurationNs != int64(k+1) {
			return noChainRule, nil
		}
	}
	rule := &chainRule{pe: pe, facts: *f, first: first, next: next, records: make([]plugin.ExecutionRecord, len(recs))}
	copy(rule.records, recs)
	for k := range rule.records {
		rule.records[k].DurationNs = 0
	}
	key := chainRuleKey{plan: pe.id, vexc: f.ViolationsAsErrors, pool: f.Pool, hook: f.Hook}
	chainRules.Lock()
	pruneChainRulesLocked()
	id, ok := chainRules.byKey[key]
	if !ok {
		chainRules.next++
		id = chainRules.next
		chainRules.byKey[key] = id
	}
	chainRules.byID[id] = rule
	chainRules.Unlock()
	w := jw{B: make([]byte, 0, len(head)+256*len(recs)+32)}
	w.Raw(head[:len(head)-1])
	w.Raw(`,"rule":`)
	w.Int(id)
	w.Raw(`,"records":`)
	encodeRecords(&w, rule.records)
	w.Raw("}")
	return string(w.B), nil
}

// pruneChainRulesLocked drops the rules of plans the state no longer holds.
func pruneChainRulesLocked() {
	st.mu.Lock()
	defer st.mu.Unlock()
	for key, id := range chainRules.byKey {
		if r := chainRules.byID[id]; r == nil || st.plans[r.pe.id] != r.pe {
			delete(chainRules.byID, id)
			delete(chainRules.byKey, key)
		}
	}
}

func chainRuleOf(fn string, rule int) (*chainRule, error) {
	chainRules.Lock()
	r := chainRules.byID[rule]
	chainRules.Unlock()
	if r == nil {
		return nil, fmt.Errorf("%s: rule: unknown chain rule id %d", fn, rule)
	}
	return r, nil
}

// RunChainStart starts a run of the rule's plan with the rule's facts and the call's
// size fact (sizeAttr "args" or "result" and size, or "" and 0 for none). It answers the
// run's id, in decimal, when the run's first step and the calls listed after it are the
// rule's, else the first step's JSON (as RunStart answers it; the run, when it goes on,
// is an ordinary run).
func RunChainStart(rule int, sizeAttr string, size int) (_ string, err error) {
	defer guard("RunChainStart", &err)
	cr, err := chainRuleOf("RunChainStart", rule)
	if err != nil {
		return "", err
	}
	if sizeAttr != "" && sizeAttr != "args" && sizeAttr != "result" {
		return "", fmt.Errorf("RunChainStart: sizeAttr: want \"args\", \"result\" or \"\", got %s", clip(sizeAttr))
	}
	if size < 0 || (sizeAttr == "" && size != 0) {
		return "", fmt.Errorf("RunChainStart: size: want ≥ 0 (0 without sizeAttr), got %d", size)
	}
	f := cr.facts
	f.SizeAttr, f.Size = sizeAttr, size
	run, step := cr.pe.exec.exec.Start(cr.pe.plan, &f)
	re := &runEntry{run: run, plan: cr.pe}
	st.mu.Lock()
	re.id = st.newID()
	if !run.Finished() {
		st.runs[re.id] = re
	}
	st.mu.Unlock()
	if cr.holds(run, step) {
		return strconv.Itoa(re.id), nil
	}
	return re.answer(step, nil)
}

// holds reports whether a run's first step is the rule's call and the calls listed
// after it the rule's.
func (cr *chainRule) holds(run *core.Run, step *core.Step) bool {
	if !startsChain(run, step) || *step.Call() != cr.first {
		return false
	}
	var buf [16]core.BatchCall
	next := run.AppendBatch(buf[:0])
	if len(next) != len(cr.next) {
		return false
	}
	for k := range next {
		if next[k] != cr.next[k] {
			return false
		}
	}
	return true
}

// RunChainEnd folds in the plain outcomes of the calls run awaits (durs: their durations
// in ns, "d,d,...", in order: the awaited call, then the calls listed after it), as
// RunReportPlain would. The rule is only compared with the result: a rule asked again
// meanwhile (same id, new answer) cannot make a run fold in the wrong calls. It answers
// "" when the run ended with the rule's done step, its records carrying these durations
// (the run is over and forgotten), else the step to carry out.
func RunChainEnd(rule int, run int, durs string) (_ string, err error) {
	defer guard("RunChainEnd", &err)
	cr, err := chainRuleOf("RunChainEnd", rule)
	if err != nil {
		return "", err
	}
	re, err := st.run("RunChainEnd", run)
	if err != nil {
		return "", err
	}
	if re.plan != cr.pe {
		return "", fmt.Errorf("RunChainEnd: run %d is not a run of rule %d's plan", run, rule)
	}
	re.mu.Lock()
	defer re.mu.Unlock()
	if re.run.PendingGo() != nil {
		return "", fmt.Errorf("RunChainEnd: run %d: waiting for RunGo (a go step), not outcomes", run)
	}
	outs, err := parseDurations("RunChainEnd", durs, re.run)
	if err != nil {
		return "", fmt.Errorf("%w (run %d)", err, run)
	}
	step, err := re.run.ReportBatch(outs)
	if err != nil {
		return "", fmt.Errorf("RunChainEnd: run %d: %w", run, err)
	}
	if endsPlain(step) && cr.sameRecords(step.Done().Records, outs) {
		st.forgetRun(re.id)
		re.rc.end()
		return "", nil
	}
	return re.answer(step, nil)
}

// parseDurations reads "d,d,..." into the plain outcomes of the calls run awaits: the
// awaited call and the calls listed after it, exactly one non-negative duration each.
func parseDurations(fn, durs string, run *core.Run) ([]core.Outcome, error) {
	first := run.Awaiting()
	if first < 0 {
		return nil, fmt.Errorf("%s: no serial call is awaited", fn)
	}
	var buf [16]core.BatchCall
	outs := chainOutcomes(first, run.AppendBatch(buf[:0]), nil)
	if got := strings.Count(durs, ",") + 1; got != len(outs) {
		return nil, fmt.Errorf("%s: durs: want %d durations (one per awaited call), got %d", fn, len(outs), got)
	}
	rest := durs
	for k := range outs {
		d := rest
		if c := strings.IndexByte(rest, ','); c >= 0 {
			d, rest = rest[:c], rest[c+1:]
		}
		v, err := strconv.ParseInt(d, 10, 64)
		if err != nil || v < 0 {
			return nil, fmt.Errorf("%s: durs[%d]: want a duration ≥ 0 (ns), got %s", fn, k, clip(d))
		}
		outs[k].DurationNs = v
	}
	return outs, nil
}

// chainOutcomes appends to dst the plain outcomes of the call first and the calls next.
func chainOutcomes(first int, next []core.BatchCall, dst []core.Outcome) []core.Outcome {
	dst = append(dst, core.Outcome{Index: first, Status: core.OutcomeOK, Continue: true})
	for _, c := range next {
		dst = append(dst, core.Outcome{Index: c.Index, Status: core.OutcomeOK, Continue: true})
	}
	return dst
}

// startsChain: the run awaits a serial call, with nothing else to do first.
func startsChain(run *core.Run, step *core.Step) bool {
	return !run.Finished() && step.Op == core.OpCall && len(step.Logs) == 0 && !step.ChainSpan
}

// endsPlain: a done step that is records and nothing else (no log, commit, payload,
// extensions, violation, retry, decision, fire-and-forget task, span or cancel).
func endsPlain(s *core.Step) bool {
	if s.Op != core.OpDone || len(s.Logs) > 0 || s.ChainEnd || s.Commit || s.CommitExt || s.Accept != nil {
		return false
	}
	d := s.Done()
	return d.Single == core.SingleNone && d.Continue && d.ViolationIndex < 0 && d.Retry == 0 && !d.Payload &&
		!d.Ext && d.Decision == "" && len(d.FAF) == 0 && !d.FAFCount && !d.Cancel
}

// sameRecords: recs are the rule's records with the durations of outs.
func (cr *chainRule) sameRecords(recs []plugin.ExecutionRecord, outs []core.Outcome) bool {
	if len(recs) != len(cr.records) {
		return false
	}
	for k := range recs {
		if !sameRecord(&recs[k], &cr.records[k], outs[k].DurationNs) {
			return false
		}
	}
	return true
}

func sameRecord(a, b *plugin.ExecutionRecord, dur int64) bool {
	return a.DurationNs == dur && a.PluginID == b.PluginID && a.PluginName == b.PluginName &&
		a.PluginKind == b.PluginKind && a.HookName == b.HookName && a.Mode == b.Mode && a.Status == b.Status &&
		a.RequestedAllow == b.RequestedAllow && a.EffectiveAllow == b.EffectiveAllow && a.Matched == b.Matched &&
		a.Applied == b.Applied && a.PayloadModified == b.PayloadModified && a.ExtensionsModified == b.ExtensionsModified &&
		sameOptStr(a.Reason, b.Reason) && sameOptStr(a.ErrorCode, b.ErrorCode) && sameStrs(a.ConfigKeys, b.ConfigKeys)
}

func sameOptStr(a, b *string) bool {
	if a == nil || b == nil {
		return a == b
	}
	return *a == *b
}

func sameStrs(a, b []string) bool {
	if len(a) != len(b) || (a == nil) != (b == nil) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}
