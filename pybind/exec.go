package pybind

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/cpex-go/cpex/core"
	"github.com/cpex-go/cpex/core/config"
	"github.com/cpex-go/cpex/internal/wirejson"
)

// The stepwise protocol (docs/protocol.md): executors, refs, Go plugins, plans, runs.

// ExecutorNew creates an executor; opts = {"timeout": secs, "default_policy": "allow"|"deny"}.
func ExecutorNew(opts string) (id int, err error) {
	defer guard("ExecutorNew", &err)
	secs, text, hasT, pol, hasP, err := parseExecutorOptions("ExecutorNew", opts)
	if err != nil {
		return 0, err
	}
	if !hasT {
		secs, text = core.DefaultTimeout, "30"
	}
	if !hasP {
		pol = core.PolicyAllow
	}
	e := core.NewExecutor(secs, pol)
	e.SetTimeout(secs, text)
	st.mu.Lock()
	defer st.mu.Unlock()
	id = st.newID()
	st.executors[id] = &executorEntry{id: id, exec: e, plans: map[*core.Plan]int{}}
	return id, nil
}

// ExecutorUpdate changes an executor's options (each key optional); answers id.
func ExecutorUpdate(id int, opts string) (_ int, err error) {
	defer guard("ExecutorUpdate", &err)
	e, err := st.executor("ExecutorUpdate", "id", id)
	if err != nil {
		return 0, err
	}
	secs, text, hasT, pol, hasP, err := parseExecutorOptions("ExecutorUpdate", opts)
	if err != nil {
		return 0, err
	}
	if hasT {
		e.exec.SetTimeout(secs, text)
	}
	if hasP {
		e.exec.SetDefaultPolicy(pol)
	}
	return id, nil
}

// ExecutorRelease frees an executor and its plans.
func ExecutorRelease(id int) (_ int, err error) {
	defer guard("ExecutorRelease", &err)
	st.mu.Lock()
	defer st.mu.Unlock()
	e := st.executors[id]
	if e == nil {
		return 0, fmt.Errorf("ExecutorRelease: id: unknown executor id %d", id)
	}
	for _, pid := range e.plans {
		st.dropPlanLocked(pid)
	}
	delete(st.executors, id)
	forgetSingleRules(id)
	return id, nil
}

// ExecutorRuntimeDisabled answers the runtime-disabled plugin names as a sorted JSON list.
func ExecutorRuntimeDisabled(id int) (_ string, err error) {
	defer guard("ExecutorRuntimeDisabled", &err)
	e, err := st.executor("ExecutorRuntimeDisabled", "id", id)
	if err != nil {
		return "", err
	}
	var w jw
	w.Strs(e.exec.RuntimeDisabled())
	return string(w.B), nil
}

// ExecutorSetRuntimeDisabled edits the runtime-disabled set: op add | discard | clear.
func ExecutorSetRuntimeDisabled(id int, op string, name string) (_ int, err error) {
	defer guard("ExecutorSetRuntimeDisabled", &err)
	e, err := st.executor("ExecutorSetRuntimeDisabled", "id", id)
	if err != nil {
		return 0, err
	}
	switch op {
	case "add":
		return e.exec.Disable(name), nil
	case "discard":
		return e.exec.Enable(name), nil
	case "clear":
		e.exec.ResetRuntimeDisabled()
		return 0, nil
	}
	return 0, fmt.Errorf("ExecutorSetRuntimeDisabled: op: want add, discard or clear, got %q", op)
}

// ExecutorFafDone reports a finished fire-and-forget task of ref on hook (outcome: its
// "i" is ignored). The driver reports every task that raised or timed out, and the ones
// that returned too when the done step said faf_count (metrics on); core counts it and,
// for a failure, applies on_error and answers what the driver does:
// {"log": [level, text], "message": text, "disabled": bool}; for a return, null.
func ExecutorFafDone(id int, ref int, hook string, outcome string) (_ string, err error) {
	defer guard("ExecutorFafDone", &err)
	e, err := st.executor("ExecutorFafDone", "id", id)
	if err != nil {
		return "", err
	}
	r, err := st.ref("ExecutorFafDone", "ref", ref)
	if err != nil {
		return "", err
	}
	o, err := parseOutcome("ExecutorFafDone", outcome)
	if err != nil {
		return "", err
	}
	e.exec.FireAndForgetDone(r.ref, hook, o)
	if o.Status == core.OutcomeOK {
		return "null", nil
	}
	v := e.exec.FireAndForgetFailure(r.ref, o)
	var w jw
	w.Raw(`{"log":[`)
	w.Str(v.Log.Level)
	w.Raw(",")
	w.Str(v.Log.Message)
	w.Raw(`],"message":`)
	w.Str(v.Message)
	w.Raw(`,"disabled":`)
	w.Bool(v.Disabled)
	w.Raw("}")
	return string(w.B), nil
}

