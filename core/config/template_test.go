package config

import (
	"errors"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestRender(t *testing.T) {
	vars := map[string]string{"A": `a&<b>"'`, "E": "", "N": "5", "REDIS_URL": "redis://r:1/0"}
	lookup := func(k string) (string, bool) { v, ok := vars[k]; return v, ok }
	tests := []struct{ in, want string }{
		{"plain text", "plain text"},
		{"{{ env.N }}", "5"},
		{"{{env.N}}", "5"},
		{"{{ env['N'] }}", "5"},
		{`{{ env["N"] }}`, "5"},
		{"{{ env.A }}", "a&amp;&lt;b&gt;&#34;&#39;"},
		{"{{ env.MISSING }}", ""},
		{"{{ env.MISSING | default('x') }}", "x"},
		{"{{ env.MISSING|default(\"x\") }}", "x"},
		{"{{ env.MISSING | d('y') }}", "y"},
		{"{{ env.MISSING | default }}", ""},
		{"{{ env.E | default('x') }}", ""},
		{"{{ env.E | default('x', true) }}", "x"},
		{"{{ env.N | default('x', true) }}", "5"},
		{"{{ env.MISSING | default(5) }}", "5"},
		{"{{ env.MISSING | default(-1) }}", "-1"},
		{"{{ env.MISSING | default(1.5) }}", "1.5"},
		{"{{ env.MISSING | default(2.0) }}", "2.0"},
		{"{{ env.MISSING | default(1e20) }}", "1e+20"},
		{"{{ env.MISSING | default(0.00001) }}", "1e-05"},
		{"{{ env.MISSING | default(true) }}", "True"},
		{"{{ env.MISSING | default(False) }}", "False"},
		{"{{ env.MISSING | default(none) }}", "None"},
		{"{{ env.MISSING | default('a&b') }}", "a&amp;b"},
		{"{{ env.MISSING | default('it\\'s') }}", "it&#39;s"},
		{"{{ env.MISSING | default('x}}y') }}", "x}}y"},
		{"{{ env.M | default(env.N | default('x')) }}", "5"},
		{"{{ env.RATELIMITER_REDIS_URL | default(env.REDIS_URL | default(\"redis://redis:6379/0\")) }}", "redis://r:1/0"},
		{"{{ env.X | default(env.Y | default(\"redis://redis:6379/0\")) }}", "redis://redis:6379/0"},
		{"{{ env.X | default(env.A) }}", "a&amp;&lt;b&gt;&#34;&#39;"},
		{"{{ (env.N) }}", "5"},
		{"{{ 'lit' }}", "lit"},
		{"{{event}} and {{ plugin_name }}", " and "},
		{"{{ event | default('e') }}", "e"},
		{"a {# comment #} b", "a  b"},
		{"a   {{- env.N -}}   b", "a5b"},
		{"a\n  {{- env.N }}", "a5"},
		{"line\r\nnext\rlast\n", "line\nnext\nlast"},
		{"url: '{{ env.N }}'\nx: 1\n", "url: '5'\nx: 1"},
		{"{ single } braces", "{ single } braces"},
		{"", ""},
	}
	for _, tc := range tests {
		t.Run(tc.in, func(t *testing.T) {
			got, err := Render(tc.in, "f.yaml", lookup)
			require.NoError(t, err)
			assert.Equal(t, tc.want, got)
		})
	}
}

func TestRenderErrors(t *testing.T) {
	tests := []struct {
		in   string
		line int
		msg  string
	}{
		{"a\n{% if x %}y{% endif %}", 2, "statements"},
		{"a\nb\n{{ env.A", 3, "unterminated {{"},
		{"{# open", 1, "unterminated {#"},
		{"{{ }}", 1, "empty expression"},
		{"x: {{ env.A | upper }}", 1, `filter "upper" is not supported`},
		{"{{ env }}", 1, "env must be indexed"},
		{"{{ env.A.b }}", 1, "attribute access"},
		{"{{ env[A] }}", 1, "quoted variable name"},
		{"{{ env['A' }}", 1, `expected "]"`},
		{"{{ env.5 }}", 1, "variable name"},
		{"{{ event.x }}", 1, `"event" is undefined`},
		{"{{ 'unterminated }}", 1, "unterminated"},
		{"{{ a b }}", 1, `unexpected "b"`},
		{"{{ ) }}", 1, `unexpected ")"`},
		{"{{ 1 + 2 }}", 1, "unsupported character"},
		{"{{ 1.2.3 }}", 1, "invalid number"},
		{"{{ x | default('a' }}", 1, `expected ")"`},
		{"{{ x | default(1, ) }}", 1, "unexpected"},
		{"{{ x | default( }}", 1, "unexpected end"},
		{"{{ (((((((((((((((((((((((((((((((((((1))))))))))))))))))))))))))))))))))) }}", 1, "nested too deeply"},
		{"{{ x | ", 1, "unterminated"},
		{"{{ env.A }}\n{{ env.B }}\nz {{ q | upper }}", 3, "not supported"},
	}
	for _, tc := range tests {
		t.Run(tc.in, func(t *testing.T) {
			_, err := Render(tc.in, "f.yaml", nil)
			require.Error(t, err)
			require.ErrorIs(t, err, ErrTemplate)
			var te *TemplateError
			require.True(t, errors.As(err, &te))
			assert.Equal(t, tc.line, te.Line)
			assert.Equal(t, "f.yaml", te.Source)
			assert.Contains(t, te.Message, tc.msg)
			assert.Contains(t, err.Error(), "f.yaml:")
		})
	}
}

func TestParseRendersTemplates(t *testing.T) {
	doc := "plugins:\n  - name: '{{ env.NAME | default(\"dflt\") }}'\n    kind: k\n    config: {url: '{{ env.U }}'}\n"
	cfg, err := Parse([]byte(doc), "t.yaml", WithEnv(map[string]string{"U": "http://x?a=1&b=2"}))
	require.NoError(t, err)
	assert.Equal(t, "dflt", cfg.Plugins[0].Name)
	assert.Equal(t, "http://x?a=1&amp;b=2", cfg.Plugins[0].Config["url"], "autoescape quirk")

	cfg, err = Parse([]byte(doc), "t.yaml", WithEnvLookup(func(k string) (string, bool) { return "v-" + k, true }))
	require.NoError(t, err)
	assert.Equal(t, "v-NAME", cfg.Plugins[0].Name)

	t.Setenv("CPEX_CONFIG_TEST_NAME", "from-os")
	cfg, err = Parse([]byte("plugins: [{name: '{{ env.CPEX_CONFIG_TEST_NAME }}', kind: k}]"), "t.yaml", WithEnvLookup(nil))
	require.NoError(t, err)
	assert.Equal(t, "from-os", cfg.Plugins[0].Name)

	// With templating off the text is taken literally.
	cfg, err = Parse([]byte(doc), "t.yaml", WithTemplating(false))
	require.NoError(t, err)
	assert.Equal(t, `{{ env.NAME | default("dflt") }}`, cfg.Plugins[0].Name)

	_, err = Parse([]byte("a: {% x %}"), "t.yaml")
	assert.ErrorIs(t, err, ErrTemplate)
}
