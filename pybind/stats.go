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
	w.Raw("{")
	for i, name := range [...]string{"executors", "refs", "plugins", "plans", "runs"} {
		w.Key(name)
		w.Int(counts[i])
	}
	w.Key("goroutines")
	w.Int(runtime.NumGoroutine())
	w.Key("heap_alloc")
	w.B = strconv.AppendUint(w.B, ms.HeapAlloc, 10)
	w.Key("heap_objects")
	w.B = strconv.AppendUint(w.B, ms.HeapObjects, 10)
	// what the Go runtime holds from the OS (part of the process RSS), for peak checks
	w.Key("heap_inuse")
	w.B = strconv.AppendUint(w.B, ms.HeapInuse, 10)
	w.Key("sys")
	w.B = strconv.AppendUint(w.B, ms.Sys, 10)
	w.Raw("}")
	return string(w.B), nil
}
