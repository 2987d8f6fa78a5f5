package mcpclient

import (
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestDecodeReply(t *testing.T) {
	cases := []struct {
		name     string
		text     string
		ok       bool
		errCode  string
		errMsg   string
		block    bool
		modified any
		state    map[string]any
	}{
		{name: "allow", text: `{"result":{"continue_processing":true}}`, ok: true},
		{name: "result defaults to allow", text: `{"result":{}}`, ok: true},
		{name: "block", text: `{"result":{"continue_processing":false,"violation":{"reason":"r","description":"d","code":"C","details":{}}}}`, ok: true, block: true},
		{name: "modified", text: `{"result":{"modified_payload":{"a":1}}}`, ok: true, modified: map[string]any{"a": json.Number("1")}},
		{name: "big integers stay exact", text: `{"result":{"modified_payload":{"n":9007199254740993}}}`, ok: true, modified: map[string]any{"n": json.Number("9007199254740993")}},
		{name: "context only", text: `{"context":{"state":{"k":"v"},"global_context":{"state":{}}}}`, ok: true, state: map[string]any{"k": "v"}},
		{name: "context and result", text: `{"context":{"state":{"k":"v"}},"result":{}}`, ok: true, state: map[string]any{"k": "v"}},
		{name: "remote error", text: `{"error":{"message":"m","plugin_name":"remote","code":"X"}}`, ok: true, errCode: "X", errMsg: "m"},
		{name: "error without message", text: `{"error":{"code":"X"}}`, ok: true, errCode: CodeInvalidResponse},
		{name: "not json", text: `<html>`, ok: true, errCode: CodeJSONDecode, errMsg: "Error trying to decode json: <html>"},
		{name: "json but not an object", text: `[1,2]`, ok: true, errCode: CodeJSONDecode},
		{name: "trailing data", text: `{"result":{}} {}`, ok: true, errCode: CodeJSONDecode},
		{name: "nothing known", text: `{"other":1}`, ok: false},
		{name: "null result", text: `{"result":null}`, ok: true, errCode: CodeInvalidResponse},
		{name: "null context", text: `{"context":null,"result":{}}`, ok: true, errCode: CodeInvalidResponse},
		{name: "violation missing code", text: `{"result":{"violation":{"reason":"r","description":"d"}}}`, ok: true, errCode: CodeInvalidResponse},
		{name: "modified payload not an object", text: `{"result":{"modified_payload":[1]}}`, ok: true, errCode: CodeInvalidResponse},
		{name: "negative retry", text: `{"result":{"retry_delay_ms":-1}}`, ok: true, errCode: CodeInvalidResponse},
		{name: "wrong type", text: `{"result":{"continue_processing":"yes"}}`, ok: true, errCode: CodeInvalidResponse},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r, ok := decodeReply("p", []byte(c.text))
			require.Equal(t, c.ok, ok)
			if c.errCode != "" {
				require.NotNil(t, r.err)
				assert.Equal(t, c.errCode, r.err.Code)
				assert.NotEmpty(t, r.err.PluginName)
				if c.errMsg != "" {
					assert.Equal(t, c.errMsg, r.err.Message)
				}
				return
			}
			require.Nil(t, r.err)
			if c.state != nil {
				require.NotNil(t, r.context)
				assert.Equal(t, c.state, r.context.State)
			}
			if r.result != nil {
				assert.Equal(t, c.block, r.result.Block)
				assert.Equal(t, c.modified, r.result.ModifiedPayload)
			}
		})
	}
}

// FuzzDecodeReply: whatever a server answers, decoding gives an error naming the plugin
// or a well-formed result, and never panics.
func FuzzDecodeReply(f *testing.F) {
	for _, s := range []string{
		`{"result":{"continue_processing":false,"violation":{"reason":"r","description":"d","code":"C","details":{"a":[1,2]}}}}`,
		`{"context":{"state":{"k":"v"},"metadata":{},"global_context":{"request_id":"r","state":{"g":1}}},"result":{"modified_payload":{"name":"x"}}}`,
		`{"error":{"message":"m","plugin_name":"p","code":"c","details":{}}}`,
		`not json`, `null`, `{}`, `{"result":null}`, `{"context":null,"error":null}`, "{\"result\":{\"metadata\":{\"\\ud800\":1}}}",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		r, ok := decodeReply("fuzzed", data)
		if !ok {
			return
		}
		if r.err != nil {
			if r.err.PluginName == "" || r.err.Message == "" {
				t.Fatalf("error without plugin or message: %+v", r.err)
			}
			return
		}
		if r.result != nil {
			if r.result.ModifiedPayload != nil {
				if _, isObj := r.result.ModifiedPayload.(map[string]any); !isObj {
					t.Fatalf("modified payload %T", r.result.ModifiedPayload)
				}
			}
			if v := r.result.Violation; v != nil && v.Details == nil {
				t.Fatal("violation without details map")
			}
		}
	})
}
