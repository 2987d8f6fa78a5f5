// Package pybind is the only package gopy sees: a flat, coarse API over core for the
// Python package cpex. Rules (DESIGN.md, "The boundary"): arguments and answers are
// strings (JSON) and ints; long-lived state stays in Go behind int ids; every function
// returns (T, error), never a lone error; no callbacks into Python.
package pybind
