package engine

import (
	"crypto/rand"
	"encoding/hex"
	"sort"
	"sync/atomic"
	"unicode/utf8"

	"github.com/cpex-go/cpex/core/config"
	"github.com/cpex-go/cpex/core/plugin"
)

// Ref is the trusted identity of one registered plugin, as the executor needs it: what
// a Python PluginRef is for upstream's executor. It is immutable once built. Plugin is
// the Go implementation, nil for a plugin that runs outside core (a Python plugin).
type Ref struct {
	UUID       string
	Name       string
	Kind       string
	Mode       config.Mode
	Priority   int
	OnError    config.OnError
	Conditions []config.PluginCondition
	// ConfigKeys are the names of the trusted config keys (≤64, each ≤256 bytes).
	ConfigKeys []string
	Plugin     plugin.Plugin

	recordKind string // Kind truncated for records
	seq        uint64 // unique per registration: plan cache keys
}

var refSeq atomic.Uint64

// RefSpec is what NewRef needs; zero Mode/OnError/Priority are not defaulted here
// (callers pass the values of a validated PluginConfig).
type RefSpec struct {
	UUID       string
	Name       string
	Kind       string
	Mode       config.Mode
	Priority   int
	OnError    config.OnError
	Conditions []config.PluginCondition
	ConfigKeys []string
	Plugin     plugin.Plugin
}

// NewRef builds a Ref. An empty UUID gets a fresh random one (32 hex chars, as
// upstream's uuid4().hex).
func NewRef(s RefSpec) *Ref {
	if s.UUID == "" {
		s.UUID = NewUUID()
	}
	keys := s.ConfigKeys
	if len(keys) > maxConfigKeys {
		keys = keys[:maxConfigKeys]
	}
	out := make([]string, len(keys))
	for i, k := range keys {
		out[i] = Truncate(k, maxRecordString)
	}
	conds := append([]config.PluginCondition(nil), s.Conditions...)
	return &Ref{
		UUID: s.UUID, Name: s.Name, Kind: s.Kind, Mode: s.Mode, Priority: s.Priority,
		OnError: s.OnError, Conditions: conds, ConfigKeys: out, Plugin: s.Plugin,
		recordKind: Truncate(s.Kind, maxRecordString), seq: refSeq.Add(1),
	}
}

// RefFromConfig builds the Ref of a configured plugin (keys of its config in the
// document order kept by the loader, else sorted).
func RefFromConfig(pc *config.PluginConfig, p plugin.Plugin) *Ref {
	return NewRef(RefSpec{
		Name: pc.Name, Kind: pc.Kind, Mode: pc.Mode, Priority: pc.Priority, OnError: pc.OnError,
		Conditions: pc.Conditions, ConfigKeys: configKeys(pc), Plugin: p,
	})
}

// NewUUID returns 32 random hex characters.
func NewUUID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40 // version 4, as uuid4
	b[8] = b[8]&0x3f | 0x80
	return hex.EncodeToString(b[:])
}

const (
	maxRecordString = 256
	maxConfigKeys   = 64
	ellipsis        = "…"
)

// Truncate cuts s so that its UTF-8 encoding plus "…" fits in max bytes, never
// splitting a character (upstream _truncate). Strings that fit are returned as is.
func Truncate(s string, max int) string {
	if len(s) <= max {
		return s
	}
	cut := max - len(ellipsis)
	if cut < 0 {
		cut = 0
	}
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + ellipsis
}

// configKeys: document order when the loader kept it, else sorted.
func configKeys(pc *config.PluginConfig) []string {
	if len(pc.ConfigKeys) == len(pc.Config) && len(pc.ConfigKeys) > 0 {
		return pc.ConfigKeys
	}
	return sortedKeys(pc.Config)
}

func sortedKeys(m map[string]any) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
