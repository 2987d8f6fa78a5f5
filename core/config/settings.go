package config

import (
	"fmt"
	"io"
	"math"
	"os"
	"reflect"
	"strconv"
	"strings"

	"github.com/kelseyhightower/envconfig"
)

// Secret is a password read from the environment. It prints and marshals
// masked, as pydantic's SecretStr does; Reveal returns the value.
type Secret string

const secretMask = "**********"

// Reveal returns the secret value.
func (s Secret) Reveal() string { return string(s) }

// String returns the mask (or "" for an empty secret) so that secrets do not
// leak into logs.
func (s Secret) String() string {
	if s == "" {
		return ""
	}
	return secretMask
}

// MarshalJSON writes the mask, as upstream model_dump(mode="json") does.
func (s Secret) MarshalJSON() ([]byte, error) { return []byte(strconv.Quote(s.String())), nil }

// Settings are the PLUGINS_* runtime settings (upstream PluginsSettings,
// spec §6.1). Each field's `envconfig` tag is its environment variable and
// `default` its default. Optional fields are nil when unset; for the
// optional bool and int fields a blank value also means nil.
type Settings struct {
	Enabled                      bool    `envconfig:"PLUGINS_ENABLED" default:"false" desc:"enable the plugin framework"`
	DefaultHookPolicy            string  `envconfig:"PLUGINS_DEFAULT_HOOK_POLICY" default:"allow" desc:"allow or deny payload changes for hooks without a policy"`
	ConfigFile                   string  `envconfig:"PLUGINS_CONFIG_FILE" default:"plugins/config.yaml" desc:"plugin configuration file"`
	LogLevel                     string  `envconfig:"PLUGINS_LOG_LEVEL" default:"INFO" desc:"log level of the plugin server runtimes"`
	SkipSSLVerify                bool    `envconfig:"PLUGINS_SKIP_SSL_VERIFY" default:"false" desc:"skip TLS verification in plugin HTTP clients"`
	SSRFProtectionEnabled        bool    `envconfig:"PLUGINS_SSRF_PROTECTION_ENABLED" default:"true" desc:"reject private and loopback IPs in plugin URLs"`
	PluginTimeout                int     `envconfig:"PLUGINS_PLUGIN_TIMEOUT" default:"30" desc:"per-plugin timeout in seconds"`
	FailOnPluginError            bool    `envconfig:"PLUGINS_FAIL_ON_PLUGIN_ERROR" default:"false" desc:"fail manager initialisation when a plugin fails to load"`
	ExecutionPool                int     `envconfig:"PLUGINS_EXECUTION_POOL" default:"10" desc:"concurrent-phase parallelism (0 = unbounded)"`
	HTTPXMaxConnections          int     `envconfig:"PLUGINS_HTTPX_MAX_CONNECTIONS" default:"200"`
	HTTPXMaxKeepaliveConnections int     `envconfig:"PLUGINS_HTTPX_MAX_KEEPALIVE_CONNECTIONS" default:"100"`
	HTTPXKeepaliveExpiry         float64 `envconfig:"PLUGINS_HTTPX_KEEPALIVE_EXPIRY" default:"30.0"`
	HTTPXConnectTimeout          float64 `envconfig:"PLUGINS_HTTPX_CONNECT_TIMEOUT" default:"5.0"`
	HTTPXReadTimeout             float64 `envconfig:"PLUGINS_HTTPX_READ_TIMEOUT" default:"120.0"`
	HTTPXWriteTimeout            float64 `envconfig:"PLUGINS_HTTPX_WRITE_TIMEOUT" default:"30.0"`
	HTTPXPoolTimeout             float64 `envconfig:"PLUGINS_HTTPX_POOL_TIMEOUT" default:"10.0"`
	CLICompletion                bool    `envconfig:"PLUGINS_CLI_COMPLETION" default:"false"`
	// CLIMarkupMode is nil or one of markdown, rich, disabled.
	CLIMarkupMode *string `envconfig:"PLUGINS_CLI_MARKUP_MODE"`

	ClientMTLSCertfile        *string `envconfig:"PLUGINS_CLIENT_MTLS_CERTFILE"`
	ClientMTLSKeyfile         *string `envconfig:"PLUGINS_CLIENT_MTLS_KEYFILE"`
	ClientMTLSCABundle        *string `envconfig:"PLUGINS_CLIENT_MTLS_CA_BUNDLE"`
	ClientMTLSKeyfilePassword *Secret `envconfig:"PLUGINS_CLIENT_MTLS_KEYFILE_PASSWORD"`
	ClientMTLSVerify          *bool   `envconfig:"PLUGINS_CLIENT_MTLS_VERIFY"`
	ClientMTLSCheckHostname   *bool   `envconfig:"PLUGINS_CLIENT_MTLS_CHECK_HOSTNAME"`

	ServerSSLKeyfile         *string `envconfig:"PLUGINS_SERVER_SSL_KEYFILE"`
	ServerSSLCertfile        *string `envconfig:"PLUGINS_SERVER_SSL_CERTFILE"`
	ServerSSLCACerts         *string `envconfig:"PLUGINS_SERVER_SSL_CA_CERTS"`
	ServerSSLKeyfilePassword *Secret `envconfig:"PLUGINS_SERVER_SSL_KEYFILE_PASSWORD"`
	ServerSSLCertReqs        *int    `envconfig:"PLUGINS_SERVER_SSL_CERT_REQS"`
	ServerHost               *string `envconfig:"PLUGINS_SERVER_HOST"`
	ServerPort               *int    `envconfig:"PLUGINS_SERVER_PORT"`
	ServerUDS                *string `envconfig:"PLUGINS_SERVER_UDS"`
	ServerSSLEnabled         *bool   `envconfig:"PLUGINS_SERVER_SSL_ENABLED"`

	// ConfigPath is the configuration of an external plugin server.
	ConfigPath *string `envconfig:"PLUGINS_CONFIG_PATH"`
	// Transport is stdio or http for the MCP plugin server runtime.
	Transport *string `envconfig:"PLUGINS_TRANSPORT"`

	GRPCClientMTLSCertfile        *string `envconfig:"PLUGINS_GRPC_CLIENT_MTLS_CERTFILE"`
	GRPCClientMTLSKeyfile         *string `envconfig:"PLUGINS_GRPC_CLIENT_MTLS_KEYFILE"`
	GRPCClientMTLSCABundle        *string `envconfig:"PLUGINS_GRPC_CLIENT_MTLS_CA_BUNDLE"`
	GRPCClientMTLSKeyfilePassword *Secret `envconfig:"PLUGINS_GRPC_CLIENT_MTLS_KEYFILE_PASSWORD"`
	GRPCClientMTLSVerify          *bool   `envconfig:"PLUGINS_GRPC_CLIENT_MTLS_VERIFY"`

	GRPCServerSSLKeyfile         *string `envconfig:"PLUGINS_GRPC_SERVER_SSL_KEYFILE"`
	GRPCServerSSLCertfile        *string `envconfig:"PLUGINS_GRPC_SERVER_SSL_CERTFILE"`
	GRPCServerSSLCACerts         *string `envconfig:"PLUGINS_GRPC_SERVER_SSL_CA_CERTS"`
	GRPCServerSSLKeyfilePassword *Secret `envconfig:"PLUGINS_GRPC_SERVER_SSL_KEYFILE_PASSWORD"`
	GRPCServerSSLClientAuth      *string `envconfig:"PLUGINS_GRPC_SERVER_SSL_CLIENT_AUTH"`
	GRPCServerHost               *string `envconfig:"PLUGINS_GRPC_SERVER_HOST"`
	GRPCServerPort               *int    `envconfig:"PLUGINS_GRPC_SERVER_PORT"`
	GRPCServerUDS                *string `envconfig:"PLUGINS_GRPC_SERVER_UDS"`
	GRPCServerSSLEnabled         *bool   `envconfig:"PLUGINS_GRPC_SERVER_SSL_ENABLED"`

	// UnixSocketPath comes from PLUGINS_UNIX_SOCKET_PATH, else UNIX_SOCKET_PATH.
	UnixSocketPath *string `envconfig:"PLUGINS_UNIX_SOCKET_PATH" alt:"UNIX_SOCKET_PATH"`

	// Extensions of cpex-go (after upstream's fields, which keep their order).

	// MetricsEnabled turns per-plugin Prometheus metrics on for Python hosts (a cpex-go
	// extension: the Python manager counts and registers a prometheus_client collector).
	MetricsEnabled bool `envconfig:"PLUGINS_METRICS_ENABLED" default:"true" desc:"count per-plugin metrics and expose them to prometheus_client"`
}

