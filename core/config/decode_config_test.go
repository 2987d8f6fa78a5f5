package config

import (
	"encoding/json"
	"errors"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// parse is Parse with templating off and no filesystem checks unless asked.
func parse(t *testing.T, doc string, opts ...Option) (*Config, error) {
	t.Helper()
	return Parse([]byte(doc), "test.yaml", append([]Option{WithTemplating(false)}, opts...)...)
}

func mustParse(t *testing.T, doc string, opts ...Option) *Config {
	t.Helper()
	cfg, err := parse(t, doc, opts...)
	require.NoError(t, err)
	return cfg
}

// issuesOf returns the issues of a validation error (failing the test otherwise).
func issuesOf(t *testing.T, err error) []Issue {
	t.Helper()
	require.Error(t, err)
	require.ErrorIs(t, err, ErrInvalidConfig)
	var ve *ValidationError
	require.True(t, errors.As(err, &ve), "want *ValidationError, got %T: %v", err, err)
	return ve.Issues
}

func TestPluginDefaults(t *testing.T) {
	cfg := mustParse(t, "plugins:\n  - name: p\n    kind: a.B\n")
	require.Len(t, cfg.Plugins, 1)
	assert.Equal(t, NewPluginConfig("p", "a.B"), cfg.Plugins[0])
	p := cfg.Plugins[0]
	assert.Equal(t, ModeSequential, p.Mode)
	assert.Equal(t, OnErrorFail, p.OnError)
	assert.Equal(t, 100, p.Priority)
	assert.Equal(t, 10000000, p.MaxContentSize)
	assert.Nil(t, p.Description)
	assert.Nil(t, p.Config)
	assert.Nil(t, p.AppliedTo)

	js, err := json.Marshal(p)
	require.NoError(t, err)
	assert.JSONEq(t, `{"name":"p","description":null,"author":null,"kind":"a.B","namespace":null,"version":null,
		"hooks":[],"tags":[],"mode":"sequential","on_error":"fail","priority":100,"max_content_size":10000000,
		"conditions":[],"applied_to":null,"capabilities":[],"config":null,"mcp":null,"grpc":null,"unix_socket":null}`, string(js))
}

func TestConfigDefaultsAndIgnoredKeys(t *testing.T) {
	for name, doc := range map[string]string{
		"empty":           "",
		"only comments":   "# nothing\n",
		"null document":   "null\n",
		"plugin_settings": "plugin_settings: {plugin_timeout: 120}\nunknown: 1\n",
	} {
		t.Run(name, func(t *testing.T) {
			cfg := mustParse(t, doc)
			assert.Equal(t, NewConfig(), cfg)
		})
	}
	cfg := mustParse(t, "plugins: null\nplugin_dirs: [a, b]\n")
	assert.Nil(t, cfg.Plugins)
	assert.Equal(t, []string{"a", "b"}, cfg.PluginDirs)
}

func TestPluginFieldsDecoded(t *testing.T) {
	cfg := mustParse(t, `
plugins:
  - name: full
    kind: pkg.mod.Cls
    description: d
    author: a
    namespace: ns
    version: "1.0"
    hooks: [tool_pre_invoke, tool_post_invoke]
    tags: [security]
    mode: concurrent
    on_error: disable
    priority: 10.0
    max_content_size: "2_000"
    capabilities: [write_headers, append_labels, read_headers, read_headers]
    config: {a: 1, b: [x, 2.5, true, null], c: {d: e}}
    extra_key: ignored
    applied_to:
      tools: [{tool_name: t, fields: [f], result: true, context: [c], extensions: {k: v}}]
      prompts: [{prompt_name: p}]
      resources: [{resource_uri: "file:///x"}]
`)
	p := cfg.Plugins[0]
	assert.Equal(t, "d", *p.Description)
	assert.Equal(t, "a", *p.Author)
	assert.Equal(t, "ns", *p.Namespace)
	assert.Equal(t, "1.0", *p.Version)
	assert.Equal(t, []string{"tool_pre_invoke", "tool_post_invoke"}, p.Hooks)
	assert.Equal(t, []string{"security"}, p.Tags)
	assert.Equal(t, ModeConcurrent, p.Mode)
	assert.Equal(t, OnErrorDisable, p.OnError)
	assert.Equal(t, 10, p.Priority)
	assert.Equal(t, 2000, p.MaxContentSize)
	assert.Equal(t, []string{"append_labels", "read_headers", "write_headers"}, p.Capabilities)
	assert.True(t, p.HasCapability(CapWriteHeaders))
	assert.False(t, p.HasCapability(CapReadAgent))
	assert.Equal(t, map[string]any{"a": int64(1), "b": []any{"x", 2.5, true, nil}, "c": map[string]any{"d": "e"}}, p.Config)
	require.NotNil(t, p.AppliedTo)
	assert.Equal(t, []ToolTemplate{{BaseTemplate: BaseTemplate{Context: []string{"c"}, Extensions: map[string]any{"k": "v"}}, ToolName: "t", Fields: []string{"f"}, Result: true}}, p.AppliedTo.Tools)
	assert.Equal(t, []PromptTemplate{{PromptName: "p"}}, p.AppliedTo.Prompts)
	assert.Equal(t, []ResourceTemplate{{ResourceURI: "file:///x"}}, p.AppliedTo.Resources)
	got, ok := cfg.Plugin("full")
	require.True(t, ok)
	assert.Equal(t, "full", got.Name)
	_, ok = cfg.Plugin("nope")
	assert.False(t, ok)
}

func TestModesAndLegacyNames(t *testing.T) {
	tests := []struct {
		name, fields string
		mode         Mode
		onError      OnError
	}{
		{"sequential", "mode: sequential", ModeSequential, OnErrorFail},
		{"transform", "mode: transform", ModeTransform, OnErrorFail},
		{"audit", "mode: audit", ModeAudit, OnErrorFail},
		{"concurrent", "mode: concurrent", ModeConcurrent, OnErrorFail},
		{"fire_and_forget", "mode: fire_and_forget", ModeFireAndForget, OnErrorFail},
		{"disabled", "mode: disabled", ModeDisabled, OnErrorFail},
		{"enforce", "mode: enforce", ModeSequential, OnErrorFail},
		{"permissive", "mode: permissive", ModeTransform, OnErrorFail},
		{"enforce_ignore_error", "mode: enforce_ignore_error", ModeSequential, OnErrorIgnore},
		{"enforce_ignore_error keeps explicit on_error", "mode: enforce_ignore_error\n    on_error: disable", ModeSequential, OnErrorDisable},
		{"explicit on_error before mode", "on_error: fail\n    mode: enforce_ignore_error", ModeSequential, OnErrorFail},
		{"on_error ignore", "on_error: ignore", ModeSequential, OnErrorIgnore},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			cfg := mustParse(t, "plugins:\n  - name: p\n    kind: k\n    "+tc.fields+"\n")
			assert.Equal(t, tc.mode, cfg.Plugins[0].Mode)
			assert.Equal(t, tc.onError, cfg.Plugins[0].OnError)
		})
	}
}

