//go:build linux

package builtins

import (
	"syscall"
	"time"
)

// threadCPUTime is the CPU time of the calling OS thread (the benchmark locks its
// goroutine to one): on a shared machine it measures the guard's work without the time
// spent waiting for a core.
func threadCPUTime() (time.Duration, bool) {
	var ru syscall.Rusage
	const rusageThread = 1 // RUSAGE_THREAD
	if err := syscall.Getrusage(rusageThread, &ru); err != nil {
		return 0, false
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano()), true
}
