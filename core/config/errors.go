package config

import (
	"errors"
	"fmt"
	"strings"
)

// Sentinel errors; every error returned by Load and Parse wraps one of them.
var (
	// ErrInvalidConfig: the document is not valid YAML or does not satisfy
	// the configuration model. The concrete error is a *ValidationError
	// (or a YAML syntax error wrapped with this sentinel).
	ErrInvalidConfig = errors.New("invalid plugin configuration")
	// ErrTemplate: env templating of the document failed (*TemplateError).
	ErrTemplate = errors.New("invalid config template")
	// ErrInvalidSettings: a PLUGINS_* environment variable is malformed.
	ErrInvalidSettings = errors.New("invalid plugin settings")
)

// Issue is one validation failure inside a document.
type Issue struct {
	// Path locates the field: plugins[name=pii].mode, plugins[2].conditions[0].tools.
	Path string
	// Line and Column are 1-based positions in the YAML text (0 if unknown).
	Line, Column int
	// Value is the offending value as written (quoted scalar or a kind such as "mapping").
	Value string
	// Message says what is wrong.
	Message string
}

func (i Issue) String() string {
	var b strings.Builder
	if i.Path != "" {
		b.WriteString(i.Path)
		b.WriteString(": ")
	}
	b.WriteString(i.Message)
	if i.Value != "" {
		b.WriteString(" (got ")
		b.WriteString(i.Value)
		b.WriteString(")")
	}
	return b.String()
}

// ValidationError lists every issue found in one document. It unwraps to
// ErrInvalidConfig.
type ValidationError struct {
	// Source is the file name (or the caller's label) of the document.
	Source string
	Issues []Issue
}

func (e *ValidationError) Error() string {
	src := e.Source
	if src == "" {
		src = "<config>"
	}
	if len(e.Issues) == 1 {
		return fmt.Sprintf("%s: %v: %s", position(src, e.Issues[0]), ErrInvalidConfig, e.Issues[0])
	}
	var b strings.Builder
	fmt.Fprintf(&b, "%s: %v: %d issues:", src, ErrInvalidConfig, len(e.Issues))
	for _, is := range e.Issues {
		b.WriteString("\n  ")
		b.WriteString(position(src, is))
		b.WriteString(": ")
		b.WriteString(is.String())
	}
	return b.String()
}

// position renders "file:line:col" (or just the file when the line is unknown).
func position(src string, i Issue) string {
	if i.Line <= 0 {
		return src
	}
	return fmt.Sprintf("%s:%d:%d", src, i.Line, i.Column)
}

// Unwrap returns ErrInvalidConfig.
func (e *ValidationError) Unwrap() error { return ErrInvalidConfig }

// TemplateError is a templating failure at one line. It unwraps to ErrTemplate.
type TemplateError struct {
	Source string
	Line   int
	// Expr is the offending template tag as written (may be truncated).
	Expr    string
	Message string
}

func (e *TemplateError) Error() string {
	src := e.Source
	if src == "" {
		src = "<config>"
	}
	return fmt.Sprintf("%s:%d: %v: %s in %q", src, e.Line, ErrTemplate, e.Message, e.Expr)
}

// Unwrap returns ErrTemplate.
func (e *TemplateError) Unwrap() error { return ErrTemplate }
