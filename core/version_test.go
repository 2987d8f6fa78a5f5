package core

import (
	"regexp"
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestVersionIsARelease(t *testing.T) {
	// pyproject.toml reads the same file; a stray newline or suffix would give the wheel
	// and the core different versions.
	assert.Regexp(t, regexp.MustCompile(`^\d+\.\d+\.\d+$`), Version)
}
