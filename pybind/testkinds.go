package pybind

import (
	"os"

	"github.com/cpex-go/cpex/core"
	"github.com/cpex-go/cpex/internal/ctxprobe"
)

// Test-only Go plugin kinds, offered when the process starts with CPEX_TEST_KINDS=1 (the
// Python test suite sets it): builtin/test_context (internal/ctxprobe) lets Python tests
// run Go plugins that write and report context state.
func init() {
	if os.Getenv("CPEX_TEST_KINDS") == "1" {
		core.RegisterFactory(ctxprobe.Kind, ctxprobe.New)
	}
}
