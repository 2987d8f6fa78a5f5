package config

import "strings"

// Mode is a plugin's execution mode (upstream PluginMode).
type Mode string

// The execution modes, in upstream declaration order.
const (
	ModeFireAndForget Mode = "fire_and_forget"
	ModeConcurrent    Mode = "concurrent"
	ModeSequential    Mode = "sequential"
	ModeTransform     Mode = "transform"
	ModeAudit         Mode = "audit"
	ModeDisabled      Mode = "disabled"
)

// Modes lists every valid Mode in upstream declaration order.
var Modes = []Mode{ModeFireAndForget, ModeConcurrent, ModeSequential, ModeTransform, ModeAudit, ModeDisabled}

// Legacy mode names accepted in a plugin entry and rewritten before
// validation (spec §4.5). They are not Mode values.
const (
	LegacyModeEnforce            = "enforce"
	LegacyModeEnforceIgnoreError = "enforce_ignore_error"
	LegacyModePermissive         = "permissive"
)

// Valid reports whether m is one of Modes.
func (m Mode) Valid() bool { return contains(Modes, m) }

// OnError says what the executor does when a plugin raises (upstream OnError).
type OnError string

// The on_error policies.
const (
	OnErrorFail    OnError = "fail"
	OnErrorIgnore  OnError = "ignore"
	OnErrorDisable OnError = "disable"
)

// OnErrors lists every valid OnError value.
var OnErrors = []OnError{OnErrorFail, OnErrorIgnore, OnErrorDisable}

// Valid reports whether o is one of OnErrors.
func (o OnError) Valid() bool { return contains(OnErrors, o) }

// TransportType is the MCP transport of an external plugin.
type TransportType string

// The transport types (upstream TransportType; upper-case values).
const (
	TransportSSE            TransportType = "SSE"
	TransportHTTP           TransportType = "HTTP"
	TransportSTDIO          TransportType = "STDIO"
	TransportStreamableHTTP TransportType = "STREAMABLEHTTP"
	TransportGRPC           TransportType = "GRPC"
)

// TransportTypes lists every valid TransportType.
var TransportTypes = []TransportType{TransportSSE, TransportHTTP, TransportSTDIO, TransportStreamableHTTP, TransportGRPC}

// Valid reports whether t is one of TransportTypes.
func (t TransportType) Valid() bool { return contains(TransportTypes, t) }

// Capability is an extension-access capability a plugin may be granted.
type Capability string

// The capabilities (spec §3 Capability).
const (
	CapReadSubject      Capability = "read_subject"
	CapReadRoles        Capability = "read_roles"
	CapReadTeams        Capability = "read_teams"
	CapReadClaims       Capability = "read_claims"
	CapReadPermissions  Capability = "read_permissions"
	CapReadAgent        Capability = "read_agent"
	CapReadHeaders      Capability = "read_headers"
	CapWriteHeaders     Capability = "write_headers"
	CapReadLabels       Capability = "read_labels"
	CapAppendLabels     Capability = "append_labels"
	CapReadDelegation   Capability = "read_delegation"
	CapAppendDelegation Capability = "append_delegation"
)

// Capabilities lists every known Capability in upstream declaration order.
var Capabilities = []Capability{
	CapReadSubject, CapReadRoles, CapReadTeams, CapReadClaims, CapReadPermissions, CapReadAgent,
	CapReadHeaders, CapWriteHeaders, CapReadLabels, CapAppendLabels, CapReadDelegation, CapAppendDelegation,
}

// Valid reports whether c is one of Capabilities.
func (c Capability) Valid() bool { return contains(Capabilities, c) }

// Plugin kinds with a special meaning to the loader (spec §21.4).
const (
	KindExternal     = "external"
	KindIsolatedVenv = "isolated_venv"
)

// gRPC server client-auth values (GRPCServerTLSConfig.client_auth).
const (
	ClientAuthNone     = "none"
	ClientAuthOptional = "optional"
	ClientAuthRequire  = "require"
)

// NormalizeContentType returns the media type of s without parameters,
// trimmed and lower-cased ("Application/JSON; charset=utf-8" →
// "application/json"), as condition matching compares them.
func NormalizeContentType(s string) string {
	if i := strings.IndexByte(s, ';'); i >= 0 {
		s = s[:i]
	}
	return strings.ToLower(strings.TrimSpace(s))
}

func contains[T comparable](list []T, v T) bool {
	for _, x := range list {
		if x == v {
			return true
		}
	}
	return false
}

func joinValues[T ~string](list []T) string {
	parts := make([]string, len(list))
	for i, v := range list {
		parts[i] = string(v)
	}
	return strings.Join(parts, ", ")
}
