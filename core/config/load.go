package config

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"

	"gopkg.in/yaml.v3"
)

// Load reads, renders and validates the configuration file at path. A
// missing file is not an error: it yields the empty configuration, as
// upstream's ConfigLoader does. Errors name the file.
func Load(path string, opts ...Option) (*Config, error) {
	clean := filepath.Clean(path)
	data, err := os.ReadFile(clean)
	if errors.Is(err, fs.ErrNotExist) {
		return NewConfig(), nil
	}
	if err != nil {
		return nil, fmt.Errorf("read plugin config %s: %w", clean, err)
	}
	return Parse(data, path, opts...)
}

// Parse renders (unless WithTemplating(false)) and validates a configuration
// document. source names the document in errors (usually its file name).
// An empty document yields the empty configuration.
func Parse(data []byte, source string, opts ...Option) (*Config, error) {
	o := buildOptions(opts)
	text := string(data)
	if o.templating {
		rendered, err := Render(text, source, o.env)
		if err != nil {
			return nil, err
		}
		text = rendered
	}
	root, err := parseYAML([]byte(text), source)
	if err != nil {
		return nil, err
	}
	d := &decoder{opts: o}
	cfg := d.config(root)
	if len(d.issues) > 0 {
		return nil, &ValidationError{Source: source, Issues: d.issues}
	}
	return cfg, nil
}

// parseYAML parses exactly one YAML document (safe_load rejects streams of
// several) and returns its root, nil for an empty document.
func parseYAML(data []byte, source string) (*yaml.Node, error) {
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var doc yaml.Node
	if err := dec.Decode(&doc); err != nil {
		if errors.Is(err, io.EOF) {
			return nil, nil
		}
		return nil, fmt.Errorf("%s: %w: %v", sourceName(source), ErrInvalidConfig, err)
	}
	var extra yaml.Node
	if err := dec.Decode(&extra); !errors.Is(err, io.EOF) {
		if err != nil {
			return nil, fmt.Errorf("%s: %w: %v", sourceName(source), ErrInvalidConfig, err)
		}
		return nil, fmt.Errorf("%s:%d: %w: expected a single YAML document, found another", sourceName(source), extra.Line, ErrInvalidConfig)
	}
	if len(doc.Content) == 0 {
		return nil, nil
	}
	return doc.Content[0], nil
}

func sourceName(source string) string {
	if source == "" {
		return "<config>"
	}
	return source
}
