package core

import (
	_ "embed"
	"strings"
)

// versionFile is the release of this module: the one place both the Go core and the
// Python package (pyproject.toml reads the same file) take their version from.
//
//go:embed VERSION
var versionFile string

// Version is the release of the cpex core (for example "0.1.5").
var Version = strings.TrimSpace(versionFile)
