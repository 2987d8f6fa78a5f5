package plugin

import (
	"context"
	"encoding/json"
	"fmt"
	"sync"
	"sync/atomic"
	"unsafe"

	"github.com/cpex-go/cpex/internal/wirejson"
)

// Plugin is a Go-native plugin. One instance is built per PluginConfig entry by the
// Factory registered under the entry's kind, and is shared by every hook call of the
// manager that loaded it, so Invoke must be safe for concurrent use.
type Plugin interface {
	// Invoke handles one call of hook for this plugin. It must honour ctx (deadline =
	// the manager's timeout). Returning an error is a plugin error: the executor applies
	// the plugin's on_error rule exactly as for a Python plugin that raised. ctx, payload
	// and pctx are valid only until Invoke returns (the executor reuses them).
	Invoke(ctx context.Context, hook string, payload *Payload, pctx *PluginContext) (*Result, error)
}

// Shutdowner is implemented by plugins that hold resources (connections, goroutines).
type Shutdowner interface {
	Shutdown(ctx context.Context) error
}

// ExtensionsReader is implemented by a Go plugin that reads PluginContext.Extensions
// (the policy engines). A foreign host sends the extensions only for such plugins, so a
// chain of Go plugins that never read them does not pay for their encoding.
type ExtensionsReader interface {
	ReadsExtensions() bool
}

// ReadsExtensions reports whether p reads PluginContext.Extensions.
func ReadsExtensions(p Plugin) bool {
	r, ok := p.(ExtensionsReader)
	return ok && r.ReadsExtensions()
}

// Factory builds a plugin from its trusted configuration. cfg.Config holds the
// plugin-specific `config:` mapping from the YAML document. A factory must reject
// unknown or ill-typed keys with an error that names the key.
type Factory func(cfg PluginSpec) (Plugin, error)

// PluginSpec is what a factory receives: the identity and the plugin-specific config.
type PluginSpec struct {
	Name   string
	Kind   string
	Hooks  []string
	Config map[string]any
}

// Payload is the JSON form of one hook payload (the same field names as the Python
// models' model_dump(mode="json")). It is decoded lazily and at most once, so a chain of
// Go plugins shares one decoded tree; it is safe for concurrent use (the plugins of the
// concurrent phase share one Payload).
type Payload struct {
	decoded atomic.Bool // value/err are set
	encoded atomic.Bool // raw is set
	mu      sync.Mutex  // serialises the first decode and the first encode
	raw     []byte
	text    string // raw's own string when the payload was made from one (NewPayloadText)
	value   any
	err     error
}

// NewPayloadJSON wraps JSON text.
func NewPayloadJSON(raw []byte) *Payload {
	p := &Payload{raw: raw}
	p.encoded.Store(true)
	return p
}

// NewPayloadText wraps JSON text held in a string, without copying it: the decoded
// tree's strings are substrings of s, and EncodedJSON / JSON answer a view of s's bytes,
// which must not be modified. The foreign host hands every go step its payload this way
// (one copy of a megabyte payload fewer, and none made when the tree is decoded).
func NewPayloadText(s string) *Payload {
	p := &Payload{raw: unsafe.Slice(unsafe.StringData(s), len(s)), text: s}
	p.encoded.Store(true)
	return p
}

// NewPayloadValue wraps an already decoded JSON tree (map[string]any, []any, string,
// float64, json.Number, bool, nil).
func NewPayloadValue(v any) *Payload {
	p := &Payload{value: v}
	p.decoded.Store(true)
	return p
}

