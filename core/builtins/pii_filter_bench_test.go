package builtins

import (
	"strings"
	"testing"

	"github.com/cpex-go/cpex/core"
)

// BenchmarkPIIFilter16KB: the default config (every type on, redact) over the 16 KB
// mixed tool result.
func BenchmarkPIIFilter16KB(b *testing.B) {
	p, err := core.NewPlugin(core.PluginSpec{Name: "pii", Kind: "builtin/pii_filter"})
	if err != nil {
		b.Fatal(err)
	}
	benchInvoke(b, p, "tool_post_invoke")
}

// BenchmarkPIIFilter16KBBlock: block_on_detection (scan only, no rewrite).
func BenchmarkPIIFilter16KBBlock(b *testing.B) {
	p, err := core.NewPlugin(core.PluginSpec{Name: "pii", Kind: "builtin/pii_filter", Config: map[string]any{"block_on_detection": true}})
	if err != nil {
		b.Fatal(err)
	}
	benchInvoke(b, p, "tool_post_invoke")
}

// BenchmarkPIIScanText: the scanner alone (default config) on the mixed text.
func BenchmarkPIIScanText(b *testing.B) {
	p, err := buildPIIFilter(core.PluginSpec{Name: "pii", Kind: "builtin/pii_filter"})
	if err != nil {
		b.Fatal(err)
	}
	text := mixedText16KB()
	var spans []piiSpan
	benchScan(b, text, func() { spans = p.scanner.scan(text, "", spans[:0]) })
	if len(spans) == 0 {
		b.Fatal("no findings in the mixed text")
	}
}

// BenchmarkPIIScanAdversarial: inputs built to make a naive scanner quadratic (chained
// assignments, long digit groups, '@' runs, keywords followed by long runs); the MB/s must
// stay in the range of ordinary text.
func BenchmarkPIIScanAdversarial(b *testing.B) {
	p, err := buildPIIFilter(core.PluginSpec{Name: "pii", Kind: "builtin/pii_filter"})
	if err != nil {
		b.Fatal(err)
	}
	inputs := map[string]string{
		"assignments": strings.Repeat("api_key=", 2<<10),
		"digitgroups": strings.Repeat("1-", 8<<10),
		"ats":         strings.Repeat("a.b@", 4<<10),
		"keywords":    strings.Repeat("MRN ", 4<<10),
		"colons":      strings.Repeat("1:", 8<<10),
	}
	for name, in := range inputs {
		b.Run(name, func(b *testing.B) {
			b.SetBytes(int64(len(in)))
			var spans []piiSpan
			for i := 0; i < b.N; i++ {
				spans = p.scanner.scan(in, "", spans[:0])
			}
		})
	}
}
