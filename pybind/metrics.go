package pybind

import (
	"encoding/json"
	"fmt"

	"github.com/cpex-go/cpex/core/metrics/series"
)

// Per-plugin metrics for Python hosts (docs/protocol.md, "Metrics"). Every executor a
// Python process turns metrics on for counts into one process-wide registry: a process
// has one Prometheus registry and one /metrics, and the Python manager is a Borg whose
// executor may be replaced (reset, re-initialize) without its series starting over.
var pyMetrics = series.NewRegistry()

// ExecutorMetrics turns counting on (1) or off (0) for the executor's later runs;
// answers id.
func ExecutorMetrics(id int, on int) (_ int, err error) {
	defer guard("ExecutorMetrics", &err)
	e, err := st.executor("ExecutorMetrics", "id", id)
	if err != nil {
		return 0, err
	}
	switch on {
	case 0:
		e.exec.SetMetrics(nil)
	case 1:
		e.exec.SetMetrics(pyMetrics)
	default:
		return 0, fmt.Errorf("ExecutorMetrics: on: want 0 or 1, got %d", on)
	}
	return id, nil
}

// MetricsSnapshot answers every series of the process registry as one JSON document
// (series.Snapshot): what one scrape reads, in one crossing.
func MetricsSnapshot() (_ string, err error) {
	defer guard("MetricsSnapshot", &err)
	b, err := json.Marshal(pyMetrics.Snapshot())
	if err != nil {
		return "", fmt.Errorf("MetricsSnapshot: %w", err)
	}
	return string(b), nil
}

// processSeries is the process registry as a metrics.Source: the MCP plugin server a
// Python runtime starts exposes the series its Python host counts (pybind/mcpserver.go).
type processSeries struct{}

func (processSeries) Metrics() *series.Registry { return pyMetrics }
