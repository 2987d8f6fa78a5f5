package config

import (
	"fmt"
	"sort"
	"strconv"

	"gopkg.in/yaml.v3"
)

// config decodes the top-level document; unknown keys are ignored.
func (d *decoder) config(root *yaml.Node) *Config {
	cfg := NewConfig()
	if isNull(root) {
		return cfg
	}
	if !d.requireMapping(root, "", "the configuration document") {
		return cfg
	}
	for _, f := range d.fields(root) {
		v := f.value()
		switch f.key {
		case "plugins":
			cfg.Plugins = d.plugins(v)
		case "plugin_dirs":
			if dirs, ok := d.strList(v, "plugin_dirs", false); ok {
				cfg.PluginDirs = dirs
			}
		case "server_settings":
			cfg.ServerSettings = d.mcpServer(v, "server_settings")
		case "grpc_server_settings":
			cfg.GRPCServerSettings = d.grpcServer(v, "grpc_server_settings")
		case "unix_socket_server_settings":
			cfg.UnixSocketServerSettings = d.unixServer(v, "unix_socket_server_settings")
		}
	}
	return cfg
}

// plugins decodes the plugins list and rejects duplicate names, which
// upstream only rejects later, at registration.
func (d *decoder) plugins(n *yaml.Node) []PluginConfig {
	if isNull(n) {
		return nil
	}
	if n.Kind != yaml.SequenceNode {
		d.failValue(n, "plugins", "must be a list of plugin entries")
		return []PluginConfig{}
	}
	out := make([]PluginConfig, 0, len(n.Content))
	firstAt := map[string]int{}
	for i, item := range n.Content {
		p, ok := d.plugin(resolve(item), i)
		if !ok {
			continue
		}
		if j, dup := firstAt[p.Name]; dup {
			d.fail(resolve(item), fmt.Sprintf("plugins[%d].name", i), strconv.Quote(p.Name),
				"duplicate plugin name, already used by plugins[%d]", j)
			continue
		}
		firstAt[p.Name] = i
		out = append(out, p)
	}
	return out
}

// pluginPath names plugin i by its name when it has a usable one.
func pluginPath(fs []field, i int) string {
	if f, ok := lookup(fs, "name"); ok {
		if v := f.value(); v != nil && v.Kind == yaml.ScalarNode && v.ShortTag() == "!!str" && v.Value != "" {
			return fmt.Sprintf("plugins[name=%s]", v.Value)
		}
	}
	return fmt.Sprintf("plugins[%d]", i)
}

// plugin decodes one PluginConfig; ok is false when any issue was found.
func (d *decoder) plugin(n *yaml.Node, i int) (PluginConfig, bool) {
	before := len(d.issues)
	p := NewPluginConfig("", "")
	if !d.requireMapping(n, fmt.Sprintf("plugins[%d]", i), "a plugin entry") {
		return p, false
	}
	fs := d.fields(n)
	path := pluginPath(fs, i)
	_, hasOnError := lookup(fs, "on_error")
	for _, key := range []string{"name", "kind"} {
		if _, ok := lookup(fs, key); !ok {
			d.fail(n, path+"."+key, "", "field required")
		}
	}
	for _, f := range fs {
		v, at := f.value(), path+"."+f.key
		switch f.key {
		case "name":
			p.Name, _ = d.str(v, at)
		case "kind":
			p.Kind, _ = d.str(v, at)
		case "description":
			p.Description, _ = d.optStr(v, at)
		case "author":
			p.Author, _ = d.optStr(v, at)
		case "namespace":
			p.Namespace, _ = d.optStr(v, at)
		case "version":
			p.Version, _ = d.optStr(v, at)
		case "hooks":
			if l, ok := d.strList(v, at, false); ok {
				p.Hooks = l
			}
		case "tags":
			if l, ok := d.strList(v, at, false); ok {
				p.Tags = l
			}
		case "mode":
			d.mode(v, at, &p, hasOnError)
		case "on_error":
			if s, ok := d.str(v, at); ok {
				if o := OnError(s); o.Valid() {
					p.OnError = o
				} else {
					d.failValue(v, at, "unknown on_error, want one of %s", joinValues(OnErrors))
				}
			}
		case "priority":
			p.Priority, _ = d.integer(v, at)
		case "max_content_size":
			p.MaxContentSize, _ = d.integer(v, at)
		case "conditions":
			p.Conditions = d.conditions(v, at)
		case "applied_to":
			p.AppliedTo = d.appliedTo(v, at)
		case "capabilities":
			p.Capabilities = d.capabilities(v, at)
		case "config":
			p.Config, _ = d.anyMap(v, at, true)
			p.ConfigKeys = configKeyOrder(d.fields(v), p.Config)
		case "mcp":
			p.MCP = d.mcpClient(v, at)
		case "grpc":
			p.GRPC = d.grpcClient(v, at)
		case "unix_socket":
			p.UnixSocket = d.unixClient(v, at)
		}
	}
	if len(d.issues) == before {
		d.pluginRules(n, path, &p)
	}
	return p, len(d.issues) == before
}

