// Package metrics exposes the core's per-plugin metrics to Prometheus through
// client_golang: a Go service registers NewCollector(manager) with its registry.
//
// The series (names follow the Prometheus conventions: base units, _total counters):
//
//	cpex_plugin_calls_total{plugin,hook,outcome}        counter
//	cpex_plugin_duration_seconds{plugin,hook}           histogram
//	cpex_hook_duration_seconds{hook}                    histogram
//	cpex_hook_chain_length{hook}                        histogram (plugins executed)
//
// The Python package exposes the same names and labels through prometheus_client
// (cpex.framework.metrics); both read one series.Snapshot per scrape.
package metrics

import (
	"github.com/prometheus/client_golang/prometheus"

	"github.com/cpex-go/cpex/core"
	"github.com/cpex-go/cpex/core/metrics/series"
)

// The metric names, shared with the Python collector (tests pin both).
const (
	CallsTotal     = "cpex_plugin_calls_total"
	PluginDuration = "cpex_plugin_duration_seconds"
	HookDuration   = "cpex_hook_duration_seconds"
	ChainLength    = "cpex_hook_chain_length"
)

var (
	callsDesc = prometheus.NewDesc(CallsTotal,
		"Plugin calls by plugin, hook and outcome (allowed, blocked, modified, error, timeout, skipped_condition, disabled).",
		[]string{"plugin", "hook", "outcome"}, nil)
	pluginDurDesc = prometheus.NewDesc(PluginDuration,
		"Duration of plugin calls that ran, in seconds, by plugin and hook.",
		[]string{"plugin", "hook"}, nil)
	hookDurDesc = prometheus.NewDesc(HookDuration,
		"Duration of whole hook calls (invoke_hook), in seconds, by hook.",
		[]string{"hook"}, nil)
	chainDesc = prometheus.NewDesc(ChainLength,
		"Plugins executed per hook call, by hook.",
		[]string{"hook"}, nil)
)

// Source is what a Collector reads: a *core.Manager, or anything holding a registry.
type Source interface {
	Metrics() *series.Registry
}

var _ Source = (*core.Manager)(nil)

// Collector is a prometheus.Collector over a manager's series: each scrape reads one
// snapshot. A manager with metrics off (core.WithMetrics(false)) yields no series.
type Collector struct {
	src Source
}

// NewCollector returns a collector of m's series, to register with a
// prometheus.Registerer: prometheus.MustRegister(metrics.NewCollector(manager)).
func NewCollector(m Source) *Collector { return &Collector{src: m} }

// Describe sends the four descriptors.
func (c *Collector) Describe(ch chan<- *prometheus.Desc) {
	ch <- callsDesc
	ch <- pluginDurDesc
	ch <- hookDurDesc
	ch <- chainDesc
}

// Collect reads a snapshot and sends every series.
func (c *Collector) Collect(ch chan<- prometheus.Metric) {
	reg := c.src.Metrics()
	if reg == nil {
		return
	}
	snap := reg.Snapshot()
	for i := range snap.Calls {
		cs := &snap.Calls[i]
		for o, n := range cs.Calls {
			ch <- prometheus.MustNewConstMetric(callsDesc, prometheus.CounterValue, float64(n), cs.Plugin, cs.Hook, series.Outcome(o).String())
		}
		ch <- constHistogram(pluginDurDesc, &cs.Latency, snap.DurationBounds, cs.Plugin, cs.Hook)
	}
	for i := range snap.Hooks {
		hs := &snap.Hooks[i]
		ch <- constHistogram(hookDurDesc, &hs.Duration, snap.DurationBounds, hs.Hook)
		ch <- constHistogram(chainDesc, &hs.Chain, snap.ChainBounds, hs.Hook)
	}
}

func constHistogram(d *prometheus.Desc, h *series.HistogramSnapshot, bounds []float64, labels ...string) prometheus.Metric {
	buckets := make(map[float64]uint64, len(bounds))
	for i, b := range bounds {
		buckets[b] = h.Counts[i]
	}
	return prometheus.MustNewConstHistogram(d, h.Count, h.Sum, buckets, labels...)
}
