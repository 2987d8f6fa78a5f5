package core_test

// The fail-closed load table tests/cases/loading/fail_closed.yaml against
// core.LoadFailureFailsClosed; tests/py/test_loading_table.py runs it against Python.

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"gopkg.in/yaml.v3"

	"github.com/cpex-go/cpex/core"
)

func TestLoadFailureTable(t *testing.T) {
	b, err := os.ReadFile(filepath.Join(casesDir, "loading", "fail_closed.yaml"))
	require.NoError(t, err)
	var doc struct {
		Kinds []struct {
			Kind        string `yaml:"kind"`
			FailsClosed bool   `yaml:"fails_closed"`
		} `yaml:"kinds"`
	}
	require.NoError(t, yaml.Unmarshal(b, &doc))
	require.NotEmpty(t, doc.Kinds)
	for _, row := range doc.Kinds {
		assert.Equal(t, row.FailsClosed, core.LoadFailureFailsClosed(row.Kind), "kind %q", row.Kind)
	}
}