func TestEnumHelpers(t *testing.T) {
	assert.Len(t, Modes, 6)
	assert.False(t, Mode("enforce").Valid(), "legacy names are not modes")
	assert.True(t, OnErrorIgnore.Valid())
	assert.False(t, OnError("FAIL").Valid())
	assert.True(t, TransportSTDIO.Valid())
	assert.False(t, TransportType("stdio").Valid())
	assert.Len(t, Capabilities, 12)
	assert.True(t, CapAppendDelegation.Valid())
}

func TestConditions(t *testing.T) {
	cfg := mustParse(t, `
plugins:
  - name: p
    kind: k
    conditions:
      - server_ids: []
        tenant_ids: [t1, t1, t2]
        tools: [web_search]
        prompts: [pr]
        resources: [r]
        agents: [ag]
        user_patterns: [admin]
        content_types: ["Application/JSON; charset=utf-8", " TEXT/Plain ", ""]
      - {}
      - {user_patterns: [], content_types: null, tools: null}
`)
	c := cfg.Plugins[0].Conditions
	require.Len(t, c, 3)
	assert.Nil(t, c[0].ServerIDs, "an empty set dumps as None")
	assert.Equal(t, []string{"t1", "t2"}, c[0].TenantIDs)
	assert.Equal(t, []string{"web_search"}, c[0].Tools)
	assert.Equal(t, []string{"pr"}, c[0].Prompts)
	assert.Equal(t, []string{"r"}, c[0].Resources)
	assert.Equal(t, []string{"ag"}, c[0].Agents)
	assert.Equal(t, []string{"admin"}, c[0].UserPatterns)
	assert.Equal(t, []string{"application/json", "text/plain", ""}, c[0].ContentTypes)
	assert.Equal(t, PluginCondition{}, c[1])
	assert.Equal(t, []string{}, c[2].UserPatterns, "an empty list stays a list")
	assert.Nil(t, c[2].ContentTypes)
}