// mode applies the legacy-name migration of spec §4.5 before validating:
// enforce → sequential, permissive → transform, enforce_ignore_error →
// sequential plus on_error ignore unless the entry sets on_error itself.
func (d *decoder) mode(v *yaml.Node, at string, p *PluginConfig, hasOnError bool) {
	s, ok := d.str(v, at)
	if !ok {
		return
	}
	switch s {
	case LegacyModeEnforce:
		p.Mode = ModeSequential
	case LegacyModePermissive:
		p.Mode = ModeTransform
	case LegacyModeEnforceIgnoreError:
		p.Mode = ModeSequential
		if !hasOnError {
			p.OnError = OnErrorIgnore
		}
	default:
		if m := Mode(s); m.Valid() {
			p.Mode = m
			return
		}
		d.failValue(v, at, "unknown mode, want one of %s (legacy: enforce, enforce_ignore_error, permissive)", joinValues(Modes))
	}
}

// capabilities validates a list against the known Capability values. Any
// input that is not a list becomes the empty set, as upstream's validator
// does. The result is sorted and duplicate-free.
func (d *decoder) capabilities(v *yaml.Node, at string) []string {
	out := []string{}
	if v == nil || v.Kind != yaml.SequenceNode {
		return out
	}
	seen := map[string]bool{}
	for i, item := range v.Content {
		item = resolve(item)
		ip := fmt.Sprintf("%s[%d]", at, i)
		if item == nil || item.Kind != yaml.ScalarNode || item.ShortTag() != "!!str" || !Capability(item.Value).Valid() {
			d.failValue(item, ip, "unknown capability, want one of %s", joinValues(Capabilities))
			continue
		}
		if !seen[item.Value] {
			seen[item.Value] = true
			out = append(out, item.Value)
		}
	}
	sort.Strings(out)
	return out
}

// pluginRules are the cross-field validators of PluginConfig (spec §4.5).
func (d *decoder) pluginRules(n *yaml.Node, path string, p *PluginConfig) {
	if p.MCP != nil {
		mcp, at := p.MCP, path+".mcp"
		switch mcp.Proto {
		case TransportSTDIO:
			hasScript, hasCmd := mcp.Script != nil, mcp.Cmd != nil
			if hasScript == hasCmd {
				d.fail(n, at, "", "STDIO transport needs exactly one of script or cmd")
			}
		case TransportStreamableHTTP, TransportSSE:
			if mcp.URL == nil {
				d.fail(n, at+".url", "", "%s transport needs a url", mcp.Proto)
			}
		default:
			d.fail(n, at+".proto", strconv.Quote(string(mcp.Proto)), "unsupported MCP transport for a plugin, want STDIO, SSE or STREAMABLEHTTP")
		}
	}
	if p.Kind != KindExternal {
		return
	}
	if len(p.Config) > 0 && !d.opts.ignoreConfigExternal {
		d.fail(n, path+".config", "", "config is not allowed for kind: external (the external server owns its config)")
	}
	transports := 0
	for _, set := range []bool{p.MCP != nil, p.GRPC != nil, p.UnixSocket != nil} {
		if set {
			transports++
		}
	}
	if transports != 1 {
		d.fail(n, path, fmt.Sprintf("%d transports", transports), "kind: external needs exactly one of mcp, grpc or unix_socket")
	}
}

