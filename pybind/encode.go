package pybind

import (
	"strconv"
	"sync"

	"github.com/cpex-go/cpex/core"
)

// encodeStep writes a core step as the protocol's JSON (docs/protocol.md, "Steps").
// eff: the effects of the Go plugins that just ran (answers to RunGo), nil otherwise.
// Each Op's part is written by its own function.
func encodeStep(re *runEntry, step *core.Step, eff *core.GoEffects) (string, error) {
	bp := bufs.Get().(*[]byte)
	w := jw{b: (*bp)[:0]}
	defer func() {
		if cap(w.b) <= 1<<16 { // keep buffers of ordinary steps only
			*bp = w.b
			bufs.Put(bp)
		}
	}()
	return encodeStepTo(&w, re, step, eff)
}

// bufs recycles step buffers: a step with records is a few KB, built on every call.
var bufs = sync.Pool{New: func() any { b := make([]byte, 0, 4096); return &b }}

func encodeStepTo(w *jw, re *runEntry, step *core.Step, eff *core.GoEffects) (string, error) {
	w.raw(`{"run":`)
	w.int(re.id)
	logs := step.Logs
	if eff != nil {
		logs = eff.Logs
		w.key("effects")
		if err := encodeEffects(w, eff); err != nil {
			return "", err
		}
	} else if step.Answer {
		w.key("commit")
		w.bool(step.Commit)
		w.key("commit_ext")
		w.bool(step.CommitExt)
		if step.Accept != nil {
			w.key("accept")
			w.strs(step.Accept)
		}
	}
	if len(logs) > 0 {
		w.key("logs")
		w.raw("[")
		for i, l := range logs {
			if i > 0 {
				w.raw(",")
			}
			w.raw("[")
			w.str(l.Level)
			w.raw(",")
			w.str(l.Message)
			if l.Logger != "" {
				w.raw(",")
				w.str(l.Logger)
			}
			w.raw("]")
		}
		w.raw("]")
	}
	if step.ChainSpan {
		p := re.run.Plan()
		w.key("chain_span")
		w.raw(`{"plugin.hook.type":`)
		w.str(p.Hook)
		w.raw(`,"plugin.chain.length":`)
		w.int(len(p.Refs))
		w.raw("}")
	}
	var err error
	switch step.Op {
	case core.OpGo:
		encodeGo(w, re, step.Go())
	case core.OpCall:
		encodeCall(w, re, step.Call())
	case core.OpConcurrent:
		encodeConcurrent(w, re, step.Concurrent())
	case core.OpNext:
		w.key("op")
		w.raw(`"next"`)
	case core.OpDone:
		if d := step.Done(); d.Single != core.SingleNone {
			encodeSingleDone(w, d)
		} else {
			err = encodeDone(w, re, d, step.ChainEnd)
		}
	case core.OpRaise:
		err = encodeRaise(w, re, step.Raise())
	}
	if err != nil {
		return "", err
	}
	w.raw("}")
	return string(w.b), nil
}

// encodeGo: the Go plugins core runs itself once the driver sends the payload (RunGo).
func encodeGo(w *jw, re *runEntry, g *core.GoStep) {
	w.key("op")
	w.raw(`"go"`)
	encodeRefs(w, re, g.Indices)
	w.key("original")
	w.bool(false)
	w.key("async") // the payload JSON length from which Python uses RunGoStart
	w.int(re.asyncValue(g.Indices))
}

// encodeRefs writes "refs" (the ref ids) and "i" (the plan indices) of the plugins idx.
func encodeRefs(w *jw, re *runEntry, idx []int) {
	w.key("refs")
	w.raw("[")
	for k, i := range idx {
		if k > 0 {
			w.raw(",")
		}
		w.int(re.refIDOf(i))
	}
	w.raw("]")
	w.key("i")
	w.ints(idx)
}

// encodeCallFields writes the fields of a call (a call step's, or an entry of its
// "next").
func encodeCallFields(w *jw, re *runEntry, c *core.CallStep) {
	w.key("ref")
	w.int(re.refIDOf(c.Index))
	w.key("i")
	w.int(c.Index)
	w.key("timeout")
	w.raw(c.TimeoutText)
	w.key("merge")
	w.bool(c.Merge)
	w.key("meta")
	w.bool(c.Meta)
	w.key("diff")
	w.bool(c.Diff)
	if c.Span {
		w.key("span")
		w.bool(true)
	}
}