// LoadSettings reads Settings from the process environment.
func LoadSettings() (Settings, error) { return LoadSettingsFrom(os.LookupEnv) }

// LoadSettingsFrom reads Settings through lookup (tests pass a map-backed
// function). Every malformed variable is reported, each naming the
// variable and its value; the error wraps ErrInvalidSettings.
//
// Differences from pydantic-settings, by design: names are matched
// case-sensitively, and no .env file is read.
func LoadSettingsFrom(lookup func(string) (string, bool)) (Settings, error) {
	var s Settings
	v := reflect.ValueOf(&s).Elem()
	t := v.Type()
	var problems []string
	for i := 0; i < t.NumField(); i++ {
		sf := t.Field(i)
		name := sf.Tag.Get("envconfig")
		raw, ok := lookup(name)
		if alt := sf.Tag.Get("alt"); !ok && alt != "" {
			name = alt
			raw, ok = lookup(alt)
		}
		if !ok {
			raw, ok = sf.Tag.Lookup("default")
		}
		if !ok {
			continue
		}
		if err := setField(v.Field(i), raw); err != nil {
			problems = append(problems, fmt.Sprintf("%s=%q: %v", name, raw, err))
		}
	}
	if s.DefaultHookPolicy != "allow" && s.DefaultHookPolicy != "deny" {
		problems = append(problems, fmt.Sprintf("PLUGINS_DEFAULT_HOOK_POLICY=%q: must be allow or deny", s.DefaultHookPolicy))
	}
	if m := s.CLIMarkupMode; m != nil && *m != "markdown" && *m != "rich" && *m != "disabled" {
		problems = append(problems, fmt.Sprintf("PLUGINS_CLI_MARKUP_MODE=%q: must be markdown, rich or disabled", *m))
	}
	if len(problems) > 0 {
		return s, fmt.Errorf("%w: %s", ErrInvalidSettings, strings.Join(problems, "; "))
	}
	return s, nil
}