// Value returns the decoded JSON tree. Callers must not mutate it: a plugin that changes
// the payload returns a new tree in Result.ModifiedPayload (copy what it changes).
func (p *Payload) Value() (any, error) {
	if p.decoded.Load() {
		return p.value, p.err
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if !p.decoded.Load() {
		var v any
		var err error
		if p.text != "" {
			v, err = wirejson.DecodeText(p.text)
		} else {
			v, err = wirejson.Decode(p.raw)
		}
		if err != nil {
			p.err = fmt.Errorf("payload: invalid JSON: %w", err)
		} else {
			p.value = v
		}
		p.decoded.Store(true)
	}
	return p.value, p.err
}

// isDecoded reports whether the tree is available without decoding.
func (p *Payload) isDecoded() bool { return p.decoded.Load() && p.err == nil }

// Decoded is the payload's tree when it was decoded (or built from one) without error,
// and whether it was: the executor asks without forcing a decode.
func (p *Payload) Decoded() (any, bool) {
	if p.isDecoded() {
		return p.value, true
	}
	return nil, false
}

// RawLen is the length of the JSON text when the payload has one (else -1).
func (p *Payload) RawLen() int { return p.rawLen() }

// rawLen is the length of the JSON text when the payload has one (else -1).
func (p *Payload) rawLen() int {
	if p.encoded.Load() {
		return len(p.raw)
	}
	return -1
}

// Field returns one top-level field of an object payload (nil when absent or when the
// payload is not an object or not valid JSON). On a payload still in JSON text it
// decodes that field only, leaving the payload undecoded: reading a tool name costs a
// scan of the text, not a decode of the arguments. Each call on such a payload scans
// again (and returns a fresh value); a plugin reading many fields should call Value.
func (p *Payload) Field(name string) any {
	if !p.decoded.Load() && p.encoded.Load() {
		return wirejson.Field(p.raw, name)
	}
	v, err := p.Value()
	if err != nil {
		return nil
	}
	if m, ok := v.(map[string]any); ok {
		return m[name]
	}
	return nil
}

// JSON returns the JSON text of the payload, encoding the tree if it has none.
func (p *Payload) JSON() ([]byte, error) {
	if p.encoded.Load() {
		return p.raw, nil
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if !p.encoded.Load() {
		b, err := json.Marshal(p.value)
		if err != nil {
			return nil, err
		}
		p.raw = b
		p.encoded.Store(true)
	}
	return p.raw, nil
}

// EncodedJSON returns the payload's JSON text when it has one, without encoding the
// tree (a caller with its own encoder uses Value otherwise).
func (p *Payload) EncodedJSON() ([]byte, bool) {
	if p.encoded.Load() {
		return p.raw, true
	}
	return nil, false
}

// PluginContext is what a Go plugin sees of the request: read-only facts of the
// GlobalContext, the plugin's private State (kept across hooks of one request when the
// caller passes the context table back), and snapshot copies of the shared state
// (GlobalState) and metadata (Metadata) whose writes are merged back after sequential,
// transform and concurrent plugins. The maps are nil while empty (a context costs no
// allocation until it is written): write through SetState, SetGlobal and SetMetadata,
// or allocate the map first.
type PluginContext struct {
	RequestID   string
	User        any // string, map[string]any or nil, as in GlobalContext.user
	TenantID    string
	ServerID    string
	ContentType string
	State       map[string]any
	GlobalState map[string]any
	Metadata    map[string]any
	// Extensions are the request's extensions (upstream Extensions) in their JSON form,
	// as this plugin may read them: nil when the caller passed none. Read-only; a Go
	// plugin cannot modify extensions.
	Extensions map[string]any
}

// StateValue returns a key of the private state (nil when absent).
func (c *PluginContext) StateValue(key string) any { return c.State[key] }

// SetState writes a key of the private state.
func (c *PluginContext) SetState(key string, v any) {
	if c.State == nil {
		c.State = map[string]any{}
	}
	c.State[key] = v
}

// SetGlobal writes a key of the shared state (merged back into GlobalContext.State
// after sequential, transform and concurrent plugins).
func (c *PluginContext) SetGlobal(key string, v any) {
	if c.GlobalState == nil {
		c.GlobalState = map[string]any{}
	}
	c.GlobalState[key] = v
}

// SetMetadata writes a key of the shared metadata (merged back like SetGlobal).
func (c *PluginContext) SetMetadata(key string, v any) {
	if c.Metadata == nil {
		c.Metadata = map[string]any{}
	}
	c.Metadata[key] = v
}

// Violation mirrors PluginViolation.
type Violation struct {
	Reason         string            `json:"reason"`
	Description    string            `json:"description"`
	Code           string            `json:"code"`
	Details        map[string]any    `json:"details"`
	PluginName     string            `json:"-"`
	MCPErrorCode   *int              `json:"mcp_error_code"`
	HTTPStatusCode *int              `json:"http_status_code"`
	HTTPHeaders    map[string]string `json:"http_headers"`
}

// Result mirrors PluginResult for a Go plugin. The zero value (and nil) means "allow,
// no change". Block=true is continue_processing=False.
type Result struct {
	Block           bool
	ModifiedPayload any // a whole new payload tree (top-level object), nil = unchanged
	Violation       *Violation
	Metadata        map[string]any
	RetryDelayMs    int
	// DenialMetadata is cpex 0.1.4's denial_metadata: opt-in numeric telemetry about a
	// block (bool, int64 or float64 values under short static names; nil: none). The
	// gRPC and Unix-socket transports carry it typed (remote.DenialToProto).
	DenialMetadata map[string]any
}
