package pybind

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/cpex-go/cpex/core/config"
	"github.com/cpex-go/cpex/core/external/isolated"
)

// isolatedSetupTimeout bounds IsolatedPluginNew when opts gives no timeout: creating a
// venv and installing its requirements can take minutes, but never forever.
const isolatedSetupTimeout = 15 * time.Minute

// isolatedOpts are IsolatedPluginNew's options: facts Python knows (its interpreter,
// the config document's plugin_dirs, the working directory, the plugin's safe config
// JSON and its resolved requirements file).
type isolatedOpts struct {
	Python       *string  `json:"python"`
	PluginDirs   []string `json:"plugin_dirs"`
	Dir          *string  `json:"dir"`
	SafeConfig   *string  `json:"safe_config"`
	Requirements *string  `json:"requirements"`
	Timeout      *float64 `json:"timeout"`
	CallTimeout  *float64 `json:"call_timeout"`
}

// IsolatedPluginNew makes (or reuses) the venv of a `kind: isolated_venv` plugin,
// starts its worker and registers it as a Go plugin. entry is the plugin's config entry
// (model_dump(mode="json")). Answer {"id": Go plugin id} or {"error": PluginErrorModel}.
func IsolatedPluginNew(entry string, opts string) (_ string, err error) {
	defer guard("IsolatedPluginNew", &err)
	pc, o, timeout, err := isolatedNewInput(entry, opts)
	if err != nil {
		return "", err
	}
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	p, err := isolated.New(ctx, pc, o)
	if err != nil {
		return startFailed("IsolatedPluginNew", pc.Name, err)
	}
	id := registerPlugin(pc, p)
	return fmt.Sprintf(`{"id":%d}`, id), nil
}

func isolatedNewInput(entry, opts string) (*config.PluginConfig, isolated.Options, time.Duration, error) {
	var none isolated.Options
	var o isolatedOpts
	if err := decodeStrict("IsolatedPluginNew", "opts", opts, &o); err != nil {
		return nil, none, 0, err
	}
	timeout, err := seconds("IsolatedPluginNew", "timeout", o.Timeout, isolatedSetupTimeout)
	if err != nil {
		return nil, none, 0, err
	}
	pc, _, err := oneEntry("IsolatedPluginNew", entry, config.KindIsolatedVenv, "one plugin with kind isolated_venv")
	if err != nil {
		return nil, none, 0, err
	}
	io := isolated.Options{PluginDirs: o.PluginDirs}
	if o.Python != nil {
		io.Python = *o.Python
	}
	if o.Dir != nil {
		io.Dir = *o.Dir
	}
	if o.SafeConfig != nil {
		io.SafeConfig = *o.SafeConfig
	}
	if o.Requirements != nil {
		io.Requirements = *o.Requirements
	}
	if io.CallTimeout, err = seconds("IsolatedPluginNew", "call_timeout", o.CallTimeout, 0); err != nil {
		return nil, none, 0, err
	}
	return pc, io, timeout, nil
}

// IsolatedVenvPrepare builds (or reuses) the venv of an isolated_venv plugin for the
// installer, through the runtime's own cache rules: opts = {"python", "plugin_dir",
// "class_name", "version", "requirements", "extra": [[pip install args], ...],
// "timeout"}. Answer {"root", "venv", "created"} or {"error": {"message", "code"}}.
func IsolatedVenvPrepare(opts string) (_ string, err error) {
	defer guard("IsolatedVenvPrepare", &err)
	var o struct {
		Python       string     `json:"python"`
		PluginDir    string     `json:"plugin_dir"`
		ClassName    string     `json:"class_name"`
		Version      *string    `json:"version"`
		Requirements string     `json:"requirements"`
		Extra        [][]string `json:"extra"`
		Timeout      *float64   `json:"timeout"`
	}
	if err := decodeStrict("IsolatedVenvPrepare", "opts", opts, &o); err != nil {
		return "", err
	}
	if o.PluginDir == "" || o.ClassName == "" {
		return "", fmt.Errorf("IsolatedVenvPrepare: opts: plugin_dir and class_name are required, got %s", clip(opts))
	}
	timeout := isolatedSetupTimeout
	if o.Timeout != nil {
		if !(*o.Timeout > 0) || *o.Timeout > 1e6 {
			return "", fmt.Errorf("IsolatedVenvPrepare: opts.timeout: want a positive number of seconds, got %v", *o.Timeout)
		}
		timeout = time.Duration(*o.Timeout * float64(time.Second))
	}
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	l, created, err := isolated.Prepare(ctx, o.Python, o.PluginDir, o.ClassName, o.Version, o.Requirements, o.Extra)
	if err != nil {
		b, _ := json.Marshal(map[string]any{"error": map[string]any{"message": err.Error(), "code": isolated.CodeVenv}})
		return string(b), nil
	}
	b, err := json.Marshal(map[string]any{"root": l.Root, "venv": l.Venv, "created": created})
	return string(b), err
}
