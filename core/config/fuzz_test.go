package config

import (
	"errors"
	"testing"
)

// FuzzParse feeds arbitrary documents to the loader: it must never panic,
// and every failure must be one of the package's sentinel errors.
func FuzzParse(f *testing.F) {
	seeds := []string{
		"",
		"plugins:\n  - name: p\n    kind: k\n    mode: enforce_ignore_error\n",
		"plugins: [{name: e, kind: external, mcp: {proto: STDIO, cmd: [a]}}]",
		"plugins: [{name: e, kind: external, grpc: {target: 'h:1', tls: {verify: no}}}]",
		"a: &a {b: *a}\n",
		"plugins: [{<<: {kind: k}, name: x, conditions: [{tools: [a], content_types: ['A/B;c']}]}]",
		"server_settings: {port: '8000', tls: {ssl_cert_reqs: 1}}\n",
		"plugins: [{name: '{{ env.X | default(\"y\") }}', kind: k}]",
		"{{ env.A",
		"- [",
	}
	for _, s := range seeds {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, doc string) {
		cfg, err := Parse([]byte(doc), "fuzz.yaml", WithEnv(map[string]string{"X": "1"}), WithFileChecks(false))
		if err != nil {
			if !errors.Is(err, ErrInvalidConfig) && !errors.Is(err, ErrTemplate) {
				t.Fatalf("error without sentinel: %v", err)
			}
			if err.Error() == "" {
				t.Fatal("empty error message")
			}
			return
		}
		if cfg == nil {
			t.Fatal("nil config without error")
		}
	})
}

// FuzzRender checks that the template renderer never panics and reports
// failures as *TemplateError.
func FuzzRender(f *testing.F) {
	for _, s := range []string{
		"{{ env.A }}", "{{ env['A'] | default('x') }}",
		"{{ env.A | default(env.B | default(\"x\", true)) }}", "{#c#}{{- 1.5e3 -}}", "{% x %}", "{{ 'a\\'b' }}",
		"{{ (((1))) }}", "{{", "}}{{}}",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, text string) {
		_, err := Render(text, "fuzz", func(k string) (string, bool) { return "<" + k + ">", k == "A" })
		if err != nil {
			var te *TemplateError
			if !errors.As(err, &te) || !errors.Is(err, ErrTemplate) {
				t.Fatalf("unexpected error type %T: %v", err, err)
			}
		}
	})
}
