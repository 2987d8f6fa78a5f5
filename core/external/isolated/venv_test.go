package isolated

import (
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestLayoutIsUpstreams(t *testing.T) {
	dir := t.TempDir()
	l, err := NewLayout(dir, "my_pkg.sub.Plugin")
	require.NoError(t, err)
	root := filepath.Join(dir, "my_pkg")
	assert.Equal(t, Layout{Root: root, Venv: filepath.Join(root, ".venv"),
		MetadataFile: filepath.Join(root, ".cpex/venv_cache/.venv_metadata.json"),
		ManifestFile: filepath.Join(root, "my_pkg-sub-Plugin.plugin-manifest.yaml")}, l)
	for _, bad := range []string{"", ".x", "../x.Y", `a\b.C`} {
		_, err := NewLayout(dir, bad)
		assert.Error(t, err, bad)
	}
}

func TestManifestFileName(t *testing.T) {
	for in, want := range map[string]string{"a.b.C": "a-b-C.plugin-manifest.yaml", "..": "plugin.plugin-manifest.yaml", " x_y-z ": "x_y-z.plugin-manifest.yaml"} {
		assert.Equal(t, want, ManifestFileName(in), in)
	}
}

// writeCache lays out a venv directory and metadata as a previous build would have.
func writeCache(t *testing.T, s Spec, md map[string]any) {
	t.Helper()
	require.NoError(t, os.MkdirAll(s.Layout.Venv, 0o755))
	require.NoError(t, os.MkdirAll(filepath.Dir(s.Layout.MetadataFile), 0o755))
	b, _ := json.Marshal(md)
	require.NoError(t, os.WriteFile(s.Layout.MetadataFile, b, 0o644))
}

func TestCacheValidity(t *testing.T) {
	dir := t.TempDir()
	l, _ := NewLayout(dir, "pkg.P")
	req := filepath.Join(dir, "requirements.txt")
	require.NoError(t, os.WriteFile(req, []byte("foo==1\n"), 0o644))
	reqHash, _ := fileHash(req)
	emptyHash, _ := fileHash("")
	v1, v2 := "1.0", "2.0"
	s := Spec{Layout: l, Requirements: req, Version: &v1}
	cases := []struct {
		name  string
		md    map[string]any
		edit  func()
		valid bool
	}{
		{"same keys", map[string]any{"requirements_hash": reqHash, "manifest_version": "1.0", "manifest_hash": emptyHash}, nil, true},
		{"older metadata without manifest keys", map[string]any{"requirements_hash": reqHash}, nil, true},
		{"requirements changed", map[string]any{"requirements_hash": emptyHash}, nil, false},
		{"version changed", map[string]any{"requirements_hash": reqHash, "manifest_version": "0.9"}, nil, false},
		{"manifest changed", map[string]any{"requirements_hash": reqHash, "manifest_hash": emptyHash}, func() {
			require.NoError(t, os.WriteFile(l.ManifestFile, []byte("version: 2\n"), 0o644))
		}, false},
		{"null version vs set", map[string]any{"requirements_hash": reqHash, "manifest_version": nil}, nil, false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_ = os.Remove(l.ManifestFile)
			writeCache(t, s, c.md)
			if c.edit != nil {
				c.edit()
			}
			assert.Equal(t, c.valid, cacheValid(s))
		})
	}
	s2 := s
	s2.Version = &v2
	writeCache(t, s, map[string]any{"requirements_hash": reqHash, "manifest_version": "1.0"})
	assert.False(t, cacheValid(s2))
	require.NoError(t, os.RemoveAll(l.Venv))
	assert.False(t, cacheValid(s), "no venv, no cache")
}

func TestFailingRequirement(t *testing.T) {
	out := []byte("Looking in links\nERROR: Could not find a version that satisfies the requirement nopkg-xyz==9 (from versions: none)\nERROR: No matching distribution found for nopkg-xyz==9\n")
	assert.Equal(t, "nopkg-xyz==9", failingRequirement(out))
	assert.Equal(t, "b\nc", tail([]byte("a\n\nb\nc\n"), 2))
}

// TestEnsureWithARealVenv builds one venv (no index: nothing is downloaded), reuses it,
// and reports a failing requirement with pip's own words.
func TestEnsureWithARealVenv(t *testing.T) {
	py, err := exec.LookPath("python3")
	if err != nil {
		t.Skip("python3 not on PATH")
	}
	t.Setenv("PIP_NO_INDEX", "1")
	dir := t.TempDir()
	l, _ := NewLayout(dir, "pkg.P")
	req := filepath.Join(dir, "requirements.txt")
	require.NoError(t, os.WriteFile(req, []byte("# nothing\n"), 0o644))
	s := Spec{Layout: l, Requirements: req, Python: py}
	created, err := Ensure(context.Background(), s)
	require.NoError(t, err)
	assert.True(t, created)
	var md Metadata
	b, err := os.ReadFile(l.MetadataFile)
	require.NoError(t, err)
	require.NoError(t, json.Unmarshal(b, &md))
	assert.Equal(t, l.Venv, md.VenvPath)
	assert.NotEmpty(t, md.PythonVersion)
	created, err = Ensure(context.Background(), s)
	require.NoError(t, err)
	assert.False(t, created, "the cache is reused")

	require.NoError(t, os.WriteFile(req, []byte("nopkg-xyz-cpex-test==9.9\n"), 0o644))
	_, err = Ensure(context.Background(), s)
	var ie *InstallError
	require.ErrorAs(t, err, &ie)
	assert.Equal(t, "nopkg-xyz-cpex-test==9.9", ie.Failing)
	assert.Contains(t, ie.Tail, "No matching distribution")
	assert.NoFileExists(t, l.MetadataFile, "a failed install never reads as a valid cache")
}