func TestNormalizeContentType(t *testing.T) {
	for in, want := range map[string]string{
		"Application/JSON; charset=utf-8": "application/json",
		"  text/HTML ":                    "text/html",
		";x":                              "",
		"":                                "",
	} {
		assert.Equal(t, want, NormalizeContentType(in), in)
	}
}

func TestCapabilitiesNonListBecomesEmpty(t *testing.T) {
	for _, v := range []string{"null", "read_headers", "{a: b}", "5"} {
		cfg := mustParse(t, "plugins:\n  - name: p\n    kind: k\n    capabilities: "+v+"\n")
		assert.Equal(t, []string{}, cfg.Plugins[0].Capabilities, v)
	}
}

func TestYAMLAnchorsAndMerges(t *testing.T) {
	cfg := mustParse(t, `
base: &base {kind: k, mode: audit, priority: 5}
other: &other {priority: 7, tags: [x]}
plugins:
  - <<: *base
    name: a
    priority: 1
  - <<: [*other, *base]
    name: b
  - name: c
    kind: k
    hooks: &hooks [h1]
  - name: d
    kind: k
    hooks: *hooks
`)
	require.Len(t, cfg.Plugins, 4)
	assert.Equal(t, ModeAudit, cfg.Plugins[0].Mode)
	assert.Equal(t, 1, cfg.Plugins[0].Priority, "own keys win over merged ones")
	assert.Equal(t, 7, cfg.Plugins[1].Priority, "earlier merge sources win")
	assert.Equal(t, []string{"x"}, cfg.Plugins[1].Tags)
	assert.Equal(t, []string{"h1"}, cfg.Plugins[3].Hooks)
}

func TestDuplicateKeysLastWins(t *testing.T) {
	cfg := mustParse(t, "plugins:\n  - name: p\n    kind: k\n    priority: 1\n    priority: 2\n")
	assert.Equal(t, 2, cfg.Plugins[0].Priority)
}

func TestScalarCoercion(t *testing.T) {
	tests := []struct {
		doc      string
		priority int
	}{
		{"priority: 7", 7},
		{"priority: '  8 '", 8},
		{"priority: 9.0", 9},
		{"priority: true", 1},
		{"priority: 0x10", 16},
	}
	for _, tc := range tests {
		cfg := mustParse(t, "plugins:\n  - name: p\n    kind: k\n    "+tc.doc+"\n")
		assert.Equal(t, tc.priority, cfg.Plugins[0].Priority, tc.doc)
	}
}

