package config

import (
	"bytes"
	"encoding/json"
	"reflect"
	"strings"
	"testing"

	"github.com/kelseyhightower/envconfig"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func mapLookup(m map[string]string) func(string) (string, bool) {
	return func(k string) (string, bool) { v, ok := m[k]; return v, ok }
}

func TestSettingsDefaults(t *testing.T) {
	s, err := LoadSettingsFrom(mapLookup(nil))
	require.NoError(t, err)
	assert.Equal(t, Settings{
		DefaultHookPolicy:            "allow",
		ConfigFile:                   "plugins/config.yaml",
		MetricsEnabled:               true, // cpex-go's extension
		LogLevel:                     "INFO",
		SSRFProtectionEnabled:        true,
		PluginTimeout:                30,
		ExecutionPool:                10,
		HTTPXMaxConnections:          200,
		HTTPXMaxKeepaliveConnections: 100,
		HTTPXKeepaliveExpiry:         30,
		HTTPXConnectTimeout:          5,
		HTTPXReadTimeout:             120,
		HTTPXWriteTimeout:            30,
		HTTPXPoolTimeout:             10,
	}, s)
}

// TestSettingsEnvNames checks that every field's variable is PLUGINS_ +
// the upper-cased upstream field name.
func TestSettingsEnvNames(t *testing.T) {
	upstream := []string{"enabled", "default_hook_policy", "config_file", "log_level", "skip_ssl_verify",
		"ssrf_protection_enabled", "plugin_timeout", "fail_on_plugin_error", "execution_pool",
		"httpx_max_connections", "httpx_max_keepalive_connections", "httpx_keepalive_expiry",
		"httpx_connect_timeout", "httpx_read_timeout", "httpx_write_timeout", "httpx_pool_timeout",
		"cli_completion", "cli_markup_mode", "client_mtls_certfile", "client_mtls_keyfile",
		"client_mtls_ca_bundle", "client_mtls_keyfile_password", "client_mtls_verify",
		"client_mtls_check_hostname", "server_ssl_keyfile", "server_ssl_certfile", "server_ssl_ca_certs",
		"server_ssl_keyfile_password", "server_ssl_cert_reqs", "server_host", "server_port", "server_uds",
		"server_ssl_enabled", "config_path", "transport", "grpc_client_mtls_certfile",
		"grpc_client_mtls_keyfile", "grpc_client_mtls_ca_bundle", "grpc_client_mtls_keyfile_password",
		"grpc_client_mtls_verify", "grpc_server_ssl_keyfile", "grpc_server_ssl_certfile",
		"grpc_server_ssl_ca_certs", "grpc_server_ssl_keyfile_password", "grpc_server_ssl_client_auth",
		"grpc_server_host", "grpc_server_port", "grpc_server_uds", "grpc_server_ssl_enabled", "unix_socket_path",
		// cpex-go's extensions, after upstream's
		"metrics_enabled"}
	typ := reflect.TypeOf(Settings{})
	require.Equal(t, len(upstream), typ.NumField())
	for i, name := range upstream {
		assert.Equal(t, "PLUGINS_"+strings.ToUpper(name), typ.Field(i).Tag.Get("envconfig"), typ.Field(i).Name)
	}
}

func TestSettingsFromEnv(t *testing.T) {
	s, err := LoadSettingsFrom(mapLookup(map[string]string{
		"PLUGINS_ENABLED":                      "yes",
		"PLUGINS_DEFAULT_HOOK_POLICY":          "deny",
		"PLUGINS_PLUGIN_TIMEOUT":               " 45 ",
		"PLUGINS_EXECUTION_POOL":               "0",
		"PLUGINS_HTTPX_READ_TIMEOUT":           "1_0.5",
		"PLUGINS_SSRF_PROTECTION_ENABLED":      "FALSE",
		"PLUGINS_CLI_MARKUP_MODE":              "rich",
		"PLUGINS_CLIENT_MTLS_VERIFY":           "",
		"PLUGINS_CLIENT_MTLS_CHECK_HOSTNAME":   "off",
		"PLUGINS_SERVER_PORT":                  "  ",
		"PLUGINS_GRPC_SERVER_PORT":             "50052",
		"PLUGINS_SERVER_HOST":                  "",
		"PLUGINS_CLIENT_MTLS_KEYFILE_PASSWORD": "s3cret",
		"UNIX_SOCKET_PATH":                     "/tmp/fallback.sock",
	}))
	require.NoError(t, err)
	assert.True(t, s.Enabled)
	assert.Equal(t, "deny", s.DefaultHookPolicy)
	assert.Equal(t, 45, s.PluginTimeout)
	assert.Equal(t, 0, s.ExecutionPool)
	assert.Equal(t, 10.5, s.HTTPXReadTimeout)
	assert.False(t, s.SSRFProtectionEnabled)
	assert.Equal(t, "rich", *s.CLIMarkupMode)
	assert.Nil(t, s.ClientMTLSVerify, "blank optional bool is nil")
	assert.Equal(t, ptr(false), s.ClientMTLSCheckHostname)
	assert.Nil(t, s.ServerPort, "blank optional int is nil")
	assert.Equal(t, ptr(50052), s.GRPCServerPort)
	assert.Equal(t, ptr(""), s.ServerHost, "blank optional string stays a string")
	assert.Equal(t, "s3cret", s.ClientMTLSKeyfilePassword.Reveal())
	assert.Equal(t, "**********", s.ClientMTLSKeyfilePassword.String())
	assert.Equal(t, "/tmp/fallback.sock", *s.UnixSocketPath)

	js, err := json.Marshal(s.ClientMTLSKeyfilePassword)
	require.NoError(t, err)
	assert.Equal(t, `"**********"`, string(js))
	assert.Equal(t, "", Secret("").String())

	s, err = LoadSettingsFrom(mapLookup(map[string]string{"PLUGINS_UNIX_SOCKET_PATH": "/a", "UNIX_SOCKET_PATH": "/b"}))
	require.NoError(t, err)
	assert.Equal(t, "/a", *s.UnixSocketPath, "the prefixed name wins")
}

func TestSettingsErrors(t *testing.T) {
	tests := map[string]string{
		"PLUGINS_ENABLED":             "maybe",
		"PLUGINS_PLUGIN_TIMEOUT":      "1.5",
		"PLUGINS_HTTPX_POOL_TIMEOUT":  "soon",
		"PLUGINS_SERVER_PORT":         "abc",
		"PLUGINS_DEFAULT_HOOK_POLICY": "block",
		"PLUGINS_CLI_MARKUP_MODE":     "html",
		"PLUGINS_EXECUTION_POOL":      "",
		"PLUGINS_CLIENT_MTLS_VERIFY":  " true ",
	}
	for name, value := range tests {
		t.Run(name, func(t *testing.T) {
			_, err := LoadSettingsFrom(mapLookup(map[string]string{name: value}))
			require.ErrorIs(t, err, ErrInvalidSettings)
			assert.Contains(t, err.Error(), name+"=")
			assert.Contains(t, err.Error(), value)
		})
	}
}

func TestLoadSettingsReadsProcessEnv(t *testing.T) {
	t.Setenv("PLUGINS_PLUGIN_TIMEOUT", "77")
	t.Setenv("PLUGINS_SERVER_HOST", "h")
	s, err := LoadSettings()
	require.NoError(t, err)
	assert.Equal(t, 77, s.PluginTimeout)

	// The struct tags are envconfig's: envconfig reads the same values.
	var viaEnvconfig Settings
	require.NoError(t, envconfig.Process("", &viaEnvconfig))
	assert.Equal(t, s.PluginTimeout, viaEnvconfig.PluginTimeout)
	assert.Equal(t, s.ConfigFile, viaEnvconfig.ConfigFile)
	assert.Equal(t, s.ServerHost, viaEnvconfig.ServerHost)
}

func TestSettingsUsage(t *testing.T) {
	var b bytes.Buffer
	require.NoError(t, SettingsUsage(&b))
	assert.Contains(t, b.String(), "PLUGINS_CONFIG_FILE")
	assert.Contains(t, b.String(), "plugins/config.yaml")
}

func TestSetFieldUnsupportedType(t *testing.T) {
	var x struct{ C complex64 }
	assert.ErrorContains(t, setField(reflect.ValueOf(&x).Elem().Field(0), "1"), "unsupported")
}
