package builtins

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"strings"

	"github.com/cpex-go/cpex/core"
)

// ErrConfig is wrapped by every configuration error of a built-in guard, so callers can
// tell a bad `config:` mapping (errors.Is(err, ErrConfig)) from other load failures.
var ErrConfig = errors.New("invalid plugin config")

// ConfigError names the offending `config:` key and the value it had.
type ConfigError struct {
	Key    string // the key as written in YAML (dotted for nested keys, e.g. "limits.by_user")
	Value  any    // the value from the document (nil when the key is missing)
	Reason string // what is wrong, in words
}

func (e *ConfigError) Error() string {
	return fmt.Sprintf("config key %q (value %s): %s", e.Key, renderValue(e.Value), e.Reason)
}

// Unwrap lets errors.Is(err, ErrConfig) match.
func (e *ConfigError) Unwrap() error { return ErrConfig }

// NewConfigError builds the error a guard's Validate method returns for a value that
// decodes but is not acceptable (a negative count, an unknown strategy, a bad regex).
func NewConfigError(key string, value any, format string, args ...any) error {
	return &ConfigError{Key: key, Value: value, Reason: fmt.Sprintf(format, args...)}
}

// Validator is implemented by config structs that check their values after decoding
// (ranges, enums, regex compilation). DecodeConfig calls it last.
type Validator interface {
	Validate() error
}

// DecodeConfig fills dst (a pointer to a struct whose exported fields carry `json` tags)
// from the plugin's `config:` mapping. dst should hold the defaults already: a key absent
// from cfg, or present with a null value (YAML `key:`), keeps its default. A key that
// names no field, or whose value does not decode into the field's type (nested objects
// are decoded strictly too: unknown nested keys are errors), fails with a *ConfigError
// naming the key and value. Keys are matched exactly (YAML is case-sensitive) and checked
// in sorted order, so the error for a config with several problems is deterministic.
// When dst implements Validator, its Validate error is returned as is.
func DecodeConfig(cfg map[string]any, dst any) error {
	rv := reflect.ValueOf(dst)
	if rv.Kind() != reflect.Pointer || rv.Elem().Kind() != reflect.Struct {
		return fmt.Errorf("builtins.DecodeConfig: dst must be a pointer to a struct, got %T", dst)
	}
	sv := rv.Elem()
	fields := jsonFields(sv.Type())
	keys := make([]string, 0, len(cfg))
	for k := range cfg {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		val := cfg[k]
		idx, ok := fields[k]
		if !ok {
			known := make([]string, 0, len(fields))
			for name := range fields {
				known = append(known, name)
			}
			slices.Sort(known)
			return &ConfigError{Key: k, Value: val, Reason: "unknown key; known keys: " + strings.Join(known, ", ")}
		}
		if val == nil {
			continue
		}
		fv := sv.Field(idx)
		nv, err := decodeStrict(val, fv.Type())
		if err != nil {
			return &ConfigError{Key: k, Value: val, Reason: err.Error()}
		}
		fv.Set(nv)
	}
	if v, ok := dst.(Validator); ok {
		return v.Validate()
	}
	return nil
}

// decodeStrict converts one YAML/JSON value into a fresh value of type t through
// encoding/json, refusing unknown fields of nested structs.
func decodeStrict(val any, t reflect.Type) (reflect.Value, error) {
	raw, err := json.Marshal(val)
	if err != nil {
		return reflect.Value{}, fmt.Errorf("not representable as JSON: %v", err)
	}
	ptr := reflect.New(t)
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(ptr.Interface()); err != nil {
		return reflect.Value{}, describeDecodeError(err, t)
	}
	return ptr.Elem(), nil
}

// describeDecodeError turns encoding/json's messages into config wording.
func describeDecodeError(err error, t reflect.Type) error {
	var te *json.UnmarshalTypeError
	if errors.As(err, &te) {
		got := withArticle(jsonKindName(te.Value))
		if te.Type == t {
			return fmt.Errorf("expected %s, got %s", typeName(t), got)
		}
		where := "an item"
		if te.Field != "" {
			where = "field " + strconvQuote(te.Field)
		}
		return fmt.Errorf("expected %s: %s must be %s, got %s", typeName(t), where, typeName(te.Type), got)
	}
	msg := strings.TrimPrefix(err.Error(), "json: ")
	return fmt.Errorf("expected %s: %s", typeName(t), msg)
}

// jsonKindName names what encoding/json saw ("number 1.5" → "number 1.5", "array" → "list").
func jsonKindName(v string) string {
	switch {
	case v == "array":
		return "list"
	case v == "object":
		return "mapping"
	case v == "bool":
		return "boolean"
	}
	return v
}

func withArticle(s string) string {
	if s != "" && strings.ContainsRune("aeiou", rune(s[0])) {
		return "an " + s
	}
	return "a " + s
}

func strconvQuote(s string) string { return fmt.Sprintf("%q", s) }

// typeName names a Go type the way a YAML author thinks of it.
func typeName(t reflect.Type) string {
	switch t.Kind() {
	case reflect.Bool:
		return "a boolean"
	case reflect.String:
		return "a string"
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return "an integer"
	case reflect.Float32, reflect.Float64:
		return "a number"
	case reflect.Slice, reflect.Array:
		return "a list of " + strings.TrimPrefix(strings.TrimPrefix(typeName(t.Elem()), "a "), "an ") + "s"
	case reflect.Map:
		return "a mapping"
	case reflect.Struct:
		return "a mapping"
	case reflect.Pointer:
		return typeName(t.Elem())
	}
	return t.String()
}

// jsonFields maps the json tag name of each exported field of struct type t to its index.
func jsonFields(t reflect.Type) map[string]int {
	out := make(map[string]int, t.NumField())
	for i := range t.NumField() {
		f := t.Field(i)
		if !f.IsExported() {
			continue
		}
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		if name == "-" {
			continue
		}
		if name == "" {
			name = f.Name
		}
		out[name] = i
	}
	return out
}

// renderValue shows a config value compactly in an error message (JSON, cut at 80 bytes).
func renderValue(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprintf("%v", v)
	}
	const max = 80
	if len(b) > max {
		return string(b[:max]) + "…"
	}
	return string(b)
}

// CheckHooks fails when spec subscribes the guard to a hook it does not implement, so a
// typo or an unsupported hook is a load error instead of a guard that silently never runs.
func CheckHooks(spec core.PluginSpec, supported ...string) error {
	for _, h := range spec.Hooks {
		if !slices.Contains(supported, h) {
			return fmt.Errorf("%w: hook %q is not supported by %s (supported: %s)",
				ErrConfig, h, spec.Kind, strings.Join(supported, ", "))
		}
	}
	return nil
}
