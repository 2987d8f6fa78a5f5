package mcpserver

import (
	"net/http"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/prometheus/common/expfmt"
)

// Metrics are a server's Prometheus series, in a Registry the server owns (other
// collectors, e.g. the core's per-plugin series, can be registered into it):
// cpex_plugin_server_calls_total{plugin,hook,outcome}, a latency histogram
// cpex_plugin_server_call_duration_seconds{plugin,hook} measured around invoke_hook
// (argument checks to reply), and plugin_info{server_name,transport,ssl_enabled} as
// upstream's runtime exposes it.
type Metrics struct {
	Registry *prometheus.Registry
	calls    *prometheus.CounterVec
	duration *prometheus.HistogramVec
	info     *prometheus.GaugeVec
}

// NewMetrics makes the series in a new Registry (with the Go runtime and process collectors).
func NewMetrics() *Metrics {
	m := &Metrics{
		Registry: prometheus.NewRegistry(),
		calls: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "cpex_plugin_server_calls_total", Help: "invoke_hook calls served, by plugin, hook and outcome (allowed, blocked, error).",
		}, []string{"plugin", "hook", "outcome"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "cpex_plugin_server_call_duration_seconds", Help: "invoke_hook latency in the server, by plugin and hook.",
			Buckets: []float64{.00005, .0001, .00025, .0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30},
		}, []string{"plugin", "hook"}),
		info: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "plugin_info", Help: "Plugin server information.",
		}, []string{"server_name", "transport", "ssl_enabled"}),
	}
	m.Registry.MustRegister(m.calls, m.duration, m.info,
		prometheus.NewGoCollector(), prometheus.NewProcessCollector(prometheus.ProcessCollectorOpts{}))
	return m
}

func (m *Metrics) observe(plugin, hook, outcome string, d time.Duration) {
	m.calls.WithLabelValues(plugin, hook, outcome).Inc()
	m.duration.WithLabelValues(plugin, hook).Observe(d.Seconds())
}

func (m *Metrics) setInfo(name, transport string, ssl bool) {
	s := "false"
	if ssl {
		s = "true"
	}
	m.info.WithLabelValues(name, transport, s).Set(1)
}

// Handler serves the Prometheus text exposition of the Registry.
func (m *Metrics) Handler() http.Handler {
	return promhttp.HandlerFor(m.Registry, promhttp.HandlerOpts{Registry: m.Registry})
}

// Text is the Prometheus text exposition of the Registry.
func (m *Metrics) Text() (string, error) {
	families, err := m.Registry.Gather()
	if err != nil {
		return "", err
	}
	var b strings.Builder
	for _, f := range families {
		if _, err := expfmt.MetricFamilyToText(&b, f); err != nil {
			return "", err
		}
	}
	return b.String(), nil
}