func encodeCall(w *jw, re *runEntry, c *core.CallStep) {
	w.key("op")
	w.raw(`"call"`)
	encodeCallFields(w, re, c)
	if re.plan == nil {
		// a single run has no plan answer: its one call step names the key
		w.key("drop")
		w.str(core.DecisionPluginKey)
		return
	}
	encodeNext(w, re, c) // batching is the only path for plain serial outcomes
}

func encodeConcurrent(w *jw, re *runEntry, c *core.ConcurrentStep) {
	w.key("op")
	w.raw(`"concurrent"`)
	encodeRefs(w, re, c.Indices)
	w.key("timeout")
	w.raw(c.TimeoutText)
	w.key("pool") // the bound of the Python tasks, 0 for none
	w.int(core.PoolBound(c.Pool, len(c.Indices)))
	if c.Span {
		w.key("span")
		w.bool(true)
	}
}

// encodeSingleDone: the result of a single-plugin run (RunSingle).
func encodeSingleDone(w *jw, d *core.DoneStep) {
	w.key("op")
	w.raw(`"done","single":true`)
	w.key("result")
	switch d.Single {
	case core.SinglePlugin:
		w.raw(`"plugin"`)
	case core.SingleEmpty:
		w.raw(`"empty"`)
	default:
		w.raw(`"new"`)
	}
	w.key("cont")
	w.bool(d.Continue)
	w.key("payload")
	w.bool(d.Payload)
	w.key("viol")
	w.bool(d.Violation)
	w.key("denial")
	w.bool(d.Denial)
}

func encodeDone(w *jw, re *runEntry, d *core.DoneStep, chainEnd bool) error {
	w.key("op")
	w.raw(`"done"`)
	w.key("cont")
	w.bool(d.Continue)
	if err := encodeViolation(w, re, d.ViolationIndex); err != nil {
		return err
	}
	w.key("retry")
	w.int(d.Retry)
	w.key("payload")
	w.bool(d.Payload)
	w.key("ext")
	w.bool(d.Ext)
	w.key("decision") // the metadata entry naming the decision plugin (spec §11.8)
	if d.Decision != "" {
		w.raw("{")
		w.str(core.DecisionPluginKey)
		w.raw(":")
		w.str(d.Decision)
		w.raw("}")
	} else {
		w.raw("null")
	}
	w.key("faf")
	w.ints(d.FAF)
	if len(d.FAF) > 0 {
		_, text := re.run.Timeout()
		w.key("faf_timeout")
		w.raw(text)
		w.key("faf_pool")
		w.int(core.PoolBound(re.run.Facts().Pool, len(d.FAF)))
		// each task gets a copy of the payload the hook was called with, never the
		// chain's result (spec §11.9)
		w.key("faf_payload")
		w.raw(`"original"`)
	}
	w.key("records")
	encodeRecords(w, d.Records)
	w.key("cancel")
	w.bool(d.Cancel)
	w.key("chain_end")
	if chainEnd {
		return w.any(re.run.ChainEndAttrs())
	}
	w.raw("null")
	return nil
}

func encodeRaise(w *jw, re *runEntry, r *core.RaiseStep) error {
	w.key("op")
	w.raw(`"raise"`)
	w.key("kind")
	w.str(r.Kind.String())
	w.key("message")
	w.str(r.Message)
	w.key("i")
	w.int(r.Index)
	w.key("own")
	w.bool(r.Own)
	w.key("cause")
	w.bool(r.Cause)
	if r.Kind == core.RaiseViolation {
		if v := re.viols[r.Index]; v != nil {
			if err := encodeViolation(w, re, r.Index); err != nil {
				return err
			}
		}
	}
	w.key("records")
	encodeRecords(w, r.Records)
	w.key("cancel")
	w.bool(r.Cancel)
	return nil
}

// encodeViolation writes "viol" and "violation": a Go plugin's violation travels as
// JSON (its Python call object does not exist), a Python plugin's by index.
func encodeViolation(w *jw, re *runEntry, i int) error {
	if i >= 0 {
		if v := re.viols[i]; v != nil {
			w.key("viol")
			w.int(-1)
			w.key("violation")
			return writeViolation(w, v)
		}
	}
	w.key("viol")
	w.int(i)
	w.key("violation")
	w.raw("null")
	return nil
}

