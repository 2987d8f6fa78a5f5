package pybind

import (
	"os"
	"runtime/debug"
	"testing"
)

// The Go runtime embedded in a Python process starts with a small heap (about 1 MB live:
// plans, plugins, compiled patterns) and the default GOGC of 100, so its collector runs
// every 4 MB allocated. A go step allocates about its payload's size several times over
// (the payload string gopy makes, each rewriting guard's new strings, the answer), so a
// chain of guards on 16 KB payloads collected every ~30 calls: ~20 % of the calling
// thread's CPU in assists and mark work, and the calls that happened to assist were the
// p99 (docs/performance.md, "S4 and S8"). At 400 the heap goal is 16 MB while the live
// heap stays under 4 MB, and grows with it (5x live) beyond: four to five times fewer
// collections, for at most ~12 MB more heap in such a process.
//
// GOGC, when set, wins: the runtime has already applied it and this leaves it alone.
// Go test binaries (tests/go imports this package for its benchmarks of the Go API, S6)
// keep the runtime's default: the setting is the Python extension's, not a Go service's.
const embeddedGCPercent = 400

func init() {
	if !testing.Testing() {
		applyGCPercent(os.LookupEnv("GOGC"))
	}
}

// applyGCPercent sets the embedded default unless the environment set GOGC; it answers
// whether it did.
func applyGCPercent(_ string, set bool) bool {
	if set {
		return false
	}
	debug.SetGCPercent(embeddedGCPercent)
	return true
}
