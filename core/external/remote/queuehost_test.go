package remote

import (
	"context"
	"encoding/json"
	"math"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"google.golang.org/protobuf/types/known/structpb"

	"github.com/cpex-go/cpex/core/external/callq"
	"github.com/cpex-go/cpex/proto/cpexpb"
)

func TestReplyToProto(t *testing.T) {
	for _, tc := range []struct {
		name, reply string
		check       func(t *testing.T, r *cpexpb.InvokeHookResponse)
	}{
		{"a result keeps its fields and moves denial metrics into result_base, typed and sanitised",
			`{"plugin_name":"P","result":{"continue_processing":false,"violation":{"reason":"r","description":"d","code":"C","details":{}},
			  "metadata":{"n":5},"denial_metadata":{"score":3,"ratio":0.5,"flag":true,"big":4611686018427387904,
			  "not a label":1,"text":"no","huge":1e400,"nested":{}}}}`,
			func(t *testing.T, r *cpexpb.InvokeHookResponse) {
				assert.Nil(t, r.GetError())
				_, has := r.GetResult().GetFields()["denial_metadata"]
				assert.False(t, has, "denial metrics leave the Struct (a double would round the integers)")
				assert.Equal(t, "C", r.GetResult().GetFields()["violation"].GetStructValue().GetFields()["code"].GetStringValue())
				assert.Equal(t, map[string]any{"score": int64(3), "ratio": 0.5, "flag": true, "big": int64(1) << 62},
					DenialFromProto(r.GetResultBase().GetDenialMetadata()))
			}},
		{"no denial metrics, no result_base", `{"plugin_name":"P","result":{"continue_processing":true,"denial_metadata":null}}`,
			func(t *testing.T, r *cpexpb.InvokeHookResponse) {
				assert.Nil(t, r.GetResultBase())
				assert.True(t, r.GetResult().GetFields()["continue_processing"].GetBoolValue())
			}},
		{"the context goes back with user and ids", `{"plugin_name":"P","result":{},"context":{"state":{"s":1},"metadata":{},
			"global_context":{"request_id":"r","user":{"id":"u"},"tenant_id":null,"server_id":"srv","state":{"g":"x"},"metadata":{}}}}`,
			func(t *testing.T, r *cpexpb.InvokeHookResponse) {
				gc := r.GetContext().GetGlobalContext()
				assert.Equal(t, "r", gc.GetRequestId())
				assert.Equal(t, "srv", gc.GetServerId())
				assert.Equal(t, "", gc.GetTenantId())
				assert.Equal(t, "u", gc.GetUserStruct().GetFields()["id"].GetStringValue())
				assert.Equal(t, "x", gc.GetState().GetFields()["g"].GetStringValue())
			}},
		{"an error model", `{"plugin_name":"P","error":{"message":"boom","plugin_name":"Q","code":"X","details":{"k":1},"mcp_error_code":-32000}}`,
			func(t *testing.T, r *cpexpb.InvokeHookResponse) {
				e := r.GetError()
				assert.Equal(t, "boom", e.GetMessage())
				assert.Equal(t, "Q", e.GetPluginName())
				assert.Equal(t, int32(-32000), e.GetMcpErrorCode())
				assert.Nil(t, r.GetResult())
			}},
		{"not JSON", `{"plugin_name"`, func(t *testing.T, r *cpexpb.InvokeHookResponse) {
			assert.Equal(t, CodeInvalidResponse, r.GetError().GetCode())
			assert.Contains(t, r.GetError().GetMessage(), "plugin P: the host's reply is not invoke_hook's reply")
		}},
		{"neither result nor error", `{"plugin_name":"P"}`, func(t *testing.T, r *cpexpb.InvokeHookResponse) {
			assert.Contains(t, r.GetError().GetMessage(), "neither result nor error")
		}},
		{"an integer a Struct cannot carry exactly is refused, not rounded", `{"plugin_name":"P","result":{"metadata":{"id":9007199254740993}}}`,
			func(t *testing.T, r *cpexpb.InvokeHookResponse) {
				assert.Equal(t, CodeEncode, r.GetError().GetCode())
				assert.Contains(t, r.GetError().GetMessage(), "result.metadata.id")
			}},
		{"a user that is neither string nor object", `{"plugin_name":"P","result":{},"context":{"global_context":{"user":5}}}`,
			func(t *testing.T, r *cpexpb.InvokeHookResponse) {
				assert.Contains(t, r.GetError().GetMessage(), "context.global_context.user")
			}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := ReplyToProto("P", json.RawMessage(tc.reply))
			assert.Equal(t, "P", r.GetPluginName())
			tc.check(t, r)
		})
	}
}

