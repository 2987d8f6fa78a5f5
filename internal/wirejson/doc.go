// Package wirejson is the project's one hand-written JSON reader and writer, for the
// codecs that run on every plugin call and where encoding/json's reflection costs more
// than the work itself: the payload tree decoder and raw-field reader (core), the step
// and outcome codec of the Python wire (pybind).
//
// Every reader agrees with encoding/json on what is valid JSON and on the values it
// yields (the fuzz targets compare them); the only deliberate difference is Keep, which
// lets a lone surrogate escape survive a Python → Go → Python trip instead of becoming
// U+FFFD (see Lone).
//
// Files by concern: escape.go (string escapes both ways), decode.go (a document into an
// `any` tree), scan.go (walking members and elements without decoding them, one field
// of a raw object), write.go (the Writer).
package wirejson
