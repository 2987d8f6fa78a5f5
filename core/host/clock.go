package host

import "time"

// clockBase anchors the executor's monotonic clock. It is a second before package init
// so that no reading is ever 0: the Go driver uses a zero reading to mean "none taken
// since the last boundary".
var clockBase = time.Now().Add(-time.Second)

// nanotime reads the monotonic clock, in nanoseconds since clockBase. time.Since on a
// Time that carries a monotonic reading reads only the monotonic clock (one vDSO call,
// no wall clock), which is what a chain of cheap plugins needs twice per plugin; it is
// the supported form of runtime.nanotime, with no go:linkname into the runtime.
func nanotime() int64 { return int64(time.Since(clockBase)) }

// monoToTime converts a nanotime instant into a time.Time (for Deadline). The result
// carries the monotonic reading, so comparing it with another deadline stays monotonic.
func monoToTime(mono int64) time.Time { return clockBase.Add(time.Duration(mono)) }
