package main

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/cpex-go/cpex/core/config"
)

func TestRunRefusesBadArguments(t *testing.T) {
	cfg := filepath.Join(t.TempDir(), "plugins.yaml")
	if err := os.WriteFile(cfg, []byte("plugins:\n  - {name: n, kind: builtin/noop, hooks: [tool_pre_invoke]}\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	bad := filepath.Join(t.TempDir(), "bad.yaml")
	if err := os.WriteFile(bad, []byte("plugins:\n  - {name: n, kind: builtin/no_such_plugin}\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Setenv("PLUGINS_CONFIG_PATH", "")
	cases := []struct {
		name string
		args []string
		want string
	}{
		{"no configuration", []string{}, "no configuration"},
		{"unknown transport", []string{"--config", cfg, "--transport", "carrier-pigeon"}, `--transport "carrier-pigeon": want grpc or unix`},
		{"an invalid configuration", []string{"--config", bad, "--transport", "unix"}, `unknown Go plugin kind "builtin/no_such_plugin"`},
		{"a missing configuration file is refused (not served as empty)", []string{"--config", filepath.Join(t.TempDir(), "nope.yaml")}, "nope.yaml"},
		{"unknown flag", []string{"--colour"}, "flag provided but not defined"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			assert.ErrorContains(t, run(c.args), c.want)
		})
	}
}

func TestUnixPathPrecedence(t *testing.T) {
	p := "/tmp/env.sock"
	assert.Equal(t, p, unixPath(nil, settingsWithUnixPath(&p)))
	assert.Equal(t, "/tmp/mcpgateway-plugins.sock", unixPath(nil, settingsWithUnixPath(nil)))
}

func settingsWithUnixPath(p *string) *config.Settings { return &config.Settings{UnixSocketPath: p} }
