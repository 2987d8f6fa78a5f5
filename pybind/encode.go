package pybind

import (
	"strconv"
	"sync"

	"github.com/cpex-go/cpex/core"
)

// encodeStep writes a core step as the protocol's JSON (docs/protocol.md, "Steps").
// eff: the effects of the Go plugins that just ran (answers to RunGo), nil otherwise.
// held: the step is a go step standing for the core step (call of a Go plugin or a
// concurrent step with Go plugins).
func encodeStep(re *runEntry, step *core.Step, eff *core.GoEffects, held bool) (string, error) {
	bp := bufs.Get().(*[]byte)
	w := jw{B: (*bp)[:0]}
	defer func() {
		if cap(w.B) <= 1<<16 { // keep buffers of ordinary steps only
			*bp = w.B
			bufs.Put(bp)
		}
	}()
	return encodeStepTo(&w, re, step, eff, held)
}

// bufs recycles step buffers: a step with records is a few KB, built on every call.
var bufs = sync.Pool{New: func() any { b := make([]byte, 0, 4096); return &b }}

func encodeStepTo(w *jw, re *runEntry, step *core.Step, eff *core.GoEffects, held bool) (string, error) {
	w.Raw(`{"run":`)
	w.Int(re.id)
	logs := step.Logs
	if eff != nil {
		logs = eff.Logs
		w.Key("effects")
		if err := encodeEffects(w, eff); err != nil {
			return "", err
		}
	} else if step.Answer {
		w.Key("commit")
		w.Bool(step.Commit)
		w.Key("commit_ext")
		w.Bool(step.CommitExt)
		if step.Accept != nil {
			w.Key("accept")
			w.Strs(step.Accept)
		}
	}
	if len(logs) > 0 {
		w.Key("logs")
		w.Raw("[")
		for i, l := range logs {
			if i > 0 {
				w.Raw(",")
			}
			w.Raw("[")
			w.Str(l.Level)
			w.Raw(",")
			w.Str(l.Message)
			if l.Logger != "" {
				w.Raw(",")
				w.Str(l.Logger)
			}
			w.Raw("]")
		}
		w.Raw("]")
	}
	if step.ChainSpan {
		p := re.run.Plan()
		w.Key("chain_span")
		w.Raw(`{"plugin.hook.type":`)
		w.Str(p.Hook)
		w.Raw(`,"plugin.chain.length":`)
		w.Int(len(p.Refs))
		w.Raw("}")
	}
	if held {
		w.Key("op")
		w.Raw(`"go"`)
		idx := re.run.GoIndices(step)
		w.Key("refs")
		w.Raw("[")
		for k, i := range idx {
			if k > 0 {
				w.Raw(",")
			}
			w.Int(re.refIDOf(i))
		}
		w.Raw("]")
		w.Key("i")
		w.Ints(idx)
		w.Key("original")
		w.Bool(false)
		w.Key("async") // the payload JSON length from which Python uses RunGoStart
		w.Int(re.asyncValue(idx))
		w.Raw("}")
		return framed(w, eff)
	}
	switch step.Op {
	case core.OpCall:
		w.Key("op")
		w.Raw(`"call"`)
		w.Key("ref")
		w.Int(re.refIDOf(step.Index))
		w.Key("i")
		w.Int(step.Index)
		w.Key("timeout")
		w.Raw(step.TimeoutText)
		w.Key("merge")
		w.Bool(step.Merge)
		w.Key("meta")
		w.Bool(step.Meta)
		w.Key("diff")
		w.Bool(step.Diff)
		if step.Span {
			w.Key("span")
			w.Bool(true)
		}
		if re.plan == nil {
			// a single run has no plan answer: its one call step names the key
			w.Key("drop")
			w.Str(core.DecisionPluginKey)
		}
		if re.plan != nil {
			encodeNext(w, re, step) // batching is the only path for plain serial outcomes
		}
	case core.OpConcurrent:
		w.Key("op")
		w.Raw(`"concurrent"`)
		w.Key("refs")
		w.Raw("[")
		for k, i := range step.Indices {
			if k > 0 {
				w.Raw(",")
			}
			w.Int(re.refIDOf(i))
		}
		w.Raw("]")
		w.Key("i")
		w.Ints(step.Indices)
		w.Key("timeout")
		w.Raw(step.TimeoutText)
		w.Key("pool") // the bound of the Python tasks, 0 for none
		w.Int(core.PoolBound(step.Pool, len(step.Indices)))
		if step.Span {
			w.Key("span")
			w.Bool(true)
		}
	case core.OpNext:
		w.Key("op")
		w.Raw(`"next"`)
	case core.OpDone:
		if step.Single {
			w.Key("op")
			w.Raw(`"done","single":true`)
			w.Key("result")
			switch {
			case step.AsIs:
				w.Raw(`"plugin"`)
			case step.SingleEmpty:
				w.Raw(`"empty"`)
			default:
				w.Raw(`"new"`)
			}
			w.Key("cont")
			w.Bool(step.Continue)
			w.Key("payload")
			w.Bool(step.Payload)
			w.Key("viol")
			w.Bool(step.SingleViolation)
			w.Key("denial")
			w.Bool(step.SingleDenial)
			break
		}
		w.Key("op")
		w.Raw(`"done"`)
		w.Key("cont")
		w.Bool(step.Continue)
		if err := encodeViolation(w, re, step.ViolationIndex); err != nil {
			return "", err
		}
		w.Key("retry")
		w.Int(step.Retry)
		w.Key("payload")
		w.Bool(step.Payload)
		w.Key("ext")
		w.Bool(step.Ext)
		w.Key("decision") // the metadata entry naming the decision plugin (spec §11.8)
		if step.Decision != "" {
			w.Raw("{")
			w.Str(core.DecisionPluginKey)
			w.Raw(":")
			w.Str(step.Decision)
			w.Raw("}")
		} else {
			w.Raw("null")
		}
		w.Key("faf")
		w.Ints(step.FAF)
		if len(step.FAF) > 0 {
			_, text := re.run.Timeout()
			w.Key("faf_timeout")
			w.Raw(text)
			w.Key("faf_pool")
			w.Int(core.PoolBound(re.run.Facts().Pool, len(step.FAF)))
			// each task gets a copy of the payload the hook was called with, never the
			// chain's result (spec §11.9)
			w.Key("faf_payload")
			w.Raw(`"original"`)
		}
		w.Key("records")
		encodeRecords(w, step.Records)
		w.Key("cancel")
		w.Bool(step.Cancel)
		w.Key("chain_end")
		if step.ChainEnd {
			if err := w.Any(re.run.ChainEndAttrs()); err != nil {
				return "", err
			}
		} else {
			w.Raw("null")
		}
	case core.OpRaise:
		w.Key("op")
		w.Raw(`"raise"`)
		w.Key("kind")
		w.Str(step.Kind.String())
		w.Key("message")
		w.Str(step.Message)
		w.Key("i")
		w.Int(step.Index)
		w.Key("own")
		w.Bool(step.Own)
		w.Key("cause")
		w.Bool(step.Cause)
		if step.Kind == core.RaiseViolation {
			if v := re.viols[step.Index]; v != nil {
				if err := encodeViolation(w, re, step.Index); err != nil {
					return "", err
				}
			}
		}
		w.Key("records")
		encodeRecords(w, step.Records)
		w.Key("cancel")
		w.Bool(step.Cancel)
	}
	w.Raw("}")
	return framed(w, eff)
}

