package builtins_test

import (
	"fmt"
	"strings"

	"github.com/cpex-go/cpex/core/builtins"
)

// A guard rewrites string leaves without touching the shared input tree.
func ExampleRewriteStrings() {
	in := map[string]any{"q": "hello world", "n": 3.0, "tags": []any{"keep", "world"}}
	out, changed := builtins.RewriteStrings(in, func(path []string, s string) (string, bool) {
		if strings.Contains(s, "world") {
			return strings.ReplaceAll(s, "world", "there"), true
		}
		return s, false
	})
	fmt.Println(changed, out.(map[string]any)["q"], out.(map[string]any)["tags"])
	fmt.Println(in["q"], in["tags"])
	// Output:
	// true hello there [keep there]
	// hello world [keep world]
}

// ScanFields names the payload attributes with content for each hook.
func ExampleScanFields() {
	fmt.Println(builtins.ScanFields("tool_pre_invoke"), builtins.ScanFields("resource_post_fetch"))
	// Output: [args] [content]
}

type exampleConfig struct {
	Words []string `json:"words"`
	Limit int      `json:"limit"`
}

// DecodeConfig rejects unknown and ill-typed keys with an error naming the key.
func ExampleDecodeConfig() {
	cfg := exampleConfig{Limit: 10}
	err := builtins.DecodeConfig(map[string]any{"words": []any{"a"}, "limt": 5}, &cfg)
	fmt.Println(err)
	err = builtins.DecodeConfig(map[string]any{"limit": "five"}, &cfg)
	fmt.Println(err)
	// Output:
	// config key "limt" (value 5): unknown key; known keys: limit, words
	// config key "limit" (value "five"): expected an integer, got a string
}
