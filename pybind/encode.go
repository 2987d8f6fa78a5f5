package pybind

import (
	"slices"
	"strconv"
	"sync"
	"unsafe"

	"github.com/cpex-go/cpex/core"
)

// encodeStep writes a core step as the protocol's JSON (docs/protocol.md, "Steps").
// eff: the effects of the Go plugins that just ran (answers to RunGo), nil otherwise.
// Each Op's part is written by its own function.
func encodeStep(re *runEntry, step *core.Step, eff *core.GoEffects) (string, error) {
	bp := bufs.Get().(*[]byte)
	w := jw{B: (*bp)[:0]}
	defer func() {
		if cap(w.B) <= pooledCap { // keep buffers of ordinary steps only (see framed)
			*bp = w.B
			bufs.Put(bp)
		}
	}()
	return encodeStepTo(&w, re, step, eff)
}

// pooledCap is the largest step buffer bufs keeps.
const pooledCap = 1 << 16

// bufs recycles step buffers: a step with records is a few KB, built on every call.
var bufs = sync.Pool{New: func() any { b := make([]byte, 0, 4096); return &b }}

func encodeStepTo(w *jw, re *runEntry, step *core.Step, eff *core.GoEffects) (string, error) {
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
	var err error
	switch step.Op {
	case core.OpGo:
		encodeGo(w, re, step.Go())
	case core.OpCall:
		encodeCall(w, re, step.Call())
	case core.OpConcurrent:
		encodeConcurrent(w, re, step.Concurrent())
	case core.OpNext:
		w.Key("op")
		w.Raw(`"next"`)
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
	w.Raw("}")
	return framed(w, eff, re.goLen)
}

// encodeGo: the Go plugins core runs itself once the driver sends the payload (RunGo).
func encodeGo(w *jw, re *runEntry, g *core.GoStep) {
	w.Key("op")
	w.Raw(`"go"`)
	encodeRefs(w, re, g.Indices)
	w.Key("original")
	w.Bool(false)
	w.Key("async") // the payload JSON length from which Python uses RunGoStart
	w.Int(re.asyncValue(g.Indices))
	encodeExtReaders(w, re, g.Indices)
}

// encodeRefs writes "refs" (the ref ids) and "i" (the plan indices) of the plugins idx.
func encodeRefs(w *jw, re *runEntry, idx []int) {
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
}

// encodeCallFields writes the fields of a call (a call step's, or an entry of its
// "next").
func encodeCallFields(w *jw, re *runEntry, c *core.CallStep) {
	w.Key("ref")
	w.Int(re.refIDOf(c.Index))
	w.Key("i")
	w.Int(c.Index)
	w.Key("timeout")
	w.Raw(c.TimeoutText)
	w.Key("merge")
	w.Bool(c.Merge)
	w.Key("meta")
	w.Bool(c.Meta)
	w.Key("diff")
	w.Bool(c.Diff)
	if c.Span {
		w.Key("span")
		w.Bool(true)
	}
}

func encodeCall(w *jw, re *runEntry, c *core.CallStep) {
	w.Key("op")
	w.Raw(`"call"`)
	encodeCallFields(w, re, c)
	if re.plan == nil {
		// a single run has no plan answer: its one call step names the key
		w.Key("drop")
		w.Str(core.DecisionPluginKey)
		return
	}
	encodeNext(w, re, c) // batching is the only path for plain serial outcomes
}

func encodeConcurrent(w *jw, re *runEntry, c *core.ConcurrentStep) {
	w.Key("op")
	w.Raw(`"concurrent"`)
	encodeRefs(w, re, c.Indices)
	w.Key("timeout")
	w.Raw(c.TimeoutText)
	w.Key("pool") // the bound of the Python tasks, 0 for none
	w.Int(core.PoolBound(c.Pool, len(c.Indices)))
	if c.Span {
		w.Key("span")
		w.Bool(true)
	}
}

// encodeSingleDone: the result of a single-plugin run (RunSingle).
func encodeSingleDone(w *jw, d *core.DoneStep) {
	w.Key("op")
	w.Raw(`"done","single":true`)
	w.Key("result")
	switch d.Single {
	case core.SinglePlugin:
		w.Raw(`"plugin"`)
	case core.SingleEmpty:
		w.Raw(`"empty"`)
	default:
		w.Raw(`"new"`)
	}
	w.Key("cont")
	w.Bool(d.Continue)
	w.Key("payload")
	w.Bool(d.Payload)
	w.Key("viol")
	w.Bool(d.Violation)
	w.Key("denial")
	w.Bool(d.Denial)
}

func encodeDone(w *jw, re *runEntry, d *core.DoneStep, chainEnd bool) error {
	w.Key("op")
	w.Raw(`"done"`)
	w.Key("cont")
	w.Bool(d.Continue)
	if err := encodeViolation(w, re, d.ViolationIndex); err != nil {
		return err
	}
	w.Key("retry")
	w.Int(d.Retry)
	w.Key("payload")
	w.Bool(d.Payload)
	w.Key("ext")
	w.Bool(d.Ext)
	w.Key("decision") // the metadata entry naming the decision plugin (spec §11.8)
	if d.Decision != "" {
		w.Raw("{")
		w.Str(core.DecisionPluginKey)
		w.Raw(":")
		w.Str(d.Decision)
		w.Raw("}")
	} else {
		w.Raw("null")
	}
	w.Key("faf")
	w.Ints(d.FAF)
	if len(d.FAF) > 0 {
		_, text := re.run.Timeout()
		w.Key("faf_timeout")
		w.Raw(text)
		w.Key("faf_pool")
		w.Int(core.PoolBound(re.run.Facts().Pool, len(d.FAF)))
		// each task gets a copy of the payload the hook was called with, never the
		// chain's result (spec §11.9)
		w.Key("faf_payload")
		w.Raw(`"original"`)
		w.Key("faf_count")
		w.Bool(d.FAFCount)
	}
	w.Key("records")
	encodeRecords(w, d.Records)
	w.Key("cancel")
	w.Bool(d.Cancel)
	w.Key("chain_end")
	if chainEnd {
		return w.Any(re.run.ChainEndAttrs())
	}
	w.Raw("null")
	return nil
}

func encodeRaise(w *jw, re *runEntry, r *core.RaiseStep) error {
	w.Key("op")
	w.Raw(`"raise"`)
	w.Key("kind")
	w.Str(r.Kind.String())
	w.Key("message")
	w.Str(r.Message)
	w.Key("i")
	w.Int(r.Index)
	w.Key("own")
	w.Bool(r.Own)
	w.Key("cause")
	w.Bool(r.Cause)
	if r.Kind == core.RaiseViolation {
		if v := re.viols[r.Index]; v != nil {
			if err := encodeViolation(w, re, r.Index); err != nil {
				return err
			}
		}
		if d := re.denials[r.Index]; d != nil {
			n := len(w.B)
			w.Key("denial")
			if err := w.Value(d); err != nil {
				w.B = w.B[:n] // not JSON (NaN, ...): dropped, as sanitizing drops what is not a number
			}
		}
	}
	w.Key("records")
	encodeRecords(w, r.Records)
	w.Key("cancel")
	w.Bool(r.Cancel)
	return nil
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
	w.Raw(`{"payload":`)
	// the new payload itself travels as the answer's second frame (framed)
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
	if err := encodeGoState(w, eff); err != nil {
		return err
	}
	w.Raw("}")
	return nil
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
func encodeNext(w *jw, re *runEntry, step *core.CallStep) {
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
		// the call step core would answer after a plain outcome (advance() in core/engine)
		w.Raw("{")
		encodeCallFields(w, re, &core.CallStep{Index: c.Index, TimeoutText: step.TimeoutText, Merge: c.Merge, Meta: true,
			Apply: c.Apply, Diff: c.Apply == core.ApplyPolicy, Span: step.Span})
		w.Raw("}")
	}
	w.Raw("]")
}

// framed ends an answer: its JSON text, then, when the Go plugins changed the payload,
// a newline and the new payload's JSON text (docs/protocol.md, "Framing"). The
// header never holds a raw newline (wirejson.Writer), so the first one splits the two,
// and the payload crosses once, without the escaping of a JSON string.
//
// hint is the length of the payload the Go plugins were given: the buffer is grown to
// hold a payload about as long at once (appending a megabyte to a pooled 4 KB buffer
// reallocated it ten times: 2 MB of garbage per answer). An answer past pooledCap
// becomes the answer string as it is: encodeStep never pools such a buffer, so nothing
// writes to it again, and the megabyte is not copied once more.
func framed(w *jw, eff *core.GoEffects, hint int) (string, error) {
	if eff != nil && eff.Payload != nil {
		if need := len(w.B) + 1 + hint + hint/8; need > cap(w.B) {
			w.B = slices.Grow(w.B, need-len(w.B))
		}
		w.B = append(w.B, '\n')
		if err := appendPayload(w, eff.Payload); err != nil {
			return "", err
		}
	}
	if cap(w.B) > pooledCap {
		return unsafe.String(unsafe.SliceData(w.B), len(w.B)), nil
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
