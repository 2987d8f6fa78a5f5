package pybind

import (
	"encoding/json"
	"fmt"
	"runtime"
)

// CoreVersion is the version of the Go core, reported to Python as cpex.__core_version__.
const CoreVersion = "0.1.4"

// Version answers the core version and the Go runtime that built it, as JSON.
func Version() (string, error) {
	b, err := json.Marshal(map[string]string{"core": CoreVersion, "go": runtime.Version()})
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
