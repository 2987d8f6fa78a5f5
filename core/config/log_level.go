package config

import (
	"log/slog"
	"strings"
)

// SlogLevel is the slog level of a Python logging level name as PLUGINS_LOG_LEVEL and
// the runtimes' --log-level give it (DEBUG, INFO, WARNING/WARN, ERROR, CRITICAL; any
// case); an unknown name is INFO, as upstream's runtimes fall back to it.
func SlogLevel(name string) slog.Level {
	switch strings.ToUpper(name) {
	case "DEBUG":
		return slog.LevelDebug
	case "WARNING", "WARN":
		return slog.LevelWarn
	case "ERROR", "CRITICAL":
		return slog.LevelError
	}
	return slog.LevelInfo
}
