package builtins

import (
	"errors"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/cpex-go/cpex/core"
)

type sampleNested struct {
	Pattern string `json:"pattern"`
	Flag    bool   `json:"flag"`
}

type sampleConfig struct {
	Enabled bool           `json:"enabled"`
	Count   int            `json:"count"`
	Text    string         `json:"text"`
	Words   []string       `json:"words"`
	Items   []sampleNested `json:"items"`
}

func (c *sampleConfig) Validate() error {
	if c.Count < 0 {
		return NewConfigError("count", c.Count, "must be >= 0")
	}
	return nil
}

func TestDecodeConfig(t *testing.T) {
	tests := []struct {
		name    string
		cfg     map[string]any
		want    sampleConfig
		wantErr string
	}{
		{name: "defaults kept", cfg: nil, want: sampleConfig{Count: 3, Text: "d"}},
		{name: "null keeps default", cfg: map[string]any{"count": nil}, want: sampleConfig{Count: 3, Text: "d"}},
		{name: "all keys", cfg: map[string]any{"enabled": true, "count": 7, "text": "t", "words": []any{"a", "b"},
			"items": []any{map[string]any{"pattern": "p", "flag": true}}},
			want: sampleConfig{Enabled: true, Count: 7, Text: "t", Words: []string{"a", "b"}, Items: []sampleNested{{"p", true}}}},
		{name: "unknown key", cfg: map[string]any{"colour": "red"}, wantErr: `config key "colour" (value "red"): unknown key; known keys: count, enabled, items, text, words`},
		{name: "ill typed bool", cfg: map[string]any{"enabled": "yes"}, wantErr: `config key "enabled" (value "yes"): expected a boolean, got a string`},
		{name: "ill typed int", cfg: map[string]any{"count": 1.5}, wantErr: `config key "count" (value 1.5): expected an integer, got a number 1.5`},
		{name: "ill typed list", cfg: map[string]any{"words": "a"}, wantErr: `config key "words" (value "a"): expected a list of strings, got a string`},
		{name: "unknown nested key", cfg: map[string]any{"items": []any{map[string]any{"patern": "p"}}}, wantErr: `config key "items" (value [{"patern":"p"}]): expected a list of mappings: unknown field "patern"`},
		{name: "validate", cfg: map[string]any{"count": -1}, wantErr: `config key "count" (value -1): must be >= 0`},
		{name: "first bad key in sorted order", cfg: map[string]any{"zz": 1, "aa": 2}, wantErr: `config key "aa"`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := sampleConfig{Count: 3, Text: "d"}
			err := DecodeConfig(tc.cfg, &got)
			if tc.wantErr != "" {
				require.Error(t, err)
				assert.Contains(t, err.Error(), tc.wantErr)
				assert.True(t, errors.Is(err, ErrConfig))
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tc.want, got)
		})
	}
}

func TestDecodeConfigRejectsNonStruct(t *testing.T) {
	var n int
	require.Error(t, DecodeConfig(map[string]any{}, &n))
	require.Error(t, DecodeConfig(map[string]any{}, sampleConfig{}))
}

func TestCheckHooks(t *testing.T) {
	spec := core.PluginSpec{Name: "p", Kind: "builtin/x", Hooks: []string{"tool_pre_invoke", "http_pre_request"}}
	err := CheckHooks(spec, "tool_pre_invoke", "tool_post_invoke")
	require.Error(t, err)
	assert.Contains(t, err.Error(), `hook "http_pre_request" is not supported by builtin/x`)
	assert.True(t, errors.Is(err, ErrConfig))
	spec.Hooks = []string{"tool_post_invoke"}
	assert.NoError(t, CheckHooks(spec, "tool_pre_invoke", "tool_post_invoke"))
}
