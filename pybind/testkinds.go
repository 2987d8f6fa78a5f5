package pybind

// #include <stdlib.h>
import "C"

import (
	"unsafe"

	"github.com/cpex-go/cpex/core"
	"github.com/cpex-go/cpex/internal/ctxprobe"
)

// Test-only Go plugin kinds, offered when the process has CPEX_TEST_KINDS=1 when the
// extension loads (the Python test suite's conftest sets it): builtin/test_context
// (internal/ctxprobe) lets Python tests run Go plugins that write and report context
// state. The C environment is read, not Go's os.Getenv: a Go runtime loaded into a
// running interpreter took its copy of the environment from the process's start, and
// misses what Python set since.
func init() {
	name := C.CString("CPEX_TEST_KINDS")
	defer C.free(unsafe.Pointer(name))
	if v := C.getenv(name); v != nil && C.GoString(v) == "1" {
		core.RegisterFactory(ctxprobe.Kind, ctxprobe.New)
	}
}