// encodeViolation writes "viol" and "violation": a Go plugin's violation travels as
// JSON (its Python call object does not exist), a Python plugin's by index.
func encodeViolation(w *jw, re *runEntry, i int) error {
	if i >= 0 {
		if v := re.viols[i]; v != nil {
			w.Key("viol")
			w.Int(-1)
			w.Key("violation")
			return writeViolation(w, v)
		}
	}
	w.Key("viol")
	w.Int(i)
	w.Key("violation")
	w.Raw("null")
	return nil
}

func writeViolation(w *jw, v *core.Violation) error {
	w.Raw(`{"reason":`)
	w.Str(v.Reason)
	w.Raw(`,"description":`)
	w.Str(v.Description)
	w.Raw(`,"code":`)
	w.Str(v.Code)
	w.Raw(`,"details":`)
	details := v.Details
	if details == nil {
		details = map[string]any{}
	}
	if err := w.Any(details); err != nil {
		return err
	}
	w.Raw(`,"mcp_error_code":`)
	if err := w.Any(v.MCPErrorCode); err != nil {
		return err
	}
	w.Raw(`,"http_status_code":`)
	if err := w.Any(v.HTTPStatusCode); err != nil {
		return err
	}
	w.Raw(`,"http_headers":`)
	if err := w.Any(v.HTTPHeaders); err != nil {
		return err
	}
	w.Raw(`,"plugin_name":`)
	w.Str(v.PluginName)
	w.Raw("}")
	return nil
}

