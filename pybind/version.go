package pybind

import (
	"encoding/json"
	"fmt"
	"runtime"

	"github.com/cpex-go/cpex/core"
)

// Version answers the core version (cpex.__core_version__) and the Go runtime that built
// it, as JSON.
func Version() (string, error) {
	b, err := json.Marshal(map[string]string{"core": core.Version, "go": runtime.Version()})
	return string(b), err
}

// Echo decodes a JSON document and encodes it again: a round trip through the
// extension that proves strings cross the boundary intact and that Go errors arrive
// as Python exceptions.
func Echo(doc string) (string, error) {
	var v any
	if err := json.Unmarshal([]byte(doc), &v); err != nil {
		return "", fmt.Errorf("echo: invalid JSON: %w", err)
	}
	b, err := json.Marshal(v)
	return string(b), err
}
