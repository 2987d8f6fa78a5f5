package pybind

import (
	"encoding/json"
	"fmt"
	"time"

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
