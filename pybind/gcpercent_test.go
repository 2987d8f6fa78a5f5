package pybind

import (
	"runtime/debug"
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestGCPercentDefaultsUnlessGOGCIsSet(t *testing.T) {
	prev := debug.SetGCPercent(100)
	defer debug.SetGCPercent(prev)

	assert.False(t, applyGCPercent("50", true), "GOGC in the environment wins")
	assert.Equal(t, 100, debug.SetGCPercent(100), "left as it was")

	assert.True(t, applyGCPercent("", false))
	assert.Equal(t, embeddedGCPercent, debug.SetGCPercent(100))
}
