package pybind

import "github.com/cpex-go/cpex/core/config"

func modeOf(s string) config.Mode       { return config.Mode(s) }
func onErrorOf(s string) config.OnError { return config.OnError(s) }