func writeViolation(w *jw, v *core.Violation) error {
	w.raw(`{"reason":`)
	w.str(v.Reason)
	w.raw(`,"description":`)
	w.str(v.Description)
	w.raw(`,"code":`)
	w.str(v.Code)
	w.raw(`,"details":`)
	details := v.Details
	if details == nil {
		details = map[string]any{}
	}
	if err := w.any(details); err != nil {
		return err
	}
	w.raw(`,"mcp_error_code":`)
	if err := w.any(v.MCPErrorCode); err != nil {
		return err
	}
	w.raw(`,"http_status_code":`)
	if err := w.any(v.HTTPStatusCode); err != nil {
		return err
	}
	w.raw(`,"http_headers":`)
	if err := w.any(v.HTTPHeaders); err != nil {
		return err
	}
	w.raw(`,"plugin_name":`)
	w.str(v.PluginName)
	w.raw("}")
	return nil
}

func encodeEffects(w *jw, eff *core.GoEffects) error {
	w.raw(`{"payload":`)
	if eff.Payload != nil {
		if raw, ok := eff.Payload.EncodedJSON(); ok {
			w.str(string(raw))
		} else {
			// A plugin's new tree: encoded straight into the string form (jsontree.go).
			v, err := eff.Payload.Value()
			if err != nil {
				return err
			}
			if err := w.quotedTree(v); err != nil {
				return err
			}
		}
	} else {
		w.raw("null")
	}
	w.raw(`,"meta":`)
	if len(eff.Meta) > 0 {
		if err := w.any(eff.Meta); err != nil {
			return err
		}
	} else {
		w.raw("null")
	}
	w.raw(`,"ctx":`)
	w.ints(eff.Ran)
	w.raw("}")
	return nil
}

func optBool(w *jw, o core.OptBool) {
	switch o {
	case core.True:
		w.raw("true")
	case core.False:
		w.raw("false")
	default:
		w.raw("null")
	}
}

func encodeRecords(w *jw, recs []core.ExecutionRecord) {
	w.raw("[")
	for i := range recs {
		r := &recs[i]
		if i > 0 {
			w.raw(",")
		}
		w.raw(`{"plugin_id":`)
		w.str(r.PluginID)
		w.raw(`,"plugin_name":`)
		w.str(r.PluginName)
		w.raw(`,"plugin_kind":`)
		w.str(r.PluginKind)
		w.raw(`,"hook_name":`)
		w.str(r.HookName)
		w.raw(`,"mode":`)
		w.str(string(r.Mode))
		w.raw(`,"status":`)
		w.str(string(r.Status))
		w.raw(`,"requested_allow":`)
		optBool(w, r.RequestedAllow)
		w.raw(`,"effective_allow":`)
		w.bool(r.EffectiveAllow)
		w.raw(`,"matched":`)
		optBool(w, r.Matched)
		w.raw(`,"applied":`)
		w.bool(r.Applied)
		w.raw(`,"payload_modified":`)
		w.bool(r.PayloadModified)
		w.raw(`,"extensions_modified":`)
		w.bool(r.ExtensionsModified)
		w.raw(`,"duration_ns":`)
		w.b = strconv.AppendInt(w.b, r.DurationNs, 10)
		w.raw(`,"reason":`)
		w.optStr(r.Reason)
		w.raw(`,"error_code":`)
		w.optStr(r.ErrorCode)
		w.raw(`,"config_keys":`)
		w.strs(r.ConfigKeys)
		w.raw("}")
	}
	w.raw("]")
}

// encodeNext adds to a call step the calls the driver may make before reporting, as
// long as each outcome is plain (docs/protocol.md, "Batches"): each entry has
// the fields of a call step.
func encodeNext(w *jw, re *runEntry, step *core.CallStep) {
	re.next = re.run.AppendBatch(re.next[:0])
	if len(re.next) == 0 {
		return
	}
	w.key("next")
	w.raw("[")
	for k, c := range re.next {
		if k > 0 {
			w.raw(",")
		}
		// the call step core would answer after a plain outcome (advance() in core/engine)
		w.raw("{")
		encodeCallFields(w, re, &core.CallStep{Index: c.Index, TimeoutText: step.TimeoutText, Merge: c.Merge, Meta: true,
			Apply: c.Apply, Diff: c.Apply == core.ApplyPolicy, Span: step.Span})
		w.raw("}")
	}
	w.raw("]")
}
