//go:build !linux

package builtins

import "time"

func threadCPUTime() (time.Duration, bool) { return 0, false }