// RefRegister registers the trusted identity of a plugin registration; answers its id.
func RefRegister(info string) (id int, err error) {
	defer guard("RefRegister", &err)
	ri, err := parseRefInfo("RefRegister", info)
	if err != nil {
		return 0, err
	}
	// priority: a Python int; beyond int64 it sorts at the nearest bound (docs/semantics.md)
	prio := 100
	if ri.Priority != "" {
		n, perr := saturatingInt([]byte(ri.Priority))
		if perr != nil {
			return 0, fmt.Errorf("RefRegister: info.priority of plugin %q: want an integer, got %s", string(*ri.Name), ri.Priority.String())
		}
		prio = clampInt(n)
	}
	goID, err := intOf("RefRegister", "info.go", ri.Go, 0)
	if err != nil {
		return 0, err
	}
	spec := core.RefSpec{
		UUID: string(*ri.UUID), Name: string(*ri.Name), Kind: string(ri.Kind), Mode: modeOf(*ri.Mode), Priority: prio,
		OnError: onErrorOf(*ri.OnError), ConfigKeys: textStrings(ri.Config),
	}
	for _, c := range ri.Conditions {
		spec.Conditions = append(spec.Conditions, c.condition())
	}
	st.mu.Lock()
	defer st.mu.Unlock()
	if goID != 0 {
		p := st.plugins[goID]
		if p == nil {
			return 0, fmt.Errorf("RefRegister: info.go of plugin %q: unknown Go plugin id %d", *ri.Name, goID)
		}
		spec.Plugin = p.plugin
	}
	id = st.newID()
	st.refs[id] = &refEntry{id: id, ref: core.NewRef(spec), plans: map[int]struct{}{}}
	return id, nil
}

// RefRelease frees a ref and the plans that use it.
func RefRelease(id int) (_ int, err error) {
	defer guard("RefRelease", &err)
	st.mu.Lock()
	defer st.mu.Unlock()
	r := st.refs[id]
	if r == nil {
		return 0, fmt.Errorf("RefRelease: id: unknown ref id %d", id)
	}
	for pid := range r.plans {
		st.dropPlanLocked(pid)
	}
	delete(st.refs, id)
	return id, nil
}

func (s *state) dropPlanLocked(pid int) {
	p := s.plans[pid]
	if p == nil {
		return
	}
	delete(s.plans, pid)
	delete(p.exec.plans, p.plan)
	for _, rid := range p.refIDs {
		if r := s.refs[rid]; r != nil {
			delete(r.plans, pid)
			p.exec.exec.ForgetPlans(r.ref)
		}
	}
}

// GoPluginNew builds a Go plugin; spec = {"name", "kind", "hooks", "config"}.
func GoPluginNew(spec string) (id int, err error) {
	defer guard("GoPluginNew", &err)
	var s goPluginSpec
	if err := decodeStrict("GoPluginNew", "spec", spec, &s); err != nil {
		return 0, err
	}
	if s.Name == nil || *s.Name == "" {
		return 0, fmt.Errorf("GoPluginNew: spec.name: required, got %s", clip(spec))
	}
	if s.Kind == nil || !core.IsGoKind(*s.Kind) {
		return 0, fmt.Errorf("GoPluginNew: spec.kind of plugin %q: want %s<name>, got %s", *s.Name, core.BuiltinPrefix, optQuote(s.Kind))
	}
	p, err := core.NewPlugin(core.PluginSpec{Name: string(*s.Name), Kind: *s.Kind, Hooks: s.Hooks, Config: config.NormalizeNumbers(s.Config)})
	if err != nil {
		return 0, fmt.Errorf("GoPluginNew: %w", err)
	}
	if p == nil {
		return 0, fmt.Errorf("GoPluginNew: plugin %q (kind %s): factory returned no plugin", *s.Name, *s.Kind)
	}
	st.mu.Lock()
	defer st.mu.Unlock()
	id = st.newID()
	st.plugins[id] = &goPluginEntry{id: id, name: string(*s.Name), kind: *s.Kind, plugin: p}
	return id, nil
}

