package pybind

import (
	"runtime"
	"strconv"
)

// Stats answers live counters of the core as JSON, for leak checks (bench/memstats.py):
// the handles Python holds in each table, the goroutines, and the Go heap after a
// collection. It costs a full GC: call it from measurements, never per request.
func Stats() (_ string, err error) {
	defer guard("Stats", &err)
	st.mu.Lock()
	counts := [...]int{len(st.executors), len(st.refs), len(st.plugins), len(st.plans), len(st.runs)}
	st.mu.Unlock()
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	var w jw
	w.raw("{")
	for i, name := range [...]string{"executors", "refs", "plugins", "plans", "runs"} {
		w.key(name)
		w.int(counts[i])
	}
	w.key("goroutines")
	w.int(runtime.NumGoroutine())
	w.key("heap_alloc")
	w.b = strconv.AppendUint(w.b, ms.HeapAlloc, 10)
	w.key("heap_objects")
	w.b = strconv.AppendUint(w.b, ms.HeapObjects, 10)
	// what the Go runtime holds from the OS (part of the process RSS), for peak checks
	w.key("heap_inuse")
	w.b = strconv.AppendUint(w.b, ms.HeapInuse, 10)
	w.key("sys")
	w.b = strconv.AppendUint(w.b, ms.Sys, 10)
	w.raw("}")
	return string(w.b), nil
}
