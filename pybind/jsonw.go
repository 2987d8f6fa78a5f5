package pybind

import "github.com/cpex-go/cpex/internal/wirejson"

// jw writes every answer of the wire: internal/wirejson's Writer (strings keep lone
// surrogates, see wtf8.go).
type jw = wirejson.Writer
