package pybind

import (
	"os"
	"strconv"
)

// The embedded runtime's heap floor (docs/performance.md, "Python chains").
//
// Go collects when the heap reaches twice what the last collection kept, and at least
// 4 MB. In this process the Go heap that stays alive is small (about 1 MB: executors,
// plans, refs), while every hook run allocates a few KB (its run, its answer): at the
// 4 MB minimum a Python chain of 10 plugins started a collection every few hundred runs,
// whose background mark workers burned CPU on the other core and whose assists landed on
// the caller's thread (the p99). A pointer-free block that stays allocated counts as live
// heap, so the next goal is twice it: collections become several times rarer at no cost
// in resident memory (the block is never written, so its pages are never touched) and
// no cost in marking (it holds no pointers). Unlike a larger GOGC it adds a constant,
// not a factor: a process whose Go plugins keep a large heap alive pays nothing more.
//
// GOGC or GOMEMLIMIT in the environment mean the process tunes the collector itself:
// then there is no floor. CPEX_GO_HEAP_FLOOR_MB sets its size (0: none).
const defaultHeapFloorMB = 8

var heapFloor []byte

func init() {
	heapFloor = make([]byte, heapFloorBytes(os.Getenv))
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
			return defaultHeapFloorMB << 20 // a bad value keeps the default, never a panic
		}
		mb = n
	}
	return mb << 20
}
