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

// The call path does as few atomic adds as it can (each is a locked instruction, the
// whole cost of counting): a call that ran does two (its outcome's latency bucket and
// the latency sum), a skip one, a hook call three. Counters are kept per bucket and
// non-cumulative, and summed into Prometheus' cumulative form when read.

// timedOutcomes are the outcomes of calls that ran (the latency histogram's).
const timedOutcomes = int(Timeout) + 1

var numDuration = len(DurationBounds) + 1 // with +Inf

// maxNs caps one observation (about 9.8 hours, far above any timeout): a duration
// reported from outside (a foreign driver's "dur") cannot push a sum toward overflow.
const maxNs = 1 << 45

func clampNs(ns int64) int64 {
	return min(max(ns, 0), maxNs)
}

func durationBucket(ns int64) int {
	i := 0
	for i < len(durationNs) && ns > durationNs[i] {
		i++
	}
	return i
}

// HistogramSnapshot is a histogram read at one moment: Counts are cumulative per
// bound (Prometheus "le" buckets, without +Inf), Count is the +Inf bucket.
type HistogramSnapshot struct {
	Counts []uint64 `json:"buckets"`
	Count  uint64   `json:"count"`
	Sum    float64  `json:"sum"`
}

// cumulate turns non-cumulative bucket counts (the last one +Inf) into a snapshot.
func cumulate(raw []uint64, sum float64) HistogramSnapshot {
	n := len(raw) - 1
	s := HistogramSnapshot{Counts: make([]uint64, n), Sum: sum}
	var acc uint64
	for i := 0; i < n; i++ {
		acc += raw[i]
		s.Counts[i] = acc
	}
	s.Count = acc + raw[n]
	return s
}

// Call is the series of one (plugin, hook): calls by outcome and the latency of the
// calls that ran. A call's outcome and its latency bucket are one counter, so the two
// never disagree.
type Call struct {
	Plugin, Hook string
	timed        [timedOutcomes][]atomic.Uint64 // per outcome, per duration bucket
	skips        [NumOutcomes]atomic.Uint64     // calls that did not run
	sumNs        atomic.Int64
}

// Observe counts a call that ran for ns nanoseconds with outcome o (Allowed..Timeout).
func (c *Call) Observe(o Outcome, ns int64) {
	if int(o) >= timedOutcomes {
		c.skips[o].Add(1)
		return
	}
	ns = clampNs(ns)
	c.timed[o][durationBucket(ns)].Add(1)
	c.sumNs.Add(ns)
}

// Count counts a call that did not run (skipped or disabled): no latency.
func (c *Call) Count(o Outcome) { c.skips[o].Add(1) }

// maxExactChain: chain lengths up to it are counted exactly (one add per hook call);
// longer ones share an overflow counter with its own sum.
const maxExactChain = 64

// Hook is the series of one hook's whole calls: duration and chain length.
type Hook struct {
	Name      string
	duration  []atomic.Uint64 // per duration bucket
	sumNs     atomic.Int64
	chain     [maxExactChain + 1]atomic.Uint64 // per exact length
	longer    atomic.Uint64                    // lengths above maxExactChain
	longerSum atomic.Int64
}

// Observe records one hook call of ns nanoseconds that executed n plugins.
func (h *Hook) Observe(ns int64, n int) {
	ns = clampNs(ns)
	h.duration[durationBucket(ns)].Add(1)
	h.sumNs.Add(ns)
	if n < 0 {
		n = 0
	}
	if n <= maxExactChain {
		h.chain[n].Add(1)
		return
	}
	h.longer.Add(1)
	h.longerSum.Add(int64(n))
}

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
		c = &Call{Plugin: plugin, Hook: hook}
		for o := range c.timed {
			c.timed[o] = make([]atomic.Uint64, numDuration)
		}
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
		h = &Hook{Name: name, duration: make([]atomic.Uint64, numDuration)}
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
		s.Calls[i] = c.snapshot()
	}
	for i, h := range hooks {
		s.Hooks[i] = h.snapshot()
	}
	return s
}

func (c *Call) snapshot() CallSnapshot {
	cs := CallSnapshot{Plugin: c.Plugin, Hook: c.Hook}
	raw := make([]uint64, numDuration)
	for o := range c.timed {
		for b := range c.timed[o] {
			n := c.timed[o][b].Load()
			raw[b] += n
			cs.Calls[o] += n
		}
	}
	for o := range c.skips {
		cs.Calls[o] += c.skips[o].Load()
	}
	cs.Latency = cumulate(raw, float64(c.sumNs.Load())*1e-9)
	return cs
}

func (h *Hook) snapshot() HookSnapshot {
	hs := HookSnapshot{Hook: h.Name}
	raw := make([]uint64, numDuration)
	for b := range h.duration {
		raw[b] = h.duration[b].Load()
	}
	hs.Duration = cumulate(raw, float64(h.sumNs.Load())*1e-9)
	// exact lengths into the chain buckets
	chain := make([]uint64, len(ChainBounds)+1)
	sum := h.longerSum.Load()
	for n := range h.chain {
		k := h.chain[n].Load()
		if k == 0 {
			continue
		}
		sum += int64(n) * int64(k)
		b := 0
		for b < len(ChainBounds) && float64(n) > ChainBounds[b] {
			b++
		}
		chain[b] += k
	}
	chain[len(ChainBounds)] += h.longer.Load() // above maxExactChain ≥ the last bound
	hs.Chain = cumulate(chain, float64(sum))
	return hs
}
