package config_test

import (
	"fmt"

	"github.com/cpex-go/cpex/core/config"
)

func Example() {
	doc := `
plugin_settings: {plugin_timeout: 120}   # ignored: settings come from PLUGINS_*
plugins:
  - name: pii
    kind: plugins.pii.PIIFilterPlugin
    mode: enforce                         # legacy name for sequential
    hooks: [tool_pre_invoke]
    priority: 10
    config:
      redis_url: '{{ env.REDIS_URL | default("redis://redis:6379/0") }}'
`
	cfg, err := config.Parse([]byte(doc), "plugins/config.yaml", config.WithEnv(map[string]string{}))
	if err != nil {
		fmt.Println(err)
		return
	}
	p := cfg.Plugins[0]
	fmt.Println(p.Name, p.Mode, p.OnError, p.Priority, p.Config["redis_url"])

	_, err = config.Parse([]byte("plugins: [{name: pii, kind: k, mode: loud}]"), "bad.yaml")
	fmt.Println(err)
	// Output:
	// pii sequential fail 10 redis://redis:6379/0
	// bad.yaml:1:38: invalid plugin configuration: plugins[name=pii].mode: unknown mode, want one of fire_and_forget, concurrent, sequential, transform, audit, disabled (legacy: enforce, enforce_ignore_error, permissive) (got "loud")
}
