package pybind

import (
	"encoding/json"
	"fmt"
	"slices"
	"strconv"

	"github.com/cpex-go/cpex/core"
	"github.com/cpex-go/cpex/internal/wirejson"
)

// The context state of a go step (docs/protocol.md, "Context state of go steps"): the
// driver sends it with RunGoContext before RunGo/RunGoStart, only when it has some; the
// answer's effects carry what the Go plugins changed ("gs", "gm", "local").

// RunGoContext hands the pending go step of run the context state its Go plugins see:
// doc = {"gs"?: {GlobalContext.state}, "gm"?: {GlobalContext.metadata},
// "local"?: [[plan index, {PluginContext.state}], ...], "ext"?: [[plan index,
// {the extensions the plugin may read}], ...]}. Answers 1; a bad document is an
// error naming the field, and leaves the go step without state.
func RunGoContext(run int, doc string) (_ int, err error) {
	defer guard("RunGoContext", &err)
	re, err := st.run("RunGoContext", run)
	if err != nil {
		return 0, err
	}
	if jobPending(run) {
		return 0, fmt.Errorf("RunGoContext: run %d: its go step was started with RunGoStart", run)
	}
	re.mu.Lock()
	defer re.mu.Unlock()
	g := re.run.PendingGo()
	if g == nil {
		return 0, fmt.Errorf("RunGoContext: run %d: no go step is pending", run)
	}
	in, err := parseGoState("RunGoContext", doc, g.Indices)
	if err != nil {
		return 0, err
	}
	re.goIn = in
	return 1, nil
}

func parseGoState(fn, doc string, indices []int) (*core.GoState, error) {
	v, err := wirejson.Decode([]byte(doc))
	if err != nil {
		return nil, fmt.Errorf("%s: doc: invalid JSON %s: %v", fn, clip(doc), err)
	}
	top, ok := v.(map[string]any)
	if !ok {
		return nil, fmt.Errorf("%s: doc: want an object, got %s", fn, clip(doc))
	}
	in := &core.GoState{}
	for k, v := range top {
		switch k {
		case "gs", "gm":
			m, ok := v.(map[string]any)
			if !ok && v != nil {
				return nil, fmt.Errorf("%s: doc.%s: want an object, got %T", fn, k, v)
			}
			if k == "gs" {
				in.Global = m
			} else {
				in.Metadata = m
			}
		case "local", "ext":
			l, err := parsePerPlugin(fn, k, v, indices)
			if err != nil {
				return nil, err
			}
			if k == "local" {
				in.Local = l
			} else {
				in.Ext = l
			}
		default:
			return nil, fmt.Errorf("%s: doc: unknown field %q", fn, k)
		}
	}
	return in, nil
}

// parsePerPlugin reads [[index, object], ...] (doc.local, doc.ext); an index must be one
// of the go step's plugins.
func parsePerPlugin(fn, field string, v any, indices []int) (map[int]map[string]any, error) {
	list, ok := v.([]any)
	if !ok {
		return nil, fmt.Errorf("%s: doc.%s: want a list of [index, object] pairs, got %T", fn, field, v)
	}
	out := make(map[int]map[string]any, len(list))
	for k, e := range list {
		pair, ok := e.([]any)
		if !ok || len(pair) != 2 {
			return nil, fmt.Errorf("%s: doc.%s[%d]: want [index, object]", fn, field, k)
		}
		f, ok := pair[0].(float64)
		i := int(f)
		if !ok || float64(i) != f || !slices.Contains(indices, i) {
			return nil, fmt.Errorf("%s: doc.%s[%d]: index %v is not a plugin of the go step %v", fn, field, k, pair[0], indices)
		}
		st, ok := pair[1].(map[string]any)
		if !ok {
			return nil, fmt.Errorf("%s: doc.%s[%d]: want an object, got %T", fn, field, k, pair[1])
		}
		out[i] = st
	}
	return out, nil
}

// encodeExtReaders writes the go step's "ext": the plugins of idx that read extensions
// (core.ExtensionsReader), only when there are some: Python sends extensions for those.
func encodeExtReaders(w *jw, re *runEntry, idx []int) {
	n := 0
	for _, i := range idx {
		if !core.ReadsExtensions(re.run.Ref(i).Plugin) {
			continue
		}
		if n == 0 {
			w.Raw(`,"ext":[`)
		} else {
			w.Raw(",")
		}
		w.Int(i)
		n++
	}
	if n > 0 {
		w.Raw("]")
	}
}

// encodeGoState writes the effects' state fields, each only when it has something.
func encodeGoState(w *jw, eff *core.GoEffects) error {
	for _, f := range []struct {
		key string
		m   map[string]any
	}{{"gs", eff.Global}, {"gm", eff.Metadata}} {
		if len(f.m) == 0 {
			continue
		}
		w.Raw(`,"` + f.key + `":`)
		if err := w.Any(f.m); err != nil {
			return fmt.Errorf("effects.%s: %w", f.key, err)
		}
	}
	if len(eff.Local) == 0 {
		return nil
	}
	idx := make([]int, 0, len(eff.Local))
	for i := range eff.Local {
		idx = append(idx, i)
	}
	slices.Sort(idx)
	w.Raw(`,"local":[`)
	for k, i := range idx {
		if k > 0 {
			w.Raw(",")
		}
		w.Raw("[" + strconv.Itoa(i) + ",")
		if err := w.Any(eff.Local[i]); err != nil {
			return fmt.Errorf("effects.local[%d]: %w", i, err)
		}
		w.Raw("]")
	}
	w.Raw("]")
	return nil
}

// keepJSON replaces the state maps of eff by their keys' JSON texts, leaving out (with a
// warning) a value a Go plugin put there that JSON cannot hold (a channel, NaN): the
// driver never gets an answer it cannot read, and keeps its own value for that key.
func keepJSON(re *runEntry, eff *core.GoEffects) {
	if eff.Global == nil && eff.Metadata == nil && eff.Local == nil {
		return
	}
	warn := func(where, key string, err error) {
		eff.Logs = append(eff.Logs, core.LogEntry{Level: "warning", Message: fmt.Sprintf(
			"Go plugins of hook %s set %s key %q to a value JSON cannot hold (%v): left out", re.run.Plan().Hook, where, key, err)})
	}
	clean := func(where string, m map[string]any) map[string]any {
		if m == nil {
			return nil
		}
		out := make(map[string]any, len(m))
		for k, v := range m {
			b, err := json.Marshal(v)
			if err != nil {
				warn(where, k, err)
				continue
			}
			out[k] = json.RawMessage(b)
		}
		return out
	}
	eff.Global = clean("global state", eff.Global)
	eff.Metadata = clean("global metadata", eff.Metadata)
	for i, m := range eff.Local {
		eff.Local[i] = clean("plugin "+re.run.Ref(i).Name+"'s local state", m)
	}
}
