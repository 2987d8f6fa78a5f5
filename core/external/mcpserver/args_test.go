package mcpserver

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestDecodeInvokeArgs(t *testing.T) {
	for _, tc := range []struct {
		name, in   string
		code, want string // want: a part of the message; "" = accepted
		plugin     string
	}{
		{"ok", `{"hook_type":"tool_pre_invoke","plugin_name":"P","payload":{"name":"x"},"context":{"state":{}}}`, "", "", "P"},
		{"context absent", `{"hook_type":"h","plugin_name":"P","payload":{}}`, "", "", "P"},
		{"context null", `{"hook_type":"h","plugin_name":"P","payload":{},"context":null}`, "", "", "P"},
		{"extra keys ignored", `{"hook_type":"h","plugin_name":"P","payload":{},"x":1}`, "", "", "P"},
		{"not an object", `[1,2]`, CodeInvalidArguments, "want a JSON object", ""},
		{"not JSON", `{"hook_type":`, CodeInvalidArguments, "want a JSON object", ""},
		{"null", `null`, CodeInvalidArguments, "want a JSON object", ""},
		{"missing hook", `{"plugin_name":"P","payload":{}}`, CodeInvalidArguments, "hook_type: missing", "P"},
		{"empty plugin", `{"hook_type":"h","plugin_name":"","payload":{}}`, CodeInvalidArguments, `plugin_name: want a non-empty string, got ""`, ""},
		{"plugin a number", `{"hook_type":"h","plugin_name":3,"payload":{}}`, CodeInvalidArguments, "plugin_name: want a non-empty string, got 3", ""},
		{"payload a string", `{"hook_type":"h","plugin_name":"P","payload":"{}"}`, CodeInvalidArguments, `payload: want a JSON object, got "{}"`, "P"},
		{"payload missing", `{"hook_type":"h","plugin_name":"P"}`, CodeInvalidArguments, "payload: missing", "P"},
		{"context a list", `{"hook_type":"h","plugin_name":"P","payload":{},"context":[]}`, CodeInvalidArguments, "context: want a JSON object, got []", "P"},
		{"too large", `{"plugin_name":"Big","hook_type":"h","payload":{"x":"` + strings.Repeat("a", 200) + `"}}`, CodeRequestTooLarge, "exceed the server's limit of 100 bytes", "Big"},
		{"invalid UTF-8", "{\"hook_type\":\"h\",\"plugin_name\":\"P\xff\",\"payload\":{}}", CodeInvalidArguments, "not valid UTF-8", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			a, err := DecodeInvokeArgs([]byte(tc.in), 100)
			if tc.want == "" {
				require.NoError(t, err)
				assert.Equal(t, tc.plugin, a.PluginName)
				return
			}
			var ae *ArgsError
			require.ErrorAs(t, err, &ae)
			assert.Equal(t, tc.code, ae.Code)
			assert.Contains(t, ae.Msg, tc.want)
			assert.Equal(t, tc.plugin, ae.Plugin)
		})
	}
}

// FuzzDecodeInvokeArgs: any bytes a client sends as invoke_hook's arguments are either
// accepted with the promised shape or refused with an ArgsError whose reply is a valid
// error model; never a panic.
func FuzzDecodeInvokeArgs(f *testing.F) {
	for _, s := range []string{`{"hook_type":"h","plugin_name":"P","payload":{},"context":{}}`, `{}`, `[]`, `null`,
		`{"plugin_name":"P","payload":1}`, "{\"plugin_name\":\"\xff\"}", `{"hook_type":"h","plugin_name":"P","payload":{},"context":null}`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, raw []byte) {
		a, err := DecodeInvokeArgs(raw, 1<<12)
		if err != nil {
			ae, ok := err.(*ArgsError)
			require.True(t, ok)
			var m struct {
				PluginName string     `json:"plugin_name"`
				Error      ErrorModel `json:"error"`
			}
			require.NoError(t, json.Unmarshal(ErrorReply(ae.Plugin, ae.Code, ae.Msg, nil), &m))
			require.Equal(t, ae.Msg, m.Error.Message)
			return
		}
		require.NotEmpty(t, a.HookType)
		require.NotEmpty(t, a.PluginName)
		require.Equal(t, byte('{'), kind(a.Payload))
		require.True(t, a.Context == nil || kind(a.Context) == '{')
	})
}
