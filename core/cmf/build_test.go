package cmf_test

import (
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/cpex-go/cpex/core/cmf"
)

// Messages built in Go with unset collections marshal to the Python defaults, never null.
func TestMarshalDefaults(t *testing.T) {
	tests := []struct {
		name string
		msg  cmf.Message
		want string
	}{
		{"empty", cmf.Message{Role: cmf.RoleUser},
			`{"schema_version":"2.0","role":"user","content":[],"channel":null}`},
		{"tool call without arguments", cmf.Message{Role: cmf.RoleAssistant, Content: []cmf.Part{{Type: cmf.ContentToolCall, ToolCall: &cmf.ToolCall{ToolCallID: "t", Name: "n"}}}},
			`{"schema_version":"2.0","role":"assistant","content":[{"content_type":"tool_call","content":{"tool_call_id":"t","name":"n","arguments":{},"namespace":null}}],"channel":null}`},
		{"text", cmf.Message{Role: cmf.RoleUser, Content: []cmf.Part{cmf.TextPart("hi")}},
			`{"schema_version":"2.0","role":"user","content":[{"content_type":"text","text":"hi"}],"channel":null}`},
		{"prompt result", cmf.Message{Role: cmf.RoleAssistant, Content: []cmf.Part{{Type: cmf.ContentPromptResult, PromptResult: &cmf.PromptResult{PromptRequestID: "p", PromptName: "n"}}}},
			`{"schema_version":"2.0","role":"assistant","content":[{"content_type":"prompt_result","content":{"prompt_request_id":"p","prompt_name":"n","messages":[],"content":null,"is_error":false,"error_message":null}}],"channel":null}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, err := json.Marshal(tt.msg)
			require.NoError(t, err)
			assert.Equal(t, tt.want, string(out))
			_, err = cmf.Decode(out)
			require.NoError(t, err)
		})
	}
}

func TestValidationErrorNamesField(t *testing.T) {
	_, err := cmf.Decode([]byte(`{"role":"user","content":[{"content_type":"tool_call","content":{"tool_call_id":"x"}}]}`))
	require.Error(t, err)
	assert.Equal(t, `cmf.Message: field "content.0.tool_call.content.name": Field required`, err.Error())
}
