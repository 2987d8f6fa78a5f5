package config

import "strconv"

// Defaults of the configuration model (spec §4.3–§4.5).
const (
	DefaultMode                 = ModeSequential
	DefaultOnError              = OnErrorFail
	DefaultPriority             = 100
	DefaultMaxContentSize       = 10000000
	DefaultReconnectAttempts    = 3
	DefaultReconnectDelay       = 0.1
	DefaultUnixSocketTimeout    = 30.0
	DefaultServerHost           = "127.0.0.1"
	DefaultMCPServerPort        = 8000
	DefaultGRPCServerPort       = 50051
	DefaultUnixSocketServerPath = "/tmp/mcpgateway-plugins.sock"
	DefaultSSLCertReqs          = 2
	DefaultGRPCClientAuth       = ClientAuthRequire
)

// Config is the top-level YAML document (upstream Config). Unknown keys,
// notably plugin_settings, are ignored.
type Config struct {
	// Plugins is nil only when the document says `plugins: null`.
	Plugins                  []PluginConfig          `yaml:"plugins" json:"plugins"`
	PluginDirs               []string                `yaml:"plugin_dirs" json:"plugin_dirs"`
	ServerSettings           *MCPServerConfig        `yaml:"server_settings" json:"server_settings"`
	GRPCServerSettings       *GRPCServerConfig       `yaml:"grpc_server_settings" json:"grpc_server_settings"`
	UnixSocketServerSettings *UnixSocketServerConfig `yaml:"unix_socket_server_settings" json:"unix_socket_server_settings"`
}

// NewConfig returns the empty configuration: no plugins, no plugin dirs.
// Load returns it for a missing file, as upstream does.
func NewConfig() *Config {
	return &Config{Plugins: []PluginConfig{}, PluginDirs: []string{}}
}

// Plugin returns the plugin named name, if any.
func (c *Config) Plugin(name string) (*PluginConfig, bool) {
	for i := range c.Plugins {
		if c.Plugins[i].Name == name {
			return &c.Plugins[i], true
		}
	}
	return nil, false
}

// PluginConfig is one entry of `plugins:` (upstream PluginConfig). Field
// order and names follow upstream model_dump(); nil pointers are None.
type PluginConfig struct {
	Name           string            `yaml:"name" json:"name"`
	Description    *string           `yaml:"description" json:"description"`
	Author         *string           `yaml:"author" json:"author"`
	Kind           string            `yaml:"kind" json:"kind"`
	Namespace      *string           `yaml:"namespace" json:"namespace"`
	Version        *string           `yaml:"version" json:"version"`
	Hooks          []string          `yaml:"hooks" json:"hooks"`
	Tags           []string          `yaml:"tags" json:"tags"`
	Mode           Mode              `yaml:"mode" json:"mode"`
	OnError        OnError           `yaml:"on_error" json:"on_error"`
	Priority       int               `yaml:"priority" json:"priority"`
	MaxContentSize int               `yaml:"max_content_size" json:"max_content_size"`
	Conditions     []PluginCondition `yaml:"conditions" json:"conditions"`
	AppliedTo      *AppliedTo        `yaml:"applied_to" json:"applied_to"`
	// Capabilities is sorted and duplicate-free, as upstream serialises it.
	Capabilities []string       `yaml:"capabilities" json:"capabilities"`
	Config       map[string]any `yaml:"config" json:"config"`
	// ConfigKeys are Config's keys in document order (set by the loader; nil when
	// unknown, e.g. for a PluginConfig built in Go).
	ConfigKeys []string                `yaml:"-" json:"-"`
	MCP        *MCPClientConfig        `yaml:"mcp" json:"mcp"`
	GRPC       *GRPCClientConfig       `yaml:"grpc" json:"grpc"`
	UnixSocket *UnixSocketClientConfig `yaml:"unix_socket" json:"unix_socket"`
}

