package engine

// SinglePlainEnds reports the engine's standing answer for lone execute_plugin runs
// (StartSingle) of ref under facts: whether a plain outcome (Outcome.Plain: the plugin
// returned, let processing go on, and carried nothing to apply or say) ends the run with
// the plugin's own result and nothing else: no log line, no counter, no raise.
//
// When it does, a foreign driver may finish such a call without reporting it (the
// single-plugin fast path of invoke_hook_for_plugin): the rule is still the engine's,
// asked once per (ref, facts) and cached by the driver, not re-implemented there. The
// answer is found by running the rule on a probe outcome, so it follows reportSingle
// whatever that decides. It is false while metrics are on: every call must be counted.
// The answer holds until the executor's options or metrics change.
func (e *Executor) SinglePlainEnds(ref *Ref, facts *Facts, merge, meta bool) bool {
	run, _ := e.StartSingle(ref, facts, merge, meta)
	if run.pm != nil { // counting: the probe must not be counted, and real calls must be
		return false
	}
	probe := Outcome{Status: OutcomeOK, Continue: true}
	if !probe.Plain() {
		return false
	}
	step, err := run.Report(&probe)
	if err != nil || step.Op != OpDone || len(step.Logs) > 0 {
		return false
	}
	return step.Done().Single == SinglePlugin
}
