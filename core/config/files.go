package config

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// The filesystem validators of spec §4.3. They run only on paths that are
// set, and can be switched off with WithFileChecks(false).

// expandUser replaces a leading ~ with the home directory, like Python's
// os.path.expanduser (other users' ~name is left alone).
func expandUser(p string) string {
	if p != "~" && !strings.HasPrefix(p, "~/") {
		return p
	}
	home, err := os.UserHomeDir()
	if err != nil {
		return p
	}
	return home + p[1:]
}

// checkTLSFile: the ~-expanded path must be an existing regular file.
func checkTLSFile(p string) (string, error) {
	expanded := expandUser(p)
	info, err := os.Stat(expanded)
	if err != nil || !info.Mode().IsRegular() {
		return "", fmt.Errorf("TLS file path does not exist: %s", p)
	}
	return expanded, nil
}

// checkScript: an absolute script must exist, and unless it is a .py or
// .sh file it must be executable. Relative paths are accepted unchecked.
func checkScript(p string) error {
	if !filepath.IsAbs(p) {
		return nil
	}
	info, err := os.Stat(p)
	if err != nil {
		return fmt.Errorf("script does not exist: %s", p)
	}
	ext := strings.ToLower(filepath.Ext(p))
	if ext != ".py" && ext != ".sh" && (info.IsDir() || info.Mode().Perm()&0o111 == 0) {
		return fmt.Errorf("script is not executable: %s", p)
	}
	return nil
}

// checkDir: cwd must be an existing directory; it is returned resolved.
func checkDir(p string) (string, error) {
	resolved, err := resolvePath(p)
	if err == nil {
		var info os.FileInfo
		if info, err = os.Stat(resolved); err == nil && !info.IsDir() {
			err = fmt.Errorf("not a directory")
		}
	}
	if err != nil {
		return "", fmt.Errorf("cwd must be an existing directory: %s", p)
	}
	return resolved, nil
}

// checkSocketPath: a uds path is ~-expanded and resolved; its parent
// directory must exist. (Upstream also logs a warning for a world-writable
// parent; this package does not log.)
func checkSocketPath(p string) (string, error) {
	resolved, err := resolvePath(p)
	if err != nil {
		return "", fmt.Errorf("uds path cannot be resolved: %s", p)
	}
	parent := filepath.Dir(resolved)
	if info, err := os.Stat(parent); err != nil || !info.IsDir() {
		return "", fmt.Errorf("uds parent directory does not exist: %s", parent)
	}
	return resolved, nil
}

// resolvePath is Python's Path(p).expanduser().resolve() (non-strict):
// absolute, with symlinks of the existing prefix resolved.
func resolvePath(p string) (string, error) {
	abs, err := filepath.Abs(expandUser(p))
	if err != nil {
		return "", err
	}
	if r, err := filepath.EvalSymlinks(abs); err == nil {
		return r, nil
	}
	dir, base := filepath.Split(abs)
	if r, err := filepath.EvalSymlinks(dir); err == nil {
		return filepath.Join(r, base), nil
	}
	return abs, nil
}