// GoPluginRelease shuts a Go plugin down and frees it.
func GoPluginRelease(id int) (_ int, err error) {
	defer guard("GoPluginRelease", &err)
	st.mu.Lock()
	p := st.plugins[id]
	delete(st.plugins, id)
	st.mu.Unlock()
	if p == nil {
		return 0, fmt.Errorf("GoPluginRelease: id: unknown Go plugin id %d", id)
	}
	if sd, ok := p.plugin.(core.Shutdowner); ok {
		ctx, cancel := context.WithTimeout(context.Background(), core.DefaultTimeout*1e9)
		defer cancel()
		if err := sd.Shutdown(ctx); err != nil {
			return 0, fmt.Errorf("GoPluginRelease: plugin %q: shutdown: %w", p.name, err)
		}
	}
	return id, nil
}

// GoPluginInvoke runs one Go plugin call directly (a Python caller calling the plugin's
// hook method); facts as RunStart's context part. Answer {"cont", "payload",
// "violation", "metadata", "retry"}.
func GoPluginInvoke(id int, hook string, payload string, facts string) (_ string, err error) {
	defer guard("GoPluginInvoke", &err)
	p, raw, pc, timeout, err := goInvokeInput("GoPluginInvoke", id, payload, facts, true)
	if err != nil {
		return "", err
	}
	defer observeOnLoop(p, len(raw), threadCPU(), time.Now())
	return goInvoke(context.Background(), "GoPluginInvoke", p, hook, raw, pc, timeout)
}

// goInvokeInput checks GoPluginInvoke's (or GoPluginInvokeStart's) arguments; the
// payload only when checkPayload (GoPluginInvokeStart checks and copies it on its
// goroutine, as RunGoStart does: raw is then "").
func goInvokeInput(fn string, id int, payload, facts string, checkPayload bool) (*goPluginEntry, string, *core.PluginContext, time.Duration, error) {
	st.mu.Lock()
	p := st.plugins[id]
	st.mu.Unlock()
	if p == nil {
		return nil, "", nil, 0, fmt.Errorf("%s: id: unknown Go plugin id %d", fn, id)
	}
	raw := ""
	if checkPayload {
		raw = payload
		if !wirejson.ValidText(raw) {
			return nil, "", nil, 0, fmt.Errorf("%s: payload: invalid JSON %s", fn, clip(payload))
		}
	}
	pc, timeout, err := parseContextFacts(fn, facts)
	if err != nil {
		return nil, "", nil, 0, err
	}
	return p, raw, pc, timeout, nil
}

// goInvoke runs the call and encodes GoPluginInvoke's answer; the caller measures it
// (observeOnLoop on the caller's thread, wall time off the loop).
func goInvoke(ctx context.Context, fn string, p *goPluginEntry, hook string, raw string, pc *core.PluginContext, timeout time.Duration) (string, error) {
	res, _, err := goCallPlugin(ctx, fn, p, hook, raw, pc, timeout)
	if err != nil {
		return "", err
	}
	var w jw
	if err := writeInvokeHead(&w, fn, p, res); err != nil {
		return "", err
	}
	w.Raw("}")
	if err := writeInvokeFrame(&w, fn, p, res); err != nil {
		return "", err
	}
	return string(w.B), nil
}

// parseContextFactsJSON reads GoPluginInvoke's facts with encoding/json: the reference
// parseContextFacts (goplugin_facts.go) agrees with, and the reader of the documents it
// leaves to it (errors, and shapes the driver never sends). Facts are (user as in RunStart's facts); an
// optional "timeout" (seconds) bounds the call (default: core.DefaultTimeout).
func parseContextFactsJSON(fn, doc string) (*core.PluginContext, time.Duration, error) {
	var fd struct {
		RID         *string         `json:"rid"`
		ServerID    *string         `json:"server_id"`
		TenantID    *string         `json:"tenant_id"`
		ContentType *string         `json:"content_type"`
		User        json.RawMessage `json:"user"`
		Timeout     *float64        `json:"timeout"`
	}
	if err := json.Unmarshal([]byte(doc), &fd); err != nil {
		return nil, 0, fmt.Errorf("%s: facts: invalid JSON %s: %v", fn, clip(doc), err)
	}
	var timeout time.Duration
	if fd.Timeout != nil {
		if !(*fd.Timeout > 0) || *fd.Timeout > 1e9 {
			return nil, 0, fmt.Errorf("%s: facts.timeout: want a positive number of seconds, got %v", fn, *fd.Timeout)
		}
		timeout = time.Duration(*fd.Timeout * float64(time.Second))
	}
	var uf core.Facts
	if err := parseUser(fn, fd.User, &uf); err != nil {
		return nil, 0, err
	}
	pc := &core.PluginContext{User: uf.ContextUser()}
	for _, f := range []struct {
		dst *string
		src *string
	}{{&pc.RequestID, fd.RID}, {&pc.ServerID, fd.ServerID}, {&pc.TenantID, fd.TenantID}, {&pc.ContentType, fd.ContentType}} {
		if f.src != nil {
			*f.dst = *f.src
		}
	}
	return pc, timeout, nil
}

