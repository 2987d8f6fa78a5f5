package plugin

import (
	"fmt"

	"github.com/cpex-go/cpex/core/config"
)

// GlobalContext is the per-request context a caller passes to every hook call of one
// request (upstream GlobalContext). Empty strings stand for None. State and Metadata are
// the shared dictionaries: each plugin sees a snapshot copy, and the writes of
// sequential, transform and concurrent plugins are merged back into these maps
// (key by key, deletions not propagated), so the caller must not use gctx from another
// goroutine while a hook call on it is running.
type GlobalContext struct {
	RequestID string
	// User is a string, a map[string]any or nil, as GlobalContext.user upstream.
	User        any
	TenantID    string
	ServerID    string
	ContentType string
	State       map[string]any
	Metadata    map[string]any
}

// ContextTable maps request_id + plugin uuid to the plugin's context. InvokeHook returns
// one; passing it back as local on the next hook of the same request keeps each plugin's
// private State (spec §13).
type ContextTable map[string]*PluginContext

// ExecutionStatus is the status of one execution record (upstream ControlExecutionStatus).
type ExecutionStatus string

// The statuses the executor emits (skipped/cancelled/disabled are reserved upstream and
// never emitted).
const (
	StatusCompleted ExecutionStatus = "completed"
	StatusError     ExecutionStatus = "error"
	StatusTimeout   ExecutionStatus = "timeout"
)

// OptBool is an optional boolean (Python Optional[bool]); the zero value is None.
type OptBool int8

// The three values of an OptBool.
const (
	None  OptBool = 0
	False OptBool = 1
	True  OptBool = 2
)

// OptBoolOf returns True or False.
func OptBoolOf(b bool) OptBool {
	if b {
		return True
	}
	return False
}

// Get returns the value and whether it is set.
func (o OptBool) Get() (value, ok bool) { return o == True, o != None }

// MarshalJSON encodes None as null.
func (o OptBool) MarshalJSON() ([]byte, error) {
	switch o {
	case True:
		return []byte("true"), nil
	case False:
		return []byte("false"), nil
	}
	return []byte("null"), nil
}

// UnmarshalJSON accepts true, false or null.
func (o *OptBool) UnmarshalJSON(b []byte) error {
	switch string(b) {
	case "true":
		*o = True
	case "false":
		*o = False
	case "null":
		*o = None
	default:
		return fmt.Errorf("optional bool: want true, false or null, got %s", b)
	}
	return nil
}

// String is "True", "False" or "None".
func (o OptBool) String() string {
	switch o {
	case True:
		return "True"
	case False:
		return "False"
	}
	return "None"
}

// ExecutionRecord is what one evaluated plugin did during a hook call (upstream
// ControlExecutionRecord; the JSON form has exactly its field names). ConfigKeys is
// shared with the plugin's registration: treat records as read-only.
type ExecutionRecord struct {
	PluginID           string          `json:"plugin_id"`
	PluginName         string          `json:"plugin_name"`
	PluginKind         string          `json:"plugin_kind"`
	HookName           string          `json:"hook_name"`
	Mode               config.Mode     `json:"mode"`
	Status             ExecutionStatus `json:"status"`
	RequestedAllow     OptBool         `json:"requested_allow"`
	EffectiveAllow     bool            `json:"effective_allow"`
	Matched            OptBool         `json:"matched"`
	Applied            bool            `json:"applied"`
	PayloadModified    bool            `json:"payload_modified"`
	ExtensionsModified bool            `json:"extensions_modified"`
	DurationNs         int64           `json:"duration_ns"`
	Reason             *string         `json:"reason"`
	ErrorCode          *string         `json:"error_code"`
	ConfigKeys         []string        `json:"config_keys"`
}

// DecisionPluginKey is the metadata key naming the plugin whose modification decided an
// http_auth_check_permission call.
const DecisionPluginKey = "_decision_plugin"

// MaxPayloadSize is the limit of the payload-size guard (upstream MAX_PAYLOAD_SIZE).
const MaxPayloadSize = 1_000_000

// DefaultTimeout is the default per-plugin timeout (upstream DEFAULT_PLUGIN_TIMEOUT).
const DefaultTimeout = 30

// PluginError is a plugin failure that escapes a hook call: the plugin failed or timed
// out under on_error fail (upstream PluginError; Error() is the message).
type PluginError struct {
	PluginName string
	Message    string
	Code       string
	Details    map[string]any
	// Timeout is set when the plugin exceeded the manager's timeout.
	Timeout bool
	// Err is the error the plugin returned (nil for a timeout or a panic).
	Err error
}

func (e *PluginError) Error() string { return e.Message }

// Unwrap returns the plugin's own error.
func (e *PluginError) Unwrap() error { return e.Err }

// ViolationError is returned instead of a halt result when the call asked for
// violations as errors (upstream PluginViolationError). A plugin may also return one
// from Invoke: it escapes the hook call as is, whatever the plugin's on_error.
type ViolationError struct {
	Message    string
	Violation  *Violation
	Executions []ExecutionRecord
}

func (e *ViolationError) Error() string { return e.Message }

// PayloadSizeError is returned before any plugin runs when the payload's args (or else
// its result) exceed MaxPayloadSize (upstream PayloadSizeError).
type PayloadSizeError struct{ Message string }

func (e *PayloadSizeError) Error() string { return e.Message }

// TimeoutError is what a single plugin invocation (Manager.InvokePlugin) returns when
// the plugin timed out under on_error ignore or disable (upstream PluginTimeoutError).
type TimeoutError struct{ Message string }

func (e *TimeoutError) Error() string { return e.Message }
