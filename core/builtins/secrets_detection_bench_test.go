package builtins

import (
	"strings"
	"testing"

	"github.com/cpex-go/cpex/core"
)

// BenchmarkSecretsDetection16KB: the gateway's config (broad detectors jwt_like and
// hex_secret_32 on, base64_24 off), report-only so every call scans the whole payload.
func BenchmarkSecretsDetection16KB(b *testing.B) {
	p, err := core.NewPlugin(core.PluginSpec{Name: "sec", Kind: "builtin/secrets_detection", Config: map[string]any{
		"enabled":            map[string]any{"jwt_like": true, "hex_secret_32": true},
		"block_on_detection": false,
	}})
	if err != nil {
		b.Fatal(err)
	}
	benchInvoke(b, p, "tool_post_invoke")
}

// BenchmarkSecretsDetection16KBAllRedact: every detector on, redacting.
func BenchmarkSecretsDetection16KBAllRedact(b *testing.B) {
	enabled := map[string]any{}
	for _, n := range secretTypeNames {
		enabled[n] = true
	}
	p, err := core.NewPlugin(core.PluginSpec{Name: "sec", Kind: "builtin/secrets_detection", Config: map[string]any{
		"enabled": enabled, "redact": true, "block_on_detection": false,
	}})
	if err != nil {
		b.Fatal(err)
	}
	benchInvoke(b, p, "tool_post_invoke")
}

// BenchmarkSecretsScanText: the scanner alone on the mixed text, with the gateway's
// detectors (jwt_like and hex_secret_32 on).
func BenchmarkSecretsScanText(b *testing.B) {
	on := secretDefaultOn
	on[secJWTLike], on[secHexSecret32] = true, true
	sc := newSecretScanner(on)
	text := mixedText16KB()
	var spans []secretSpan
	benchScan(b, text, func() { spans = sc.scan(text, "", spans[:0]) })
	if len(spans) == 0 {
		b.Fatal("no findings in the mixed text")
	}
}

// BenchmarkSecretsScanAdversarial: inputs built to make a naive scanner quadratic (long
// '=' runs after an AWS context, base64 runs cut by '/', private key headers without END
// lines); the MB/s must stay in the range of ordinary text.
func BenchmarkSecretsScanAdversarial(b *testing.B) {
	var all [numSecretTypes]bool
	for k := range all {
		all[k] = true
	}
	sc := newSecretScanner(all)
	inputs := map[string]string{
		"equals":  "aws_secret_access_key" + strings.Repeat("=", 16<<10),
		"slashes": strings.Repeat("a/", 8<<10),
		"headers": strings.Repeat("-----BEGIN RSA PRIVATE KEY-----", 512),
	}
	for name, in := range inputs {
		b.Run(name, func(b *testing.B) {
			b.SetBytes(int64(len(in)))
			var spans []secretSpan
			for i := 0; i < b.N; i++ {
				spans = sc.scan(in, "", spans[:0])
			}
		})
	}
}