// NewPluginConfig returns a PluginConfig with every upstream default set.
func NewPluginConfig(name, kind string) PluginConfig {
	return PluginConfig{
		Name: name, Kind: kind,
		Hooks: []string{}, Tags: []string{},
		Mode: DefaultMode, OnError: DefaultOnError,
		Priority: DefaultPriority, MaxContentSize: DefaultMaxContentSize,
		Conditions: []PluginCondition{}, Capabilities: []string{},
	}
}

// HasCapability reports whether the plugin was granted c.
func (p *PluginConfig) HasCapability(c Capability) bool {
	return contains(p.Capabilities, string(c))
}

// PluginCondition restricts when a plugin runs (spec §4.2, §12). The six
// set-valued fields are duplicate-free and nil when empty, because upstream
// treats an empty set as "no constraint" and dumps it as None.
type PluginCondition struct {
	ServerIDs []string `yaml:"server_ids" json:"server_ids"`
	TenantIDs []string `yaml:"tenant_ids" json:"tenant_ids"`
	Tools     []string `yaml:"tools" json:"tools"`
	Prompts   []string `yaml:"prompts" json:"prompts"`
	Resources []string `yaml:"resources" json:"resources"`
	Agents    []string `yaml:"agents" json:"agents"`
	// UserPatterns are substrings (or dict keys) of the user, not regexes.
	UserPatterns []string `yaml:"user_patterns" json:"user_patterns"`
	// ContentTypes are normalised with NormalizeContentType.
	ContentTypes []string `yaml:"content_types" json:"content_types"`
}

// BaseTemplate holds the fields shared by the applied_to templates.
type BaseTemplate struct {
	Context    []string       `yaml:"context" json:"context"`
	Extensions map[string]any `yaml:"extensions" json:"extensions"`
}

// ToolTemplate is one applied_to.tools entry.
type ToolTemplate struct {
	BaseTemplate `yaml:",inline"`
	ToolName     string   `yaml:"tool_name" json:"tool_name"`
	Fields       []string `yaml:"fields" json:"fields"`
	Result       bool     `yaml:"result" json:"result"`
}

// PromptTemplate is one applied_to.prompts entry.
type PromptTemplate struct {
	BaseTemplate `yaml:",inline"`
	PromptName   string   `yaml:"prompt_name" json:"prompt_name"`
	Fields       []string `yaml:"fields" json:"fields"`
	Result       bool     `yaml:"result" json:"result"`
}

// ResourceTemplate is one applied_to.resources entry.
type ResourceTemplate struct {
	BaseTemplate `yaml:",inline"`
	ResourceURI  string   `yaml:"resource_uri" json:"resource_uri"`
	Fields       []string `yaml:"fields" json:"fields"`
	Result       bool     `yaml:"result" json:"result"`
}

// AppliedTo is carried for plugins; the framework never interprets it.
type AppliedTo struct {
	Tools     []ToolTemplate     `yaml:"tools" json:"tools"`
	Prompts   []PromptTemplate   `yaml:"prompts" json:"prompts"`
	Resources []ResourceTemplate `yaml:"resources" json:"resources"`
}

// TLSFiles are the certificate fields shared by every TLS config. Set paths
// are ~-expanded and must name existing regular files.
type TLSFiles struct {
	Certfile        *string `yaml:"certfile" json:"certfile"`
	Keyfile         *string `yaml:"keyfile" json:"keyfile"`
	CABundle        *string `yaml:"ca_bundle" json:"ca_bundle"`
	KeyfilePassword *string `yaml:"keyfile_password" json:"keyfile_password"`
}

// MCPClientTLSConfig is mcp.tls of an external plugin.
type MCPClientTLSConfig struct {
	TLSFiles      `yaml:",inline"`
	Verify        bool `yaml:"verify" json:"verify"`
	CheckHostname bool `yaml:"check_hostname" json:"check_hostname"`
}