// TestValidationErrors checks that each error names the file, the field
// path, the line and the bad value.
func TestValidationErrors(t *testing.T) {
	tests := []struct {
		name, doc, path, value, msg string
		line                        int
	}{
		{"unknown mode", "plugins:\n  - name: pii\n    kind: k\n    mode: loud\n", "plugins[name=pii].mode", `"loud"`, "unknown mode", 4},
		{"mode case sensitive", "plugins:\n  - name: pii\n    kind: k\n    mode: SEQUENTIAL\n", "plugins[name=pii].mode", `"SEQUENTIAL"`, "unknown mode", 4},
		{"unknown on_error", "plugins:\n  - name: pii\n    kind: k\n    on_error: explode\n", "plugins[name=pii].on_error", `"explode"`, "unknown on_error", 4},
		{"null on_error", "plugins:\n  - name: pii\n    kind: k\n    on_error: null\n", "plugins[name=pii].on_error", "null", "must be a string", 4},
		{"unknown capability", "plugins:\n  - name: pii\n    kind: k\n    capabilities: [read_headers, fly]\n", "plugins[name=pii].capabilities[1]", `"fly"`, "unknown capability", 4},
		{"non-string capability", "plugins:\n  - name: pii\n    kind: k\n    capabilities: [3]\n", "plugins[name=pii].capabilities[0]", "3", "unknown capability", 4},
		{"priority not int", "plugins:\n  - name: pii\n    kind: k\n    priority: high\n", "plugins[name=pii].priority", `"high"`, "must be an integer", 4},
		{"priority fractional", "plugins:\n  - name: pii\n    kind: k\n    priority: 1.5\n", "plugins[name=pii].priority", "1.5", "must be an integer", 4},
		{"version float", "plugins:\n  - name: pii\n    kind: k\n    version: 1.0\n", "plugins[name=pii].version", "1.0", "must be a string", 4},
		{"hooks not list", "plugins:\n  - name: pii\n    kind: k\n    hooks: tool_pre_invoke\n", "plugins[name=pii].hooks", `"tool_pre_invoke"`, "must be a list", 4},
		{"hooks null", "plugins:\n  - name: pii\n    kind: k\n    hooks: null\n", "plugins[name=pii].hooks", "null", "must be a list", 4},
		{"hook entry not string", "plugins:\n  - name: pii\n    kind: k\n    hooks: [[a]]\n", "plugins[name=pii].hooks[0]", "a list", "must be a string", 4},
		{"missing name", "plugins:\n  - kind: k\n", "plugins[0].name", "", "field required", 2},
		{"missing kind", "plugins:\n  - name: x\n", "plugins[name=x].kind", "", "field required", 2},
		{"name not string", "plugins:\n  - name: 5\n    kind: k\n", "plugins[0].name", "5", "must be a string", 2},
		{"plugin not mapping", "plugins:\n  - just-a-string\n", "plugins[0]", `"just-a-string"`, "must be a mapping", 2},
		{"plugins not list", "plugins: {a: b}\n", "plugins", "a mapping", "must be a list", 1},
		{"plugin_dirs null", "plugin_dirs: null\n", "plugin_dirs", "null", "must be a list", 1},
		{"top level list", "- a\n", "", "a list", "must be a mapping", 1},
		{"condition content type", "plugins:\n  - name: pii\n    kind: k\n    conditions:\n      - tools: [a]\n      - content_types: [text/plain, 7]\n", "plugins[name=pii].conditions[1].content_types[1]", "7", "must be a string", 6},
		{"condition set is string", "plugins:\n  - name: pii\n    kind: k\n    conditions:\n      - tools: web\n", "plugins[name=pii].conditions[0].tools", `"web"`, "must be a list", 5},
		{"conditions not list", "plugins:\n  - name: pii\n    kind: k\n    conditions: {tools: [a]}\n", "plugins[name=pii].conditions", "a mapping", "must be a list", 4},
		{"condition not mapping", "plugins:\n  - name: pii\n    kind: k\n    conditions: [x]\n", "plugins[name=pii].conditions[0]", `"x"`, "must be a mapping", 4},
		{"config not mapping", "plugins:\n  - name: pii\n    kind: k\n    config: [1]\n", "plugins[name=pii].config", "a list", "must be a mapping", 4},
		{"config non-string key", "plugins:\n  - name: pii\n    kind: k\n    config: {1: a}\n", "plugins[name=pii].config", "1", "keys must be strings", 4},
		{"duplicate name", "plugins:\n  - name: pii\n    kind: k\n  - name: pii\n    kind: j\n", "plugins[1].name", `"pii"`, "duplicate plugin name, already used by plugins[0]", 4},
		{"applied_to tools not list", "plugins:\n  - name: pii\n    kind: k\n    applied_to: {tools: x}\n", "plugins[name=pii].applied_to.tools", `"x"`, "must be a list", 4},
		{"applied_to missing tool_name", "plugins:\n  - name: pii\n    kind: k\n    applied_to: {tools: [{fields: [a]}]}\n", "plugins[name=pii].applied_to.tools[0].tool_name", "", "field required", 4},
		{"applied_to result not bool", "plugins:\n  - name: pii\n    kind: k\n    applied_to: {prompts: [{prompt_name: p, result: maybe}]}\n", "plugins[name=pii].applied_to.prompts[0].result", `"maybe"`, "must be a boolean", 4},
		{"applied_to not mapping", "plugins:\n  - name: pii\n    kind: k\n    applied_to: [x]\n", "plugins[name=pii].applied_to", "a list", "must be a mapping", 4},
		{"server port", "server_settings: {port: http}\n", "server_settings.port", `"http"`, "must be an integer", 1},
		{"reconnect delay", "plugins:\n  - name: e\n    kind: external\n    unix_socket: {path: /s, reconnect_delay: soon}\n", "plugins[name=e].unix_socket.reconnect_delay", `"soon"`, "must be a number", 4},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := parse(t, tc.doc)
			issues := issuesOf(t, err)
			require.NotEmpty(t, issues)
			is := issues[0]
			assert.Equal(t, tc.path, is.Path)
			assert.Equal(t, tc.value, is.Value)
			assert.Contains(t, is.Message, tc.msg)
			assert.Equal(t, tc.line, is.Line)
			assert.Contains(t, err.Error(), "test.yaml")
			assert.Contains(t, err.Error(), tc.path)
		})
	}
}

