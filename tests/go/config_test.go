package config_test

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/cpex-go/cpex/core/config"
)

// gatewayLike is a trimmed copy of the shapes the gateway's
// plugins/config.yaml uses (gateway-contract §4.1).
const gatewayLike = `
plugin_dirs: ["plugins/native", "plugins/custom", "/etc/mcpgateway/plugins"]
plugin_settings:
  parallel_execution_within_band: true
  plugin_timeout: 120
plugins:
  - name: "PIIFilterPlugin"
    kind: "cpex_pii_filter.PIIFilterPlugin"
    description: "Detects and masks PII"
    version: "0.1.0"
    author: "ContextForge"
    hooks: ["prompt_pre_fetch", "tool_pre_invoke", "tool_post_invoke"]
    tags: ["security", "pii"]
    mode: "enforce"
    priority: 50
    conditions:
      - prompts: []
        server_ids: []
        tenant_ids: []
    config:
      detect_ssn: true
  - name: "RateLimiter"
    kind: "cpex_rate_limiter.RateLimiterPlugin"
    hooks: ["tool_pre_invoke"]
    mode: "disabled"
    priority: 20
    conditions: []
    config:
      redis_url: '{{ env.RATELIMITER_REDIS_URL | default(env.REDIS_URL | default("redis://redis:6379/0")) }}'
  - name: "Watchdog"
    kind: "plugins.watchdog.Watchdog"
    hooks: ["tool_post_invoke"]
    mode: "permissive"
    on_error: ignore
  - name: "Webhook"
    kind: "plugins.webhook.WebhookNotification"
    mode: "disabled"
    config:
      default_template: |
        {"event": "{{event}}", "plugin": "{{plugin_name}}"}
`

func writeConfig(t *testing.T, text string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "config.yaml")
	require.NoError(t, os.WriteFile(path, []byte(text), 0o600))
	return path
}

func TestLoadGatewayLikeConfig(t *testing.T) {
	path := writeConfig(t, gatewayLike)
	cfg, err := config.Load(path, config.WithEnv(map[string]string{"REDIS_URL": "redis://cache:6379/1"}))
	require.NoError(t, err)
	assert.Equal(t, []string{"plugins/native", "plugins/custom", "/etc/mcpgateway/plugins"}, cfg.PluginDirs)
	require.Len(t, cfg.Plugins, 4)

	pii := cfg.Plugins[0]
	assert.Equal(t, config.ModeSequential, pii.Mode)
	assert.Equal(t, 50, pii.Priority)
	require.Len(t, pii.Conditions, 1)
	assert.Equal(t, config.PluginCondition{}, pii.Conditions[0], "empty sets mean no constraint")

	assert.Equal(t, "redis://cache:6379/1", cfg.Plugins[1].Config["redis_url"])
	assert.Equal(t, config.ModeDisabled, cfg.Plugins[1].Mode)

	assert.Equal(t, config.ModeTransform, cfg.Plugins[2].Mode)
	assert.Equal(t, config.OnErrorIgnore, cfg.Plugins[2].OnError)

	// Undefined template variables render empty, as under upstream's Jinja;
	// and Jinja drops the file's final newline, so this last block scalar
	// loses its trailing newline too.
	assert.Equal(t, "{\"event\": \"\", \"plugin\": \"\"}", cfg.Plugins[3].Config["default_template"])
}

func TestLoadMissingFileIsEmpty(t *testing.T) {
	cfg, err := config.Load(filepath.Join(t.TempDir(), "absent.yaml"))
	require.NoError(t, err)
	assert.Equal(t, config.NewConfig(), cfg)
	js, err := json.Marshal(cfg)
	require.NoError(t, err)
	assert.JSONEq(t, `{"plugins":[],"plugin_dirs":[],"server_settings":null,"grpc_server_settings":null,"unix_socket_server_settings":null}`, string(js))
}

func TestLoadUnreadableFile(t *testing.T) {
	_, err := config.Load(t.TempDir()) // a directory cannot be read as a file
	require.Error(t, err)
	assert.Contains(t, err.Error(), "read plugin config")
}

func TestLoadErrorNamesFileLinePathAndValue(t *testing.T) {
	path := writeConfig(t, "plugins:\n  - name: pii\n    kind: k\n    conditions:\n      - content_types: [text/plain, 42]\n")
	_, err := config.Load(path)
	require.ErrorIs(t, err, config.ErrInvalidConfig)
	var ve *config.ValidationError
	require.True(t, errors.As(err, &ve))
	assert.Equal(t, path, ve.Source)
	require.Len(t, ve.Issues, 1)
	assert.Equal(t, config.Issue{
		Path: "plugins[name=pii].conditions[0].content_types[1]", Line: 5, Column: 37,
		Value: "42", Message: "must be a string",
	}, ve.Issues[0])
	assert.Equal(t, path+":5:37: invalid plugin configuration: plugins[name=pii].conditions[0].content_types[1]: must be a string (got 42)", err.Error())
}

func TestLoadTemplateErrorNamesFileAndLine(t *testing.T) {
	path := writeConfig(t, "plugins:\n  - name: '{{ env.X | upper }}'\n")
	_, err := config.Load(path)
	require.ErrorIs(t, err, config.ErrTemplate)
	var te *config.TemplateError
	require.True(t, errors.As(err, &te))
	assert.Equal(t, path, te.Source)
	assert.Equal(t, 2, te.Line)
}

func TestDuplicateNamesRejected(t *testing.T) {
	_, err := config.Parse([]byte("plugins:\n  - {name: a, kind: k}\n  - {name: b, kind: k}\n  - {name: a, kind: j}\n"), "dup.yaml")
	require.ErrorIs(t, err, config.ErrInvalidConfig)
	assert.Contains(t, err.Error(), "dup.yaml:4:5")
	assert.Contains(t, err.Error(), `duplicate plugin name, already used by plugins[0] (got "a")`)
}

func TestExternalPluginJSONShape(t *testing.T) {
	cfg, err := config.Parse([]byte(`
plugins:
  - name: opa
    kind: external
    mcp: {proto: STREAMABLEHTTP, url: "http://127.0.0.1:8000/mcp"}
`), "ext.yaml", config.WithSSRFProtection(false))
	require.NoError(t, err)
	js, err := json.Marshal(cfg.Plugins[0].MCP)
	require.NoError(t, err)
	assert.JSONEq(t, `{"proto":"STREAMABLEHTTP","url":"http://127.0.0.1:8000/mcp","script":null,"cmd":null,"env":null,
		"cwd":null,"uds":null,"tls":null,"reconnect_attempts":3,"reconnect_delay":0.1}`, string(js))

	_, err = config.Parse([]byte(`
plugins:
  - name: opa
    kind: external
    mcp: {proto: STREAMABLEHTTP, url: "http://127.0.0.1:8000/mcp"}
`), "ext.yaml")
	require.ErrorIs(t, err, config.ErrInvalidConfig, "SSRF protection is on by default")
}

func TestSettingsBlackBox(t *testing.T) {
	s, err := config.LoadSettingsFrom(func(k string) (string, bool) {
		v, ok := map[string]string{"PLUGINS_ENABLED": "true", "PLUGINS_CONFIG_FILE": "x.yaml"}[k]
		return v, ok
	})
	require.NoError(t, err)
	assert.True(t, s.Enabled)
	assert.Equal(t, "x.yaml", s.ConfigFile)
	assert.Equal(t, 30, s.PluginTimeout)
	assert.True(t, s.SSRFProtectionEnabled)
}