// MCPServerTLSConfig is server_settings.tls.
type MCPServerTLSConfig struct {
	TLSFiles `yaml:",inline"`
	// SSLCertReqs: 0 none, 1 optional, 2 required.
	SSLCertReqs int `yaml:"ssl_cert_reqs" json:"ssl_cert_reqs"`
}

// GRPCClientTLSConfig is grpc.tls of an external plugin.
type GRPCClientTLSConfig struct {
	TLSFiles `yaml:",inline"`
	Verify   bool `yaml:"verify" json:"verify"`
}

// GRPCServerTLSConfig is grpc_server_settings.tls.
type GRPCServerTLSConfig struct {
	TLSFiles `yaml:",inline"`
	// ClientAuth is lower-cased; one of none, optional, require.
	ClientAuth string `yaml:"client_auth" json:"client_auth"`
}

// MCPServerConfig is server_settings (external plugin servers).
type MCPServerConfig struct {
	Host string              `yaml:"host" json:"host"`
	Port int                 `yaml:"port" json:"port"`
	UDS  *string             `yaml:"uds" json:"uds"`
	TLS  *MCPServerTLSConfig `yaml:"tls" json:"tls"`
}

// MCPClientConfig is the mcp transport of an external plugin.
type MCPClientConfig struct {
	Proto             TransportType       `yaml:"proto" json:"proto"`
	URL               *string             `yaml:"url" json:"url"`
	Script            *string             `yaml:"script" json:"script"`
	Cmd               []string            `yaml:"cmd" json:"cmd"`
	Env               map[string]string   `yaml:"env" json:"env"`
	Cwd               *string             `yaml:"cwd" json:"cwd"`
	UDS               *string             `yaml:"uds" json:"uds"`
	TLS               *MCPClientTLSConfig `yaml:"tls" json:"tls"`
	ReconnectAttempts int                 `yaml:"reconnect_attempts" json:"reconnect_attempts"`
	// ReconnectDelay is in seconds (linear back-off).
	ReconnectDelay float64 `yaml:"reconnect_delay" json:"reconnect_delay"`
}

// GRPCClientConfig is the grpc transport of an external plugin: exactly
// one of Target and UDS is set.
type GRPCClientConfig struct {
	Target *string              `yaml:"target" json:"target"`
	UDS    *string              `yaml:"uds" json:"uds"`
	TLS    *GRPCClientTLSConfig `yaml:"tls" json:"tls"`
}

// GetTarget returns the dial target: "unix://<uds>" or Target.
func (g *GRPCClientConfig) GetTarget() string {
	if g.UDS != nil {
		return "unix://" + *g.UDS
	}
	if g.Target != nil {
		return *g.Target
	}
	return ""
}

// GRPCServerConfig is grpc_server_settings.
type GRPCServerConfig struct {
	Host string               `yaml:"host" json:"host"`
	Port int                  `yaml:"port" json:"port"`
	UDS  *string              `yaml:"uds" json:"uds"`
	TLS  *GRPCServerTLSConfig `yaml:"tls" json:"tls"`
}

// GetBindAddress returns "unix://<uds>" or "host:port".
func (g *GRPCServerConfig) GetBindAddress() string {
	if g.UDS != nil {
		return "unix://" + *g.UDS
	}
	return g.Host + ":" + strconv.Itoa(g.Port)
}

// UnixSocketClientConfig is the unix_socket transport of an external plugin.
type UnixSocketClientConfig struct {
	Path              string  `yaml:"path" json:"path"`
	ReconnectAttempts int     `yaml:"reconnect_attempts" json:"reconnect_attempts"`
	ReconnectDelay    float64 `yaml:"reconnect_delay" json:"reconnect_delay"`
	// Timeout is the read timeout in seconds.
	Timeout float64 `yaml:"timeout" json:"timeout"`
}

// UnixSocketServerConfig is unix_socket_server_settings.
type UnixSocketServerConfig struct {
	Path string `yaml:"path" json:"path"`
}
