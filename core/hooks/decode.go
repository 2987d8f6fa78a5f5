package hooks

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
)

// ErrInvalidPayload is wrapped by every decoding error of this package, so callers
// can tell a bad payload from other failures with errors.Is.
var ErrInvalidPayload = errors.New("invalid hook payload")

// PayloadError names the payload model, the field (a dotted path, empty for the
// whole document) and what is wrong with it.
type PayloadError struct {
	Model  string
	Field  string
	Reason string
}

func (e *PayloadError) Error() string {
	if e.Field == "" {
		return fmt.Sprintf("%s: %s", e.Model, e.Reason)
	}
	return fmt.Sprintf("%s: field %q: %s", e.Model, e.Field, e.Reason)
}

// Unwrap lets errors.Is(err, ErrInvalidPayload) match.
func (e *PayloadError) Unwrap() error { return ErrInvalidPayload }

func missing(model, field string) error {
	return &PayloadError{Model: model, Field: field, Reason: "required field is missing or null"}
}

// decodeInto decodes one JSON document into dst with numbers kept as
// json.Number (no precision loss in free-form values) and turns encoding/json's
// errors into PayloadErrors that name the model and the field.
func decodeInto(data []byte, model string, dst any) error {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	if err := dec.Decode(dst); err != nil {
		return jsonError(model, err)
	}
	if dec.More() {
		return &PayloadError{Model: model, Reason: "unexpected data after the JSON document"}
	}
	return nil
}

func jsonError(model string, err error) error {
	var pe *PayloadError
	if errors.As(err, &pe) {
		return err
	}
	var te *json.UnmarshalTypeError
	if errors.As(err, &te) {
		// The decoders embed their field struct as "plain"; that name is not a field.
		field := strings.TrimPrefix(te.Field, "plain.")
		return &PayloadError{Model: model, Field: field, Reason: fmt.Sprintf("expected %s, got JSON %s", goTypeName(te), te.Value)}
	}
	return &PayloadError{Model: model, Reason: err.Error()}
}

func goTypeName(te *json.UnmarshalTypeError) string {
	if te.Type == nil {
		return "another type"
	}
	switch te.Type.Kind().String() {
	case "string":
		return "a string"
	case "bool":
		return "a boolean"
	case "int", "int64", "int32":
		return "an integer"
	case "map", "struct":
		return "an object"
	case "slice", "array":
		return "an array"
	}
	return te.Type.String()
}

// anyValue decodes a free-form (pydantic Any) field and remembers that the key
// was present, so that a required Any field may be null but not absent.
type anyValue struct {
	set bool
	v   any
}

func (a *anyValue) UnmarshalJSON(data []byte) error {
	a.set = true
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	return dec.Decode(&a.v)
}

// convert re-encodes a free-form value (for example a tool result held as a
// decoded tree) into a typed Go value.
func convert(model string, v any, dst any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return &PayloadError{Model: model, Reason: err.Error()}
	}
	return decodeInto(b, model, dst)
}
