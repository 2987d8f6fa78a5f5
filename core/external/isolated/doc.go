// Package isolated hosts `kind: isolated_venv` plugins: a plugin class that runs in its
// own virtualenv, in a worker process spoken to over NDJSON (protocol v1 of upstream
// cpex 0.1.x), so the plugin's dependencies never meet the gateway's.
//
// The host (this package) owns every rule: where the venv lives and when it is rebuilt
// (venv.go: upstream's cache layout and keys), how the worker is started, restarted and
// stopped (worker.go), what goes on the wire and what comes back (wire.go, headers.go),
// and which worker features a plugin needs before it may run (features.go). The worker
// is whatever `cpex` the venv installed: upstream's `cpex/framework/isolated/worker.py`
// or ours; both answer the same protocol.
//
// Concurrency: calls are multiplexed on one worker by request_id. Writes of whole lines
// are serialised; no lock is held while a call waits for its answer.
package isolated
