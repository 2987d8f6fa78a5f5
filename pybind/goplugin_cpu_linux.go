//go:build linux

package pybind

import "syscall"

// rusageThread is Linux's RUSAGE_THREAD (not exported by package syscall).
const rusageThread = 1

// threadCPU answers the CPU time the calling OS thread has used (ns), or -1. A direct
// call from Python runs on the caller's thread (a cgo callback keeps its goroutine on
// it), so two readings bound the CPU the call took there.
func threadCPU() int64 {
	var ru syscall.Rusage
	if err := syscall.Getrusage(rusageThread, &ru); err != nil {
		return -1
	}
	return ru.Utime.Nano() + ru.Stime.Nano()
}
