package host

import (
	"github.com/cpex-go/cpex/core/metrics/series"
)

// MetricsDefault is whether a Go Manager counts per-plugin metrics when WithMetrics is
// not given. On: the cost measured on the S6 benchmark (10 Go no-op plugins) is within
// its run-to-run noise (README, "Metrics").
const MetricsDefault = true

// WithMetrics turns the manager's per-plugin call counters and histograms on or off
// (default MetricsDefault). Read them with Manager.Metrics, or expose them with
// metrics.NewCollector.
func WithMetrics(on bool) Option { return func(o *managerOptions) { o.metrics = &on } }

func (m *Manager) setupMetrics(on *bool) {
	if (on == nil && MetricsDefault) || (on != nil && *on) {
		m.exec.SetMetrics(series.NewRegistry())
	}
}

// Metrics returns the manager's metric series, nil when metrics are off. The registry
// outlives Reload: a plugin's series continue across reloads.
func (m *Manager) Metrics() *series.Registry { return m.exec.Metrics() }