// PlanGet answers the plan of hook for the refs (comma-separated ids in hook_refs
// order) under policy (null or the writable fields).
func PlanGet(exec int, hook string, refs string, policy string) (_ string, err error) {
	defer guard("PlanGet", &err)
	e, err := st.executor("PlanGet", "exec", exec)
	if err != nil {
		return "", err
	}
	ids, err := parseRefIDs("PlanGet", refs)
	if err != nil {
		return "", err
	}
	fields, hasPolicy, err := parsePolicy("PlanGet", policy)
	if err != nil {
		return "", err
	}
	crefs := make([]*core.Ref, len(ids))
	st.mu.Lock()
	for k, id := range ids {
		r := st.refs[id]
		if r == nil {
			st.mu.Unlock()
			return "", fmt.Errorf("PlanGet: refs[%d]: unknown ref id %d", k, id)
		}
		crefs[k] = r.ref
	}
	st.mu.Unlock()
	plan := e.exec.Plan(hook, crefs, fields, hasPolicy)
	st.mu.Lock()
	defer st.mu.Unlock()
	// The host caches every answer (one entry per PlanGet): when the core emptied its
	// cache, or the host's reached the core's bound, all three are emptied together
	// (core.MaxCachedPlans), so none of them grows under churn.
	flush := false
	if f := e.exec.PlanFlushes(); f != e.flushes || e.handed >= core.MaxCachedPlans {
		e.flushes, e.handed, flush = f, 0, true
		st.dropExecPlansLocked(e)
	}
	e.handed++
	if pid, ok := e.plans[plan]; ok {
		if pe := st.plans[pid]; pe != nil {
			return pe.answer, nil
		}
	}
	for _, id := range ids { // a ref released meanwhile
		if st.refs[id] == nil {
			return "", fmt.Errorf("PlanGet: refs: ref id %d was released", id)
		}
	}
	pid := st.newID()
	pe := &planEntry{id: pid, exec: e, plan: plan, refIDs: ids, costs: make([]core.LoopCost, len(ids))}
	var w jw
	w.Raw(`{"plan":`)
	w.Int(pid)
	w.Raw(`,"match":`)
	if plan.Type.MatchAttr != "" {
		w.Str(plan.Type.MatchAttr)
	} else {
		w.Raw("null")
	}
	w.Raw(`,"size":[["args","values"],["result","whole"]],"isolate":`)
	w.Bool(plan.Isolate)
	// merging a result's metadata drops this key: the executor sets it (spec §11.8)
	w.Raw(`,"drop":`)
	w.Str(core.DecisionPluginKey)
	w.Raw("}")
	pe.answer = string(w.B)
	st.plans[pid] = pe
	if flush {
		// the flag is for this answer only (a later hit on the same plan is no flush)
		w.B = append(w.B[:len(w.B)-1], `,"flush":true}`...)
		return st.registerPlanLocked(e, pe, plan, ids, string(w.B)), nil
	}
	return st.registerPlanLocked(e, pe, plan, ids, pe.answer), nil
}

// registerPlanLocked records a new plan entry of e and answers answer.
func (s *state) registerPlanLocked(e *executorEntry, pe *planEntry, plan *core.Plan, ids []int, answer string) string {
	e.plans[plan] = pe.id
	for _, id := range ids {
		s.refs[id].plans[pe.id] = struct{}{}
	}
	return answer
}

// dropExecPlansLocked forgets every plan entry of e (the host empties its cache too).
// Runs in flight keep their entry: they hold it, not its id.
func (s *state) dropExecPlansLocked(e *executorEntry) {
	for _, pid := range e.plans {
		p := s.plans[pid]
		if p == nil {
			continue
		}
		delete(s.plans, pid)
		for _, rid := range p.refIDs {
			if r := s.refs[rid]; r != nil {
				delete(r.plans, pid)
			}
		}
	}
	clear(e.plans)
}

