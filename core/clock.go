package core

import (
	"time"
	_ "unsafe" // go:linkname
)

// nanotime is the runtime's monotonic clock: one vDSO read where time.Now makes two
// (wall and monotonic). A chain of cheap plugins reads the clock twice per plugin.
//
//go:linkname nanotime runtime.nanotime
func nanotime() int64

// monoToTime converts a nanotime instant into a time.Time (for Deadline).
func monoToTime(mono int64) time.Time {
	return time.Now().Add(time.Duration(mono - nanotime()))
}
