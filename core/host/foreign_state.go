package host

import (
	"reflect"
	"unsafe"

	"github.com/cpex-go/cpex/core/plugin"
)

// The context state of the Go plugins of a foreign go step. A foreign driver (Python)
// owns the GlobalContext and the table of local contexts; it sends what the Go plugins
// of a go step may see (GoState: JSON values only) and gets back what they changed
// (GoEffects.Global/Metadata/Local). The rules are the Go Manager's (driver.go): every
// plugin gets a snapshot of the shared state and metadata as they stand before its call,
// its changes are merged into them (top-level keys set, none removed) when the step says
// merge, and its local state is the one the driver's table kept for it.

// GoState is what the driver sends with a go step; nil when it has nothing to send.
type GoState struct {
	// Global and Metadata are the GlobalContext's state and metadata.
	Global, Metadata map[string]any
	// Local holds, per plan index, the plugin's local state (PluginContext.state) from
	// the driver's context table.
	Local map[int]map[string]any
	// Ext holds, per plan index, the extensions the plugin may read (JSON form), for
	// PluginContext.Extensions; read-only.
	Ext map[int]map[string]any
}

// goShared is the running shared state of one go step.
type goShared struct {
	in       *GoState
	gs, gm   map[string]any // the running state and metadata (in's until a merge)
	ownG     bool           // gs / gm are this step's own copies
	ownM     bool
	anyMerge bool
	// snapG, snapM: a snapshot a serial plugin was handed and left as it was, equal to
	// gs / gm: the next serial plugin gets it instead of a new copy (a plugin may not
	// keep its PluginContext past Invoke), so plugins that do not touch the state cost
	// one copy per go step, not one per plugin.
	snapG, snapM map[string]any
}

func newGoShared(in *GoState) goShared {
	s := goShared{in: in}
	if in != nil {
		s.gs, s.gm = in.Global, in.Metadata
	}
	return s
}

// prepare gives plugin i's context the snapshots and its local state (copies: the driver's
// values are what changes are found against).
func (s *goShared) prepare(i int, pc *plugin.PluginContext) {
	if s.snapG != nil {
		pc.GlobalState, s.snapG = s.snapG, nil
	} else {
		pc.GlobalState = copyMap(s.gs)
	}
	if s.snapM != nil {
		pc.Metadata, s.snapM = s.snapM, nil
	} else {
		pc.Metadata = copyMap(s.gm)
	}
	pc.State, pc.Extensions = nil, nil
	if s.in != nil {
		if s.in.Local != nil {
			pc.State = copyMap(s.in.Local[i])
		}
		if s.in.Ext != nil {
			pc.Extensions = s.in.Ext[i]
		}
	}
}

// recycle keeps a serial plugin's snapshots for the next plugin when they still hold
// exactly the running state and metadata (after its merge, if any).
func (s *goShared) recycle(pc *plugin.PluginContext) {
	if pc.GlobalState != nil && untouched(pc.GlobalState, s.gs) {
		s.snapG = pc.GlobalState
	}
	if pc.Metadata != nil && untouched(pc.Metadata, s.gm) {
		s.snapM = pc.Metadata
	}
}

// merge folds a returned plugin's shared state and metadata into the running ones; a
// snapshot the plugin left untouched changes nothing and costs no copy.
func (s *goShared) merge(pc *plugin.PluginContext) {
	if mergeShared(&s.gs, &s.ownG, pc.GlobalState) {
		s.anyMerge = true
	}
	if mergeShared(&s.gm, &s.ownM, pc.Metadata) {
		s.anyMerge = true
	}
}

// mergeShared sets snap's keys in *running, made the step's own copy (*own) on the
// first change; it reports whether anything was merged.
func mergeShared(running *map[string]any, own *bool, snap map[string]any) bool {
	if len(snap) == 0 || untouched(snap, *running) {
		return false
	}
	if !*own {
		*running, *own = copyMapN(*running, len(snap)), true
	}
	for k, v := range snap {
		(*running)[k] = v
	}
	return true
}

// local records plugin i's local state when it differs from what the driver sent.
func (s *goShared) local(i int, pc *plugin.PluginContext, eff *GoEffects) {
	var sent map[string]any
	if s.in != nil {
		sent = s.in.Local[i]
	}
	if sameState(sent, pc.State) {
		return
	}
	if eff.Local == nil {
		eff.Local = map[int]map[string]any{}
	}
	st := pc.State
	if st == nil {
		st = map[string]any{}
	}
	eff.Local[i] = st
}

// finish answers the shared keys the step set to another value than the driver sent.
func (s *goShared) finish(eff *GoEffects) {
	if !s.anyMerge {
		return
	}
	var inG, inM map[string]any
	if s.in != nil {
		inG, inM = s.in.Global, s.in.Metadata
	}
	if s.ownG {
		eff.Global = changedKeys(inG, s.gs)
	}
	if s.ownM {
		eff.Metadata = changedKeys(inM, s.gm)
	}
}

// changedKeys: the keys of now that were absent from or different in before (nil for
// none). Values the plugins did not replace are the very values sent, which DeepEqual
// finds equal without walking them (same map or slice).
func changedKeys(before, now map[string]any) map[string]any {
	var out map[string]any
	for k, v := range now {
		if old, ok := before[k]; ok && reflect.DeepEqual(old, v) {
			continue
		}
		if out == nil {
			out = map[string]any{}
		}
		out[k] = v
	}
	return out
}

// untouched reports whether snap holds exactly the keys of src with the very same values
// (the interface words compared: a value a plugin wrote anew counts as a change, which
// the merge then finds equal or not). A nested value changed in place is not seen.
func untouched(snap, src map[string]any) bool {
	if len(snap) != len(src) {
		return false
	}
	for k, v := range snap {
		w, ok := src[k]
		if !ok || !identical(v, w) {
			return false
		}
	}
	return true
}

type eface struct{ typ, data unsafe.Pointer }

func identical(a, b any) bool {
	return *(*eface)(unsafe.Pointer(&a)) == *(*eface)(unsafe.Pointer(&b))
}

func sameState(a, b map[string]any) bool {
	if len(a) == 0 && len(b) == 0 {
		return true
	}
	return reflect.DeepEqual(a, b)
}

func copyMapN(m map[string]any, extra int) map[string]any {
	out := make(map[string]any, len(m)+extra)
	for k, v := range m {
		out[k] = v
	}
	return out
}
