package core_test

// Goldens of tests/cases/settings and tests/cases/hooktypes (written from the Python side
// by tests/py/test_goldens.py, compared there with upstream cpex 0.1.4) against core.

import (
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/cpex-go/cpex/core"
	"github.com/cpex-go/cpex/core/config"
	"github.com/cpex-go/cpex/core/hooks"
)

func readGolden(t *testing.T, path string, into any) {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(casesDir, path))
	require.NoError(t, err)
	require.NoError(t, json.Unmarshal(b, into))
}

// settingsByName renders Settings with the Python field names: the env var of each
// field without PLUGINS_, lower-cased (PLUGINS_PLUGIN_TIMEOUT → plugin_timeout).
func settingsByName(t *testing.T, s config.Settings) map[string]any {
	t.Helper()
	out := map[string]any{}
	v, ty := reflect.ValueOf(s), reflect.TypeOf(s)
	for i := 0; i < ty.NumField(); i++ {
		env := ty.Field(i).Tag.Get("envconfig")
		require.NotEmpty(t, env, ty.Field(i).Name)
		out[strings.ToLower(strings.TrimPrefix(env, "PLUGINS_"))] = v.Field(i).Interface()
	}
	return generic(t, out).(map[string]any)
}

func TestSettingsGolden(t *testing.T) {
	var doc struct {
		Cases []struct {
			Name     string            `json:"name"`
			Env      map[string]string `json:"env"`
			Settings map[string]any    `json:"settings"`
			Error    bool              `json:"error"`
		} `json:"cases"`
	}
	readGolden(t, "settings/settings.json", &doc)
	require.NotEmpty(t, doc.Cases)
	for _, c := range doc.Cases {
		t.Run(c.Name, func(t *testing.T) {
			got, err := config.LoadSettingsFrom(func(k string) (string, bool) { v, ok := c.Env[k]; return v, ok })
			if c.Error {
				require.Error(t, err)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, c.Settings, settingsByName(t, got))
		})
	}
}

func TestHookTypesGolden(t *testing.T) {
	var doc struct {
		Hooks []struct {
			Hook      string  `json:"hook"`
			Payload   string  `json:"payload"`
			MatchAttr *string `json:"match_attr"`
		} `json:"hooks"`
	}
	readGolden(t, "hooktypes/hooktypes.json", &doc)
	var names []string
	for _, h := range doc.Hooks {
		names = append(names, h.Hook)
		model, ok := hooks.PayloadModelName(h.Hook)
		assert.True(t, ok, h.Hook)
		assert.Equal(t, h.Payload, model, h.Hook)
		ht, ok := core.LookupHookType(h.Hook)
		require.True(t, ok, h.Hook)
		want := ""
		if h.MatchAttr != nil {
			want = *h.MatchAttr
		}
		assert.Equal(t, want, ht.MatchAttr, h.Hook)
	}
	assert.Equal(t, names, hooks.Builtin(), "names in upstream registration order")
}
