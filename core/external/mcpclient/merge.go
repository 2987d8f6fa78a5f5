package mcpclient

import (
	"encoding/json"
	"fmt"

	"github.com/cpex-go/cpex/core/config"
)

// mergeRemote puts the remote plugin config under the local entry, as upstream's
// `remote.update(local.model_dump(exclude_unset=True))`: every key the local entry sets
// wins, the rest (hooks, mode, priority, conditions, config, ...) comes from the
// server. It returns the merged mapping (what Python validates as a PluginConfig) and
// its Go form, validated by the config loader with `config` allowed.
func mergeRemote(local *config.PluginConfig, remote map[string]any) (map[string]any, *config.PluginConfig, error) {
	localJSON, err := json.Marshal(local)
	if err != nil {
		return nil, nil, fmt.Errorf("external plugin %s: encoding the local config: %w", local.Name, err)
	}
	var localMap map[string]any
	if err := json.Unmarshal(localJSON, &localMap); err != nil {
		return nil, nil, fmt.Errorf("external plugin %s: encoding the local config: %w", local.Name, err)
	}
	merged := make(map[string]any, len(remote)+len(localMap))
	for k, v := range remote {
		merged[k] = v
	}
	for _, k := range localSetKeys(local) {
		if v, ok := localMap[k]; ok {
			merged[k] = v
		}
	}
	// The loader reads JSON as YAML; templating is off (the remote text is data) and the
	// local transport section was already checked when the entry was loaded.
	doc, err := json.Marshal(map[string]any{"plugins": []any{merged}})
	if err != nil {
		return nil, nil, fmt.Errorf("external plugin %s: encoding the merged config: %w", local.Name, err)
	}
	cfg, err := config.Parse(doc, "the config of external plugin "+local.Name+" merged with its server's",
		config.WithTemplating(false), config.WithIgnoreConfigExternal(true),
		config.WithSSRFProtection(false), config.WithFileChecks(false))
	if err != nil {
		return nil, nil, fmt.Errorf("external plugin %s: invalid remote config: %w", local.Name, err)
	}
	if len(cfg.Plugins) != 1 {
		return nil, nil, fmt.Errorf("external plugin %s: invalid remote config", local.Name)
	}
	out := cfg.Plugins[0]
	out.SetKeys = nil
	return merged, &out, nil
}

// localSetKeys are the keys the local entry set; for an entry built in Go (no record of
// them) its identity and transport plus every field that differs from the default.
func localSetKeys(pc *config.PluginConfig) []string {
	if pc.SetKeys != nil {
		return pc.SetKeys
	}
	keys := []string{"name", "kind", "mcp"}
	d := config.NewPluginConfig(pc.Name, pc.Kind)
	add := func(k string, differs bool) {
		if differs {
			keys = append(keys, k)
		}
	}
	add("description", pc.Description != nil)
	add("author", pc.Author != nil)
	add("namespace", pc.Namespace != nil)
	add("version", pc.Version != nil)
	add("hooks", len(pc.Hooks) > 0)
	add("tags", len(pc.Tags) > 0)
	add("mode", pc.Mode != d.Mode)
	add("on_error", pc.OnError != d.OnError)
	add("priority", pc.Priority != d.Priority)
	add("max_content_size", pc.MaxContentSize != d.MaxContentSize)
	add("conditions", len(pc.Conditions) > 0)
	add("applied_to", pc.AppliedTo != nil)
	add("capabilities", len(pc.Capabilities) > 0)
	add("config", len(pc.Config) > 0)
	return keys
}