func TestAllIssuesReported(t *testing.T) {
	_, err := parse(t, "plugins:\n  - name: a\n    kind: k\n    mode: x\n  - name: b\n    kind: k\n    on_error: y\n")
	issues := issuesOf(t, err)
	require.Len(t, issues, 2)
	assert.Contains(t, err.Error(), "2 issues")
	assert.Contains(t, err.Error(), "test.yaml:4:11: plugins[name=a].mode")
	assert.Contains(t, err.Error(), "test.yaml:7:15: plugins[name=b].on_error")
}

func TestYAMLSyntaxErrors(t *testing.T) {
	for name, doc := range map[string]string{
		"bad indentation": "plugins:\n  - name: a\n   kind: b\n",
		"two documents":   "plugins: []\n---\nplugins: []\n",
		"tab":             "plugins:\n\t- a\n",
	} {
		t.Run(name, func(t *testing.T) {
			_, err := parse(t, doc)
			require.ErrorIs(t, err, ErrInvalidConfig)
			assert.Contains(t, err.Error(), "test.yaml")
		})
	}
}

func TestIssueAndErrorFormatting(t *testing.T) {
	e := &ValidationError{Issues: []Issue{{Message: "m"}}}
	assert.Equal(t, "<config>: invalid plugin configuration: m", e.Error())
	e = &ValidationError{Source: "f", Issues: []Issue{{Path: "p", Message: "m", Value: "v"}, {Line: 2, Column: 3, Message: "n"}}}
	assert.Equal(t, "f: invalid plugin configuration: 2 issues:\n  f: p: m (got v)\n  f:2:3: n", e.Error())
	te := &TemplateError{Line: 3, Expr: "{{ x }}", Message: "bad"}
	assert.Equal(t, `<config>:3: invalid config template: bad in "{{ x }}"`, te.Error())
	assert.ErrorIs(t, te, ErrTemplate)
}

func TestDescribeLongValue(t *testing.T) {
	long := make([]byte, 100)
	for i := range long {
		long[i] = 'x'
	}
	_, err := parse(t, "plugins:\n  - name: p\n    kind: k\n    mode: "+string(long)+"\n")
	issues := issuesOf(t, err)
	assert.Len(t, issues[0].Value, 82) // 77 chars, "...", and the quotes
}

func TestAliasBombRejected(t *testing.T) {
	doc := "a: &a [x, x, x, x, x, x, x, x, x, x]\n"
	prev := "a"
	for i := 0; i < 9; i++ {
		name := string(rune('b' + i))
		doc += name + ": &" + name + " [*" + prev + ", *" + prev + ", *" + prev + ", *" + prev + ", *" + prev + ", *" + prev + ", *" + prev + ", *" + prev + ", *" + prev + ", *" + prev + "]\n"
		prev = name
	}
	doc += "plugins: [{name: p, kind: k, config: {bomb: *" + prev + "}}]\n"
	_, err := parse(t, doc)
	issues := issuesOf(t, err)
	assert.Contains(t, issues[0].Message, "too many alias expansions")
}

func TestEmptyValueDescribedAsNull(t *testing.T) {
	_, err := parse(t, "plugins:\n  - name: p\n    kind: k\n    on_error:\n")
	issues := issuesOf(t, err)
	assert.Equal(t, "null", issues[0].Value)
}
