package isolated

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"unicode"
)

// Cache layout, as upstream cpex 0.1.4 lays it out (so a venv built by either host is
// reused by the other):
//
//	<plugin_dirs[0]>/<first segment of class_name>/          the plugin root
//	    .venv/                                              the virtualenv
//	    .cpex/venv_cache/.venv_metadata.json               the cache key (Metadata)
//	    <class name, non [A-Za-z0-9_-] as ->.plugin-manifest.yaml   the persisted manifest
const (
	venvDirName  = ".venv"
	cacheSubdir  = ".cpex/venv_cache"
	metadataName = venvDirName + "_metadata.json"
)

// Layout is where one plugin's venv and its cache key live.
type Layout struct {
	Root         string // the plugin root (see the layout above)
	Venv         string
	MetadataFile string
	ManifestFile string
}

// NewLayout computes the layout for class (dotted path) under pluginDir (made absolute).
func NewLayout(pluginDir, class string) (Layout, error) {
	first, _, _ := strings.Cut(class, ".")
	if strings.TrimSpace(first) == "" || strings.ContainsAny(first, `/\`) || first == ".." {
		return Layout{}, fmt.Errorf("config.class_name %q: want a dotted module.Class path", class)
	}
	abs, err := filepath.Abs(pluginDir)
	if err != nil {
		return Layout{}, fmt.Errorf("plugin_dirs[0] %q: %w", pluginDir, err)
	}
	root := filepath.Join(abs, first)
	return Layout{
		Root:         root,
		Venv:         filepath.Join(root, venvDirName),
		MetadataFile: filepath.Join(root, cacheSubdir, metadataName),
		ManifestFile: filepath.Join(root, ManifestFileName(class)),
	}, nil
}

// ManifestFileName is the persisted manifest's name for a class: every character other
// than a letter, digit, '-' or '_' becomes '-', leading/trailing '-' are dropped, and an
// empty result is "plugin" (the catalog writes the same name).
func ManifestFileName(class string) string {
	var b strings.Builder
	for _, r := range strings.TrimSpace(class) {
		if unicode.IsLetter(r) || unicode.IsDigit(r) || r == '-' || r == '_' {
			b.WriteRune(r)
		} else {
			b.WriteByte('-')
		}
	}
	s := strings.Trim(b.String(), "-")
	if s == "" {
		s = "plugin"
	}
	return s + ".plugin-manifest.yaml"
}

// Metadata is the cache key file. A key missing from an older file is "no signal" (not
// a mismatch), as upstream reads it.
type Metadata struct {
	VenvPath         string  `json:"venv_path"`
	RequirementsFile *string `json:"requirements_file"`
	RequirementsHash string  `json:"requirements_hash"`
	ManifestVersion  *string `json:"manifest_version"`
	ManifestHash     string  `json:"manifest_hash"`
	PythonVersion    string  `json:"python_version"`
}

// fileHash is the hex SHA-256 of a file's content; a missing file (or none) hashes as
// empty content.
func fileHash(path string) (string, error) {
	var data []byte
	if path != "" {
		b, err := os.ReadFile(path)
		if err != nil && !errors.Is(err, os.ErrNotExist) {
			return "", err
		}
		data = b
	}
	sum := sha256.Sum256(data)
	return hex.EncodeToString(sum[:]), nil
}

// Spec is what decides whether the cached venv fits.
type Spec struct {
	Layout       Layout
	Requirements string  // absolute path of the requirements file, "" for none
	Version      *string // the plugin's version (manifest_version)
	Python       string  // the interpreter that creates the venv
	// Extra are further `pip install` argument lists run after the requirements and
	// before the metadata is written (the installer puts the plugin's own package in).
	Extra [][]string
}

// cacheValid reads the metadata and compares requirements hash, manifest version and
// manifest hash. Any unreadable piece is "not valid" (the venv is rebuilt).
func cacheValid(s Spec) bool {
	if st, err := os.Stat(s.Layout.Venv); err != nil || !st.IsDir() {
		return false
	}
	raw, err := os.ReadFile(s.Layout.MetadataFile)
	if err != nil {
		return false
	}
	var keys map[string]json.RawMessage
	if json.Unmarshal(raw, &keys) != nil {
		return false
	}
	var md Metadata
	if json.Unmarshal(raw, &md) != nil {
		return false
	}
	req, err := fileHash(s.Requirements)
	if err != nil || md.RequirementsHash != req {
		return false
	}
	if _, has := keys["manifest_version"]; has && !sameOptString(md.ManifestVersion, s.Version) {
		return false
	}
	if _, has := keys["manifest_hash"]; has {
		mh, err := fileHash(s.Layout.ManifestFile)
		if err != nil || mh != md.ManifestHash {
			return false
		}
	}
	return true
}

func sameOptString(a, b *string) bool {
	if a == nil || b == nil {
		return a == nil && b == nil
	}
	return *a == *b
}

// venvLocks serialises building one venv path within this process (two plugins of the
// same package share a root and so a venv).
var venvLocks sync.Map // path -> *sync.Mutex

// pipTailLines is how many of pip's last output lines a failed install error quotes.
const pipTailLines = 8

// Ensure makes the venv of s usable: a valid cache is reused, otherwise the venv is
// (re)created with `python -m venv`, the requirements installed with the venv's pip,
// and the metadata written last (so a failed install never reads as a valid cache).
// created reports whether it built the venv.
func Ensure(ctx context.Context, s Spec) (created bool, err error) {
	mu, _ := venvLocks.LoadOrStore(s.Layout.Venv, &sync.Mutex{})
	mu.(*sync.Mutex).Lock()
	defer mu.(*sync.Mutex).Unlock()
	if cacheValid(s) {
		return false, nil
	}
	if err := os.MkdirAll(filepath.Dir(s.Layout.MetadataFile), 0o755); err != nil {
		return false, fmt.Errorf("creating %s: %w", filepath.Dir(s.Layout.MetadataFile), err)
	}
	// Stale metadata first: a crash between here and the end leaves "no cache".
	_ = os.Remove(s.Layout.MetadataFile)
	if err := os.RemoveAll(s.Layout.Venv); err != nil {
		return false, fmt.Errorf("removing the stale venv %s: %w", s.Layout.Venv, err)
	}
	if out, err := run(ctx, s.Python, "-m", "venv", "--symlinks", s.Layout.Venv); err != nil {
		return false, fmt.Errorf("creating the venv %s with %s: %v: %s", s.Layout.Venv, s.Python, err, tail(out, pipTailLines))
	}
	if s.Requirements != "" {
		if _, err := os.Stat(s.Requirements); err == nil {
			if out, err := run(ctx, VenvPython(s.Layout.Venv), "-m", "pip", "install", "--disable-pip-version-check", "-r", s.Requirements); err != nil {
				return false, &InstallError{Requirements: s.Requirements, Failing: failingRequirement(out), Tail: tail(out, pipTailLines), Err: err}
			}
		}
	}
	for _, args := range s.Extra {
		argv := append([]string{"-m", "pip", "install", "--disable-pip-version-check"}, args...)
		if out, err := run(ctx, VenvPython(s.Layout.Venv), argv...); err != nil {
			return false, &InstallError{Requirements: strings.Join(args, " "), Extra: true, Failing: failingRequirement(out), Tail: tail(out, pipTailLines), Err: err}
		}
	}
	if err := writeMetadata(ctx, s); err != nil {
		return false, err
	}
	return true, nil
}

// InstallError is a requirements install that failed: which file, which requirement pip
// named (when it did) and pip's last lines.
type InstallError struct {
	Requirements string // the requirements file, or the extra pip arguments (Extra)
	Extra        bool
	Failing      string
	Tail         string
	Err          error
}

func (e *InstallError) Error() string {
	req := ""
	if e.Failing != "" {
		req = fmt.Sprintf(" (requirement %s)", e.Failing)
	}
	return fmt.Sprintf("pip install %s failed%s: %v; pip's last lines:\n%s", e.what(), req, e.Err, e.Tail)
}

func (e *InstallError) Unwrap() error { return e.Err }

func (e *InstallError) what() string {
	if e.Extra {
		return e.Requirements
	}
	return "-r " + e.Requirements
}

// failingRequirement finds the requirement pip complains about in its output.
func failingRequirement(out []byte) string {
	for _, line := range strings.Split(string(out), "\n") {
		for _, marker := range []string{"No matching distribution found for ", "Could not find a version that satisfies the requirement "} {
			if i := strings.Index(line, marker); i >= 0 {
				rest := strings.TrimSpace(line[i+len(marker):])
				if f := strings.Fields(rest); len(f) > 0 {
					return f[0]
				}
			}
		}
	}
	return ""
}

func writeMetadata(ctx context.Context, s Spec) error {
	req, err := fileHash(s.Requirements)
	if err != nil {
		return err
	}
	man, err := fileHash(s.Layout.ManifestFile)
	if err != nil {
		return err
	}
	md := Metadata{VenvPath: s.Layout.Venv, RequirementsHash: req, ManifestVersion: s.Version, ManifestHash: man}
	if s.Requirements != "" {
		if _, err := os.Stat(s.Requirements); err == nil {
			r := s.Requirements
			md.RequirementsFile = &r
		}
	}
	if out, err := run(ctx, VenvPython(s.Layout.Venv), "-c", "import sys; print('%d.%d.%d' % sys.version_info[:3])"); err == nil {
		md.PythonVersion = strings.TrimSpace(string(out))
	}
	b, err := json.MarshalIndent(md, "", "  ")
	if err != nil {
		return err
	}
	tmp := s.Layout.MetadataFile + ".tmp"
	if err := os.WriteFile(tmp, b, 0o644); err != nil {
		return fmt.Errorf("writing %s: %w", tmp, err)
	}
	return os.Rename(tmp, s.Layout.MetadataFile)
}

// VenvPython is the venv's interpreter.
func VenvPython(venv string) string { return filepath.Join(venv, "bin", "python") }

func run(ctx context.Context, name string, args ...string) ([]byte, error) {
	cmd := exec.CommandContext(ctx, name, args...)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err := cmd.Run()
	return out.Bytes(), err
}

// tail is the last n non-empty lines of out.
func tail(out []byte, n int) string {
	var lines []string
	for _, l := range strings.Split(string(out), "\n") {
		if strings.TrimSpace(l) != "" {
			lines = append(lines, strings.TrimRight(l, "\r"))
		}
	}
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

// Prepare is the installer's entry: the venv of class under pluginDir, built with the
// same cache rules as the runtime, with extra pip installs (the plugin's package) done
// before the cache key is written. It answers the layout and whether it built the venv.
func Prepare(ctx context.Context, python, pluginDir, class string, version *string, requirements string, extra [][]string) (Layout, bool, error) {
	l, err := NewLayout(pluginDir, class)
	if err != nil {
		return Layout{}, false, err
	}
	if python == "" {
		python = "python3"
	}
	if requirements != "" && !filepath.IsAbs(requirements) {
		requirements = filepath.Join(l.Root, requirements)
	}
	if err := os.MkdirAll(l.Root, 0o755); err != nil {
		return l, false, err
	}
	created, err := Ensure(ctx, Spec{Layout: l, Requirements: requirements, Version: version, Python: python, Extra: extra})
	return l, created, err
}
