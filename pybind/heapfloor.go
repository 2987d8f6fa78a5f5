package pybind

import (
	"log/slog"
	"os"
	"strconv"
	"testing"
)

// The embedded runtime's heap floor (docs/performance.md, "Python chains").
//
// Go collects when the heap reaches twice what the last collection kept, and at least
// 4 MB. In this process the Go heap that stays alive is small (about 1 MB: executors,
// plans, refs), while every hook run allocates a few KB (its run, its answer; a Go guard
// about its payload's size): at the 4 MB minimum a Python chain of 10 plugins started a
// collection every few hundred runs, a chain of guards every few dozen, whose background
// mark workers burned CPU on the other core and whose assists landed on the caller's
// thread (the p99). A pointer-free block that stays allocated counts as live heap, so the
// next goal is twice it: collections become several times rarer. The block itself costs
// no marking (no pointers) and no resident pages (never written); what costs is the
// garbage now let accumulate between cycles, +7-8 MB RSS measured. Unlike a larger GOGC
// it adds a constant, not a factor: a process whose Go plugins keep a large heap alive
// pays nothing more.
//
// GOGC or GOMEMLIMIT in the environment mean the process tunes the collector itself:
// then there is no floor. CPEX_GO_HEAP_FLOOR_MB sets its size (0: none). Go test
// binaries have none: tests/go imports this package for the Go API's benchmarks (S6),
// which must measure what a Go service gets.
const defaultHeapFloorMB = 8

var heapFloor []byte

func init() {
	if !testing.Testing() {
		heapFloor = make([]byte, heapFloorBytes(os.Getenv))
	}
}

// heapFloorBytes is the floor's size for an environment (its getter, for tests).
func heapFloorBytes(getenv func(string) string) int {
	if getenv("GOGC") != "" || getenv("GOMEMLIMIT") != "" {
		return 0
	}
	mb := defaultHeapFloorMB
	if v := getenv("CPEX_GO_HEAP_FLOOR_MB"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 || n > 1024 {
			// A bad value keeps the default (never a failed import), said once at start.
			slog.Warn("cpex: CPEX_GO_HEAP_FLOOR_MB must be a whole number of MB from 0 to 1024; using the default",
				"value", v, "default_mb", defaultHeapFloorMB)
			return defaultHeapFloorMB << 20
		}
		mb = n
	}
	return mb << 20
}