func (re *runEntry) refIDOf(i int) int {
	if re.plan == nil {
		return re.refID
	}
	return re.plan.refIDs[i]
}

// RunStart starts a run of plan; answers the first step.
func RunStart(plan int, facts string) (_ string, err error) {
	defer guard("RunStart", &err)
	st.mu.Lock()
	pe := st.plans[plan]
	st.mu.Unlock()
	if pe == nil {
		return "", fmt.Errorf("RunStart: plan: unknown plan id %d", plan)
	}
	f, _, err := parseFacts("RunStart", facts)
	if err != nil {
		return "", err
	}
	run, step := pe.exec.exec.Start(pe.plan, f)
	re := &runEntry{run: run, plan: pe}
	st.mu.Lock()
	re.id = st.newID()
	if !run.Finished() {
		st.runs[re.id] = re
	}
	st.mu.Unlock()
	return re.answer(step, nil)
}

// RunSingle starts a lone execute_plugin of ref; facts = {"vexc", "merge", "meta",
// "trace"} (and optionally "hook", for the violation message).
func RunSingle(exec int, ref int, facts string) (_ string, err error) {
	defer guard("RunSingle", &err)
	e, err := st.executor("RunSingle", "exec", exec)
	if err != nil {
		return "", err
	}
	r, err := st.ref("RunSingle", "ref", ref)
	if err != nil {
		return "", err
	}
	f, fd, err := parseFacts("RunSingle", facts)
	if err != nil {
		return "", err
	}
	run, step := e.exec.StartSingle(r.ref, f, fd.Merge, fd.Meta)
	re := &runEntry{run: run, refID: ref}
	st.mu.Lock()
	re.id = st.newID()
	st.runs[re.id] = re
	st.mu.Unlock()
	return re.answer(step, nil)
}

// answer encodes step and forgets the run once it ended.
func (re *runEntry) answer(step *core.Step, eff *core.GoEffects) (string, error) {
	if re.run.Finished() {
		st.forgetRun(re.id)
		re.rc.end()
	}
	return encodeStep(re, step, eff)
}

// RunReport folds in an outcome; answers the next step.
func RunReport(run int, outcome string) (_ string, err error) {
	defer guard("RunReport", &err)
	re, err := st.run("RunReport", run)
	if err != nil {
		return "", err
	}
	o, err := parseOutcome("RunReport", outcome)
	if err != nil {
		return "", err
	}
	re.mu.Lock()
	defer re.mu.Unlock()
	if re.run.PendingGo() != nil {
		return "", fmt.Errorf("RunReport: run %d: waiting for RunGo (a go step), not an outcome", run)
	}
	step, err := re.run.Report(o)
	if err != nil {
		return "", fmt.Errorf("RunReport: run %d: outcome.i=%d: %w", run, o.Index, err)
	}
	return re.answer(step, nil)
}

// reportBatch folds outs into the run (fn: the reporting function, for errors) and
// answers the next step.
func (re *runEntry) reportBatch(fn string, outs []core.Outcome) (string, error) {
	re.mu.Lock()
	defer re.mu.Unlock()
	if re.run.PendingGo() != nil {
		return "", fmt.Errorf("%s: run %d: waiting for RunGo (a go step), not outcomes", fn, re.id)
	}
	step, err := re.run.ReportBatch(outs)
	if err != nil {
		return "", fmt.Errorf("%s: run %d: %w", fn, re.id, err)
	}
	return re.answer(step, nil)
}

// RunGo answers a go step with the payload JSON; answers the next step with the
// effects of the Go plugins that ran.
func RunGo(run int, payload string) (_ string, err error) {
	defer guard("RunGo", &err)
	cpu0 := threadCPU()
	re, err := goStepInput("RunGo", run, payload, true)
	if err != nil {
		return "", err
	}
	re.mu.Lock()
	defer re.mu.Unlock()
	g := re.run.PendingGo()
	if g == nil {
		return "", fmt.Errorf("RunGo: run %d: no go step is pending", run)
	}
	return re.execGo("RunGo", g, payload, cpu0)
}