// setField parses raw into f following pydantic's rules for the field type.
func setField(f reflect.Value, raw string) error {
	if f.Kind() == reflect.Pointer {
		elem := f.Type().Elem().Kind()
		// The shared before-validator: blank means None for optional bools and ints.
		if (elem == reflect.Bool || elem == reflect.Int) && strings.TrimSpace(raw) == "" {
			return nil
		}
		p := reflect.New(f.Type().Elem())
		if err := setField(p.Elem(), raw); err != nil {
			return err
		}
		f.Set(p)
		return nil
	}
	switch f.Kind() {
	case reflect.String:
		f.SetString(raw)
	case reflect.Bool:
		b, ok := parseBool(raw)
		if !ok {
			return fmt.Errorf("not a boolean")
		}
		f.SetBool(b)
	case reflect.Int:
		n, ok := parseLaxInt(raw)
		if !ok {
			return fmt.Errorf("not an integer")
		}
		f.SetInt(int64(n))
	case reflect.Float64:
		x, err := strconv.ParseFloat(strings.ReplaceAll(strings.TrimSpace(raw), "_", ""), 64)
		if err != nil && !math.IsInf(x, 0) {
			return fmt.Errorf("not a number")
		}
		f.SetFloat(x)
	default:
		return fmt.Errorf("unsupported settings field type %s", f.Type())
	}
	return nil
}

// SettingsUsage writes the table of PLUGINS_* variables, their types and
// defaults (envconfig's usage format) to w, e.g. for a --help-env flag.
func SettingsUsage(w io.Writer) error {
	return envconfig.Usagef("", &Settings{}, w, envconfig.DefaultTableFormat)
}
