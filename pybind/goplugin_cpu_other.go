//go:build !linux

package pybind

// threadCPU: no per-thread CPU clock here; the calls' wall time is their cost.
func threadCPU() int64 { return -1 }
