package config

import (
	"log/slog"
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestSlogLevelReadsPythonLevelNames(t *testing.T) {
	for name, want := range map[string]slog.Level{
		"DEBUG": slog.LevelDebug, "debug": slog.LevelDebug, "INFO": slog.LevelInfo,
		"WARNING": slog.LevelWarn, "warn": slog.LevelWarn, "ERROR": slog.LevelError,
		"CRITICAL": slog.LevelError, "": slog.LevelInfo, "verbose": slog.LevelInfo,
	} {
		assert.Equal(t, want, SlogLevel(name), name)
	}
}
