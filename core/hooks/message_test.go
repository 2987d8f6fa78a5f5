package hooks_test

import (
	"encoding/json"
	"errors"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/cpex-go/cpex/core/cmf"
	"github.com/cpex-go/cpex/core/hooks"
)

func TestMessagePayloadDecode(t *testing.T) {
	tests := []struct {
		name, in, wantErr string
		wantHook          string
	}{
		{name: "default location", in: `{"message":{"role":"user"}}`, wantHook: "evaluate"},
		{name: "explicit location", in: `{"message":{"role":"user"},"hook":"llm_output"}`, wantHook: "llm_output"},
		{name: "missing message", in: `{"hook":"llm_input"}`, wantErr: `MessagePayload: field "message": required field is missing or null`},
		{name: "bad location", in: `{"message":{"role":"user"},"hook":"cmf.llm_input"}`, wantErr: `MessagePayload: field "hook": "cmf.llm_input" is not one of`},
		{name: "bad message", in: `{"message":{"role":"robot"}}`, wantErr: `MessagePayload: field "message": cmf.Message: field "role": Input should be`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var p hooks.MessagePayload
			err := json.Unmarshal([]byte(tt.in), &p)
			if tt.wantErr != "" {
				require.Error(t, err)
				assert.True(t, errors.Is(err, hooks.ErrInvalidPayload))
				assert.Contains(t, err.Error(), tt.wantErr)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tt.wantHook, p.Hook)
			assert.Equal(t, cmf.RoleUser, p.Message.Role)
		})
	}
}

func TestMessagePayloadMarshal(t *testing.T) {
	out, err := hooks.Marshal(hooks.MessagePayload{Message: cmf.Message{Role: cmf.RoleUser, Content: []cmf.Part{cmf.TextPart("a<b")}}})
	require.NoError(t, err)
	assert.Equal(t, `{"message":{"schema_version":"2.0","role":"user","content":[{"content_type":"text","text":"a<b"}],"channel":null},"hook":"evaluate"}`, string(out))
}
