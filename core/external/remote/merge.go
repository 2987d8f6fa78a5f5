package remote

import (
	"encoding/json"
	"fmt"

	"github.com/cpex-go/cpex/core/config"
)

// Merge puts the remote plugin config under the local entry, as upstream's
// `remote.update(local.model_dump(exclude_unset=True))`: every key the local entry sets
// wins, the rest (hooks, mode, priority, conditions, config, ...) comes from the
// server. It returns the merged mapping (what Python validates as a PluginConfig) and
// its Go form, validated by the config loader with `config` allowed.
func Merge(local *config.PluginConfig, setKeys []string, remote map[string]any) (map[string]any, *config.PluginConfig, error) {
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
	if setKeys == nil {
		setKeys = LocalSetKeys(local)
	}
	for _, k := range setKeys {
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
	return merged, &out, nil
}

// LocalSetKeys stands for the keys the local entry sets when the caller does not know
// them (a config loaded by core's Manager keeps no record of them): its identity and
// transport plus every field that differs from its default. A key set to its default
// value therefore does not override the server's value on this path.
func LocalSetKeys(pc *config.PluginConfig) []string {
	keys := []string{"name", "kind"}
	switch {
	case pc.MCP != nil:
		keys = append(keys, "mcp")
	case pc.GRPC != nil:
		keys = append(keys, "grpc")
	case pc.UnixSocket != nil:
		keys = append(keys, "unix_socket")
	}
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
