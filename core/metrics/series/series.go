// Package series keeps the core's per-plugin call counters and latency histograms.
//
// It is a leaf package (no import of core) so that core can count into it and the
// exposition packages (core/metrics for client_golang, pybind for prometheus_client)
// can read it. Every series is created once, when a plan first runs under a Registry
// (one mutex-guarded map lookup per plan and series), and a call only does atomic adds
// on the series it already holds: no map lookup and no lock on the call path.
//
// Label cardinality is bounded by design: a series is keyed by plugin name and hook
// name only, never by request data.
package series

import (
	"sort"
	"sync"
	"sync/atomic"
)

// Outcome is what one plugin call came to, as the executor applied it.
type Outcome uint8

// The outcomes (label values of cpex_plugin_calls_total).
const (
	// Allowed: the plugin ran and the chain went on with no change of its.
	Allowed Outcome = iota
	// Blocked: the plugin halted the chain (a block in sequential or concurrent mode,
	// or a violation error it raised). A block suppressed by transform or audit mode
	// counts as Allowed (or Modified): the chain went on.
	Blocked
	// Modified: the executor accepted the plugin's payload or extension change.
	Modified
	// Error: the plugin raised or returned an error (whatever its on_error).
	Error
	// Timeout: the plugin exceeded the timeout (whatever its on_error).
	Timeout
	// SkippedCondition: the plugin's conditions did not match the call.
	SkippedCondition
	// Disabled: the plugin was runtime-disabled (on_error: disable) when the call came.
	Disabled

	NumOutcomes = 7
)

var outcomeNames = [NumOutcomes]string{"allowed", "blocked", "modified", "error", "timeout", "skipped_condition", "disabled"}

// String is the label value.
func (o Outcome) String() string {
	if int(o) < NumOutcomes {
		return outcomeNames[o]
	}
	return "unknown"
}

// Outcomes lists every outcome in label order.
func Outcomes() []Outcome {
	out := make([]Outcome, NumOutcomes)
	for i := range out {
		out[i] = Outcome(i)
	}
	return out
}

// DurationBounds are the upper bounds, in seconds, of the latency histograms: a 1-2.5-5
// ladder from 5 µs (a no-op Go plugin) to 30 s (the default timeout), so both a Go
// guard and a remote plugin land in buckets that tell them apart.
var DurationBounds = []float64{
	5e-6, 10e-6, 25e-6, 50e-6, 100e-6, 250e-6, 500e-6,
	1e-3, 2.5e-3, 5e-3, 10e-3, 25e-3, 50e-3, 100e-3, 250e-3, 500e-3,
	1, 2.5, 5, 10, 30,
}

// ChainBounds are the upper bounds of the chain-length histogram (plugins executed per
// hook call).
var ChainBounds = []float64{0, 1, 2, 3, 5, 10, 20, 50}

// durationNs is DurationBounds in nanoseconds, for the call path's integer compare.
var durationNs = func() []int64 {
	out := make([]int64, len(DurationBounds))
	for i, b := range DurationBounds {
		out[i] = int64(b*1e9 + 0.5)
	}
	return out
}()

// histogram is a fixed-bucket histogram of int64 observations. Buckets are kept
// non-cumulative (one add per observation) and made cumulative when read.
type histogram struct {
	buckets []atomic.Uint64 // len(bounds)+1, the last is +Inf
	sum     atomic.Int64
}

func newHistogram(n int) histogram { return histogram{buckets: make([]atomic.Uint64, n+1)} }

func (h *histogram) observe(bounds []int64, v int64) {
	i := 0
	for i < len(bounds) && v > bounds[i] {
		i++
	}
	h.buckets[i].Add(1)
	h.sum.Add(v)
}

// HistogramSnapshot is a histogram read at one moment: Counts are cumulative per
// bound (Prometheus "le" buckets, without +Inf), Count is the +Inf bucket.
type HistogramSnapshot struct {
	Counts []uint64 `json:"buckets"`
	Count  uint64   `json:"count"`
	Sum    float64  `json:"sum"`
}

func (h *histogram) snapshot(scale float64) HistogramSnapshot {
	n := len(h.buckets) - 1
	s := HistogramSnapshot{Counts: make([]uint64, n)}
	var acc uint64
	for i := 0; i < n; i++ {
		acc += h.buckets[i].Load()
		s.Counts[i] = acc
	}
	s.Count = acc + h.buckets[n].Load()
	s.Sum = float64(h.sum.Load()) * scale
	return s
}

// Call is the series of one (plugin, hook): calls by outcome and the latency of the
// calls that ran.
type Call struct {
	Plugin, Hook string
	outcomes     [NumOutcomes]atomic.Uint64
	latency      histogram
}