func TestSanitizeDenialDropsAnOversizedMapWhole(t *testing.T) {
	m := map[string]any{}
	for i := range maxDenialMetrics + 1 {
		m[string(rune('a'+i))] = true
	}
	assert.Empty(t, SanitizeDenial(m))
	assert.Equal(t, map[string]any{"x": 1.5}, SanitizeDenial(map[string]any{"x": 1.5, "nan": math.NaN(), "inf": math.Inf(1)}))
}

// The queue host turns a protobuf request into upstream's JSON call and the host's
// answer back into protobuf; an unknown plugin's config is not found.
func TestQueueHostRoundTrip(t *testing.T) {
	q, err := callq.NewQueue([]json.RawMessage{json.RawMessage(`{"name":"PyGuard","priority":5}`)}, nil)
	require.NoError(t, err)
	h := &QueueHost{Q: q}
	c, err := h.PluginConfig("pyguard")
	require.NoError(t, err)
	assert.True(t, c.GetFound())
	assert.Equal(t, float64(5), c.GetConfig().GetFields()["priority"].GetNumberValue())
	c, err = h.PluginConfig("nobody")
	require.NoError(t, err)
	assert.False(t, c.GetFound())
	all, err := h.PluginConfigs()
	require.NoError(t, err)
	assert.Len(t, all.GetConfigs(), 1)

	payload, _ := structpb.NewStruct(map[string]any{"name": "t", "args": map[string]any{"n": 5}})
	req := &cpexpb.InvokeHookRequest{HookType: "tool_pre_invoke", PluginName: "PyGuard", Payload: payload,
		Context: &cpexpb.PluginContext{GlobalContext: &cpexpb.GlobalContext{RequestId: "r1",
			UserValue: &cpexpb.GlobalContext_UserString{UserString: "alice"}}}}
	done := make(chan *cpexpb.InvokeHookResponse, 1)
	go func() { done <- h.Invoke(context.Background(), req) }()
	var taken []callq.Taken
	for len(taken) == 0 {
		taken, _ = q.Take(0)
	}
	assert.JSONEq(t, `{"name":"t","args":{"n":5}}`, string(taken[0].Payload))
	assert.JSONEq(t, `{"state":{},"metadata":{},"global_context":{"request_id":"r1","server_id":null,"tenant_id":null,
		"user":"alice","metadata":{},"state":{}}}`, string(taken[0].Context))
	q.Answer(taken[0].ID, json.RawMessage(`{"plugin_name":"PyGuard","result":{"continue_processing":true}}`))
	r := <-done
	assert.Nil(t, r.GetError())
	assert.True(t, r.GetResult().GetFields()["continue_processing"].GetBoolValue())

	r = h.Invoke(context.Background(), &cpexpb.InvokeHookRequest{PluginName: "PyGuard"})
	assert.Equal(t, callq.CodeInvalidArguments, r.GetError().GetCode(), "a request without a hook is refused before the queue")
}

// FuzzReplyToProto: whatever a host answers becomes a response with either a result or
// an error that names the plugin; never a panic.
func FuzzReplyToProto(f *testing.F) {
	for _, s := range []string{`{"plugin_name":"P","result":{"continue_processing":true,"denial_metadata":{"a":1}}}`,
		`{"plugin_name":"P","error":{"message":"m"}}`, `{"result":{},"context":{"global_context":{"user":{"a":[1,2]}}}}`,
		`null`, `[]`, `{"result":{"denial_metadata":[1]}}`, `{"result":{"denial_metadata":{"x":1e999}}}`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, raw []byte) {
		r := ReplyToProto("P", raw)
		require.Equal(t, "P", r.GetPluginName())
		if r.GetError() != nil {
			require.NotEmpty(t, r.GetError().GetMessage())
			require.NotEmpty(t, r.GetError().GetPluginName())
		} else {
			require.NotNil(t, r.GetResult())
		}
	})
}

func TestDenialMetadataInJSONResultsAndProtoResults(t *testing.T) {
	res, err := DecodeResult([]byte(`{"continue_processing":false,"denial_metadata":{"n":9007199254740993,"r":0.25,"bad key":1,"s":"x"}}`))
	require.NoError(t, err)
	assert.Equal(t, map[string]any{"n": int64(9007199254740993), "r": 0.25}, res.DenialMetadata, "MCP's JSON: exact and sanitised")

	_, base, err := ResultToProto("P", res)
	require.NoError(t, err)
	assert.Equal(t, res.DenialMetadata, DenialFromProto(base.GetDenialMetadata()), "a Go server sends them typed")
	resp := &cpexpb.InvokeHookResponse{Result: &structpb.Struct{Fields: map[string]*structpb.Value{}}, ResultBase: base}
	back, err := ApplyResponse("P", resp, nil)
	require.NoError(t, err)
	assert.Equal(t, res.DenialMetadata, back.DenialMetadata, "a Go client reads them")
}