// goStepInput checks the run of RunGo (or RunGoStart) and, when checkPayload, the
// payload. RunGoStart checks the payload on its goroutine instead: on the caller's
// thread, validating 256 KB took milliseconds. The payload is used as it is, never
// copied: gopy already made the Go string, and the decoded tree's strings are substrings
// of it (core.NewPayloadText).
func goStepInput(fn string, run int, payload string, checkPayload bool) (*runEntry, error) {
	re, err := st.run(fn, run)
	if err != nil {
		return nil, err
	}
	if jobPending(run) {
		return nil, fmt.Errorf("%s: run %d: its go step was started with RunGoStart: call RunGoFinish", fn, run)
	}
	if !checkPayload {
		return re, nil
	}
	if err := checkJSON(fn, run, payload); err != nil {
		return nil, err
	}
	return re, nil
}

func checkJSON(fn string, run int, raw string) error {
	if !wirejson.ValidText(raw) {
		return fmt.Errorf("%s: run %d: payload: invalid JSON %s", fn, run, clip(raw))
	}
	return nil
}

// execGo runs the Go plugins of the pending go step g (re.mu held) on the payload JSON
// raw and answers the next step with their effects. cpu0 is threadCPU at the start of a
// call on the caller's thread (RunGo), -1 off it.
func (re *runEntry) execGo(fn string, g *core.GoStep, raw string, cpu0 int64) (string, error) {
	cost := re.goStepCost(g.Indices[0])
	start := time.Now()
	eff := core.GoEffects{In: re.goIn}
	re.goIn = nil
	re.goLen = len(raw)
	step, err := core.ExecGo(re.rc.get(), re.run, core.NewPayloadText(raw), &eff)
	if err != nil {
		return "", fmt.Errorf("%s: run %d: %w", fn, re.id, err)
	}
	// Measured whether it ran on the loop or off it: what it would cost the loop next time.
	// On the loop, a step whose wall time reached cpuCheckFrom counts the CPU time its
	// thread spent when that is less (as observeOnLoop does for direct calls): a step
	// whose thread the OS descheduled did not stall the loop by its own work, and must
	// not send the plan's next steps off the loop (~150 µs more latency each).
	defer func() { cost.Observe(len(raw), int64(onLoopCost(cpu0, start))) }()
	for i, v := range eff.Violations {
		if re.viols == nil {
			re.viols = map[int]*core.Violation{}
		}
		re.viols[i] = v
	}
	for i, d := range eff.Denials {
		if re.denials == nil {
			re.denials = map[int]map[string]any{}
		}
		re.denials[i] = d
	}
	if eff.Ran == nil {
		eff.Ran = []int{}
	}
	keepJSON(re, &eff)
	return re.answer(step, &eff)
}

// RunAbort forgets a run Python gave up on and cancels its Go work in flight (the
// plugins' contexts end with Canceled).
func RunAbort(run int) (_ int, err error) {
	defer guard("RunAbort", &err)
	dropJob(run) // a pending RunGoStart: its answer is dropped when the Go work ends
	releaseFrame(run)
	st.mu.Lock()
	re, ok := st.runs[run]
	delete(st.runs, run)
	st.mu.Unlock()
	if !ok {
		return 0, nil
	}
	re.rc.end()
	return 1, nil
}

// RunGoUnreadable answers a go step whose payload the driver cannot write as JSON;
// facts = {"field": name or null, "circular": bool, "cause": "Type: text"}. Core ends
// the run (core.Run.Unreadable) and answers the raise step.
func RunGoUnreadable(run int, facts string) (_ string, err error) {
	defer guard("RunGoUnreadable", &err)
	re, err := st.run("RunGoUnreadable", run)
	if err != nil {
		return "", err
	}
	var f struct {
		Field    *string `json:"field"`
		Circular bool    `json:"circular"`
		Cause    string  `json:"cause"`
	}
	if err := json.Unmarshal([]byte(facts), &f); err != nil {
		return "", fmt.Errorf("RunGoUnreadable: facts: %v (got %s)", err, clip(facts))
	}
	re.mu.Lock()
	defer re.mu.Unlock()
	if re.run.PendingGo() == nil {
		return "", fmt.Errorf("RunGoUnreadable: run %d: no go step is pending", run)
	}
	field := ""
	if f.Field != nil {
		field = *f.Field
	}
	step, err := re.run.Unreadable(field, f.Circular, f.Cause)
	if err != nil {
		return "", fmt.Errorf("RunGoUnreadable: run %d: %w", run, err)
	}
	return re.answer(step, nil)
}