// Observe counts a call that ran for ns nanoseconds with outcome o.
func (c *Call) Observe(o Outcome, ns int64) {
	c.outcomes[o].Add(1)
	if ns < 0 {
		ns = 0
	}
	c.latency.observe(durationNs, ns)
}

// Count counts a call that did not run (skipped or disabled): no latency.
func (c *Call) Count(o Outcome) { c.outcomes[o].Add(1) }

// Hook is the series of one hook's whole calls: duration and chain length.
type Hook struct {
	Name     string
	duration histogram
	chain    histogram
}

// Observe records one hook call of ns nanoseconds that executed n plugins.
func (h *Hook) Observe(ns int64, n int) {
	if ns < 0 {
		ns = 0
	}
	h.duration.observe(durationNs, ns)
	h.chain.observe(chainInt, int64(n))
}

var chainInt = func() []int64 {
	out := make([]int64, len(ChainBounds))
	for i, b := range ChainBounds {
		out[i] = int64(b)
	}
	return out
}()

type callKey struct{ plugin, hook string }

// Registry holds the series of one manager (Go) or one process (Python). Safe for
// concurrent use.
type Registry struct {
	mu    sync.Mutex
	calls map[callKey]*Call
	hooks map[string]*Hook
}

// NewRegistry returns an empty registry.
func NewRegistry() *Registry {
	return &Registry{calls: map[callKey]*Call{}, hooks: map[string]*Hook{}}
}

// Call returns the series of (plugin, hook), creating it on first use. Called when a
// plan is first run, never per call.
func (r *Registry) Call(plugin, hook string) *Call {
	k := callKey{plugin, hook}
	r.mu.Lock()
	defer r.mu.Unlock()
	c := r.calls[k]
	if c == nil {
		c = &Call{Plugin: plugin, Hook: hook, latency: newHistogram(len(DurationBounds))}
		r.calls[k] = c
	}
	return c
}

// Hook returns the series of hook, creating it on first use.
func (r *Registry) Hook(name string) *Hook {
	r.mu.Lock()
	defer r.mu.Unlock()
	h := r.hooks[name]
	if h == nil {
		h = &Hook{Name: name, duration: newHistogram(len(DurationBounds)), chain: newHistogram(len(ChainBounds))}
		r.hooks[name] = h
	}
	return h
}

// CallSnapshot is one (plugin, hook) series read at one moment. Calls has one count
// per outcome, in Outcome order.
type CallSnapshot struct {
	Plugin  string              `json:"plugin"`
	Hook    string              `json:"hook"`
	Calls   [NumOutcomes]uint64 `json:"calls"`
	Latency HistogramSnapshot   `json:"duration"`
}

// HookSnapshot is one hook's series read at one moment.
type HookSnapshot struct {
	Hook     string            `json:"hook"`
	Duration HistogramSnapshot `json:"duration"`
	Chain    HistogramSnapshot `json:"chain"`
}

// Snapshot is every series of a registry, sorted by plugin then hook, and hook. Each
// series is read without stopping writers: a call counted during the read may show in
// its outcome counter and not yet in its histogram (or the reverse), never twice.
type Snapshot struct {
	Outcomes       []string       `json:"outcomes"`
	DurationBounds []float64      `json:"duration_bounds"`
	ChainBounds    []float64      `json:"chain_bounds"`
	Calls          []CallSnapshot `json:"plugins"`
	Hooks          []HookSnapshot `json:"hooks"`
}

// Snapshot reads every series.
func (r *Registry) Snapshot() *Snapshot {
	r.mu.Lock()
	calls := make([]*Call, 0, len(r.calls))
	for _, c := range r.calls {
		calls = append(calls, c)
	}
	hooks := make([]*Hook, 0, len(r.hooks))
	for _, h := range r.hooks {
		hooks = append(hooks, h)
	}
	r.mu.Unlock()
	sort.Slice(calls, func(i, j int) bool {
		if calls[i].Plugin != calls[j].Plugin {
			return calls[i].Plugin < calls[j].Plugin
		}
		return calls[i].Hook < calls[j].Hook
	})
	sort.Slice(hooks, func(i, j int) bool { return hooks[i].Name < hooks[j].Name })
	s := &Snapshot{
		Outcomes: outcomeNames[:], DurationBounds: DurationBounds, ChainBounds: ChainBounds,
		Calls: make([]CallSnapshot, len(calls)), Hooks: make([]HookSnapshot, len(hooks)),
	}
	for i, c := range calls {
		cs := &s.Calls[i]
		cs.Plugin, cs.Hook = c.Plugin, c.Hook
		for o := range cs.Calls {
			cs.Calls[o] = c.outcomes[o].Load()
		}
		cs.Latency = c.latency.snapshot(1e-9)
	}
	for i, h := range hooks {
		s.Hooks[i] = HookSnapshot{Hook: h.Name, Duration: h.duration.snapshot(1e-9), Chain: h.chain.snapshot(1)}
	}
	return s
}
