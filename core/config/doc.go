// Package config is the cpex configuration model, its YAML loader and the
// PLUGINS_* runtime settings.
//
// It mirrors the contract of upstream cpex 0.1.x (spec §4.2–§4.5, §5, §6,
// §21.2): the same field names (as yaml and json tags), the same defaults,
// the same validators and legacy mode names. A document is decoded from a
// yaml.v3 node tree rather than through reflection so that every error can
// name the file, the line, the field path (plugins[name=pii].mode,
// plugins[2].conditions[0].content_types[1]) and the offending value.
//
// Go callers use [Load] or [Parse]; both render the gateway's Jinja-style
// env templating first (see [Render]) unless [WithTemplating](false) is
// given. Python callers keep Jinja and hand the rendered text to [Parse]
// with templating off.
//
// Runtime settings come only from the environment ([LoadSettings]); a
// plugin_settings block in the YAML is ignored, exactly as upstream.
package config