func encodeEffects(w *jw, eff *core.GoEffects) error {
	// the new payload itself travels as the answer's second frame (framed)
	w.Raw(`{"payload":`)
	w.Bool(eff.Payload != nil)
	w.Raw(`,"meta":`)
	if len(eff.Meta) > 0 {
		if err := w.Any(eff.Meta); err != nil {
			return err
		}
	} else {
		w.Raw("null")
	}
	w.Raw(`,"ctx":`)
	w.Ints(eff.Ran)
	w.Raw("}")
	return nil
}

// framed ends an answer: its JSON text, then, when the Go plugins changed the payload,
// a newline and the new payload's JSON text (docs/protocol.md, "Framing"). The
// header never holds a raw newline (wirejson.Writer), so the first one splits the two,
// and the payload crosses once, without the escaping of a JSON string.
func framed(w *jw, eff *core.GoEffects) (string, error) {
	if eff != nil && eff.Payload != nil {
		w.B = append(w.B, '\n')
		if err := appendPayload(w, eff.Payload); err != nil {
			return "", err
		}
	}
	return string(w.B), nil
}

// appendPayload writes a payload's JSON text: the text Python sent when it still has
// it, else the tree a plugin built.
func appendPayload(w *jw, p *core.Payload) error {
	if raw, ok := p.EncodedJSON(); ok {
		w.B = append(w.B, raw...)
		return nil
	}
	v, err := p.Value()
	if err != nil {
		return err
	}
	return w.Value(v)
}

func optBool(w *jw, o core.OptBool) {
	switch o {
	case core.True:
		w.Raw("true")
	case core.False:
		w.Raw("false")
	default:
		w.Raw("null")
	}
}

func encodeRecords(w *jw, recs []core.ExecutionRecord) {
	w.Raw("[")
	for i := range recs {
		r := &recs[i]
		if i > 0 {
			w.Raw(",")
		}
		w.Raw(`{"plugin_id":`)
		w.Str(r.PluginID)
		w.Raw(`,"plugin_name":`)
		w.Str(r.PluginName)
		w.Raw(`,"plugin_kind":`)
		w.Str(r.PluginKind)
		w.Raw(`,"hook_name":`)
		w.Str(r.HookName)
		w.Raw(`,"mode":`)
		w.Str(string(r.Mode))
		w.Raw(`,"status":`)
		w.Str(string(r.Status))
		w.Raw(`,"requested_allow":`)
		optBool(w, r.RequestedAllow)
		w.Raw(`,"effective_allow":`)
		w.Bool(r.EffectiveAllow)
		w.Raw(`,"matched":`)
		optBool(w, r.Matched)
		w.Raw(`,"applied":`)
		w.Bool(r.Applied)
		w.Raw(`,"payload_modified":`)
		w.Bool(r.PayloadModified)
		w.Raw(`,"extensions_modified":`)
		w.Bool(r.ExtensionsModified)
		w.Raw(`,"duration_ns":`)
		w.B = strconv.AppendInt(w.B, r.DurationNs, 10)
		w.Raw(`,"reason":`)
		w.OptStr(r.Reason)
		w.Raw(`,"error_code":`)
		w.OptStr(r.ErrorCode)
		w.Raw(`,"config_keys":`)
		w.Strs(r.ConfigKeys)
		w.Raw("}")
	}
	w.Raw("]")
}

// encodeNext adds to a call step the calls the driver may make before reporting, as
// long as each outcome is plain (docs/protocol.md, "Batches"): each entry has
// the fields of a call step.
func encodeNext(w *jw, re *runEntry, step *core.Step) {
	re.next = re.run.AppendBatch(re.next[:0])
	if len(re.next) == 0 {
		return
	}
	w.Key("next")
	w.Raw("[")
	for k, c := range re.next {
		if k > 0 {
			w.Raw(",")
		}
		w.Raw(`{"ref":`)
		w.Int(re.refIDOf(c.Index))
		w.Key("i")
		w.Int(c.Index)
		w.Key("timeout")
		w.Raw(step.TimeoutText)
		w.Key("merge")
		w.Bool(c.Merge)
		w.Key("meta")
		w.Bool(true)
		w.Key("diff")
		w.Bool(c.Apply == core.ApplyPolicy)
		if step.Span {
			w.Key("span")
			w.Bool(true)
		}
		w.Raw("}")
	}
	w.Raw("]")
}