// conditions decodes list[PluginCondition].
func (d *decoder) conditions(v *yaml.Node, at string) []PluginCondition {
	out := []PluginCondition{}
	if v == nil || v.Kind != yaml.SequenceNode {
		d.failValue(v, at, "must be a list of conditions")
		return out
	}
	for i, item := range v.Content {
		ip := fmt.Sprintf("%s[%d]", at, i)
		if !d.requireMapping(item, ip, "a condition") {
			continue
		}
		var c PluginCondition
		for _, f := range d.fields(item) {
			fv, fp := f.value(), ip+"."+f.key
			switch f.key {
			case "server_ids":
				c.ServerIDs, _ = d.strSet(fv, fp)
			case "tenant_ids":
				c.TenantIDs, _ = d.strSet(fv, fp)
			case "tools":
				c.Tools, _ = d.strSet(fv, fp)
			case "prompts":
				c.Prompts, _ = d.strSet(fv, fp)
			case "resources":
				c.Resources, _ = d.strSet(fv, fp)
			case "agents":
				c.Agents, _ = d.strSet(fv, fp)
			case "user_patterns":
				c.UserPatterns, _ = d.strList(fv, fp, true)
			case "content_types":
				c.ContentTypes, _ = d.strList(fv, fp, true)
				for j, ct := range c.ContentTypes {
					c.ContentTypes[j] = NormalizeContentType(ct)
				}
			}
		}
		out = append(out, c)
	}
	return out
}

// appliedTo decodes Optional[AppliedTo]; the framework never reads it.
func (d *decoder) appliedTo(v *yaml.Node, at string) *AppliedTo {
	if isNull(v) || !d.requireMapping(v, at, "applied_to") {
		return nil
	}
	a := &AppliedTo{}
	for _, f := range d.fields(v) {
		fv, fp := f.value(), at+"."+f.key
		if isNull(fv) {
			continue
		}
		if fv.Kind != yaml.SequenceNode {
			switch f.key {
			case "tools", "prompts", "resources":
				d.failValue(fv, fp, "must be a list of templates")
			}
			continue
		}
		for i, item := range fv.Content {
			ip := fmt.Sprintf("%s[%d]", fp, i)
			switch f.key {
			case "tools":
				var t ToolTemplate
				t.BaseTemplate, t.Fields, t.Result = d.template(item, ip, "tool_name", &t.ToolName)
				a.Tools = append(a.Tools, t)
			case "prompts":
				var t PromptTemplate
				t.BaseTemplate, t.Fields, t.Result = d.template(item, ip, "prompt_name", &t.PromptName)
				a.Prompts = append(a.Prompts, t)
			case "resources":
				var t ResourceTemplate
				t.BaseTemplate, t.Fields, t.Result = d.template(item, ip, "resource_uri", &t.ResourceURI)
				a.Resources = append(a.Resources, t)
			}
		}
	}
	return a
}

// template decodes the fields shared by the three template kinds; nameKey
// is the required identifying field, stored in *name.
func (d *decoder) template(n *yaml.Node, at, nameKey string, name *string) (base BaseTemplate, fields []string, result bool) {
	if !d.requireMapping(n, at, "a template") {
		return
	}
	fs := d.fields(n)
	if _, ok := lookup(fs, nameKey); !ok {
		d.fail(resolve(n), at+"."+nameKey, "", "field required")
	}
	for _, f := range fs {
		fv, fp := f.value(), at+"."+f.key
		switch f.key {
		case nameKey:
			*name, _ = d.str(fv, fp)
		case "fields":
			fields, _ = d.strList(fv, fp, true)
		case "result":
			result, _ = d.boolean(fv, fp)
		case "context":
			base.Context, _ = d.strList(fv, fp, true)
		case "extensions":
			base.Extensions, _ = d.anyMap(fv, fp, true)
		}
	}
	return
}

// configKeyOrder lists the keys of a decoded config mapping in document order (a Go map
// has none; execution records list config keys in that order, as upstream's dict).
func configKeyOrder(fs []field, m map[string]any) []string {
	if len(m) == 0 {
		return nil
	}
	out := make([]string, 0, len(m))
	for _, f := range fs {
		if _, ok := m[f.key]; ok {
			out = append(out, f.key)
		}
	}
	if len(out) != len(m) {
		return nil
	}
	return out
}
