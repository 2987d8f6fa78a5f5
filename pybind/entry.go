package pybind

import (
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/cpex-go/cpex/core"
	"github.com/cpex-go/cpex/core/config"
)

// What the functions that build an out-of-process plugin from one config entry share
// (ExternalPluginNew, IsolatedPluginNew): the entry's checks and the seconds options.

// oneEntry parses entry, a single plugin's config entry as Python validated it, with the
// core's loader (no templating; SSRF protection was applied under Python's settings) and
// checks that it is one plugin of kind. It answers the plugin and the keys the entry
// sets. want describes the expected entry in the error.
func oneEntry(fn, entry, kind, want string) (*config.PluginConfig, []string, error) {
	var raw json.RawMessage
	if err := json.Unmarshal([]byte(entry), &raw); err != nil {
		return nil, nil, fmt.Errorf("%s: entry: invalid JSON %s: %v", fn, clip(entry), err)
	}
	var keys map[string]json.RawMessage
	if err := json.Unmarshal(raw, &keys); err != nil {
		return nil, nil, fmt.Errorf("%s: entry: want a JSON object, got %s", fn, clip(entry))
	}
	doc, _ := json.Marshal(map[string]any{"plugins": []json.RawMessage{raw}})
	cfg, err := config.Parse(doc, kind+" plugin entry", config.WithTemplating(false), config.WithSSRFProtection(false))
	if err != nil {
		return nil, nil, fmt.Errorf("%s: %w", fn, err)
	}
	if len(cfg.Plugins) != 1 || cfg.Plugins[0].Kind != kind {
		return nil, nil, fmt.Errorf("%s: entry: want %s, got %s", fn, want, clip(entry))
	}
	set := make([]string, 0, len(keys))
	for k := range keys {
		set = append(set, k)
	}
	return &cfg.Plugins[0], set, nil
}

// seconds turns an optional seconds option into a duration: def when absent, an error
// naming fn and field unless it is positive and at most 1e6.
func seconds(fn, field string, v *float64, def time.Duration) (time.Duration, error) {
	if v == nil {
		return def, nil
	}
	if !(*v > 0) || *v > 1e6 {
		return 0, fmt.Errorf("%s: opts.%s: want a positive number of seconds, got %v", fn, field, *v)
	}
	return time.Duration(*v * float64(time.Second)), nil
}

// startFailed answers a plugin that could not start: a *core.PluginError (unreachable
// server, failing requirements, ...) as the error model Python raises as PluginError,
// code included; any other error as fn's error naming the plugin.
func startFailed(fn, name string, err error) (string, error) {
	var pe *core.PluginError
	if errors.As(err, &pe) {
		b, merr := json.Marshal(map[string]any{"error": map[string]any{
			"message": pe.Message, "plugin_name": name, "code": pe.Code, "details": orEmptyMap(pe.Details)}})
		if merr == nil {
			return string(b), nil
		}
	}
	return "", fmt.Errorf("%s: plugin %q: %w", fn, name, err)
}

// registerPlugin keeps a started plugin under a new Go plugin id.
func registerPlugin(pc *config.PluginConfig, p core.Plugin) int {
	st.mu.Lock()
	defer st.mu.Unlock()
	id := st.newID()
	st.plugins[id] = &goPluginEntry{id: id, name: pc.Name, kind: pc.Kind, plugin: p}
	return id
}
