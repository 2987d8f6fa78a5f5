package remotetest

import (
	"context"
	"encoding/json"
	"errors"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/cpex-go/cpex/core"
	"github.com/cpex-go/cpex/core/external/remote"
)

// Connect returns the client plugin of the named test plugin over one transport.
type Connect func(t *testing.T, name string) core.Plugin

// Contract runs the behaviour every transport's client must show against a server of
// Config: allow, block, modify, context round trip, remote error, and the 2^53 rule.
func Contract(t *testing.T, connect Connect) {
	payload := func() *core.Payload {
		return core.NewPayloadJSON([]byte(`{"name":"t","args":{"x":1,"f":1.5,"big":9007199254740992,"s":"é","l":[true,null]}}`))
	}
	cases := []struct {
		name   string
		plugin string
		check  func(t *testing.T, res *core.Result, pctx *core.PluginContext, err error)
	}{
		{"allow", "allow", func(t *testing.T, res *core.Result, _ *core.PluginContext, err error) {
			require.NoError(t, err)
			assert.False(t, res.Block)
			assert.Nil(t, res.ModifiedPayload)
		}},
		{"block", "block", func(t *testing.T, res *core.Result, _ *core.PluginContext, err error) {
			require.NoError(t, err)
			assert.True(t, res.Block)
			require.NotNil(t, res.Violation)
			assert.Equal(t, "TEST_BLOCK", res.Violation.Code)
			assert.Equal(t, "blocked", res.Violation.Reason)
			assert.Equal(t, json.Number("1"), res.Violation.Details["n"])
			assert.Equal(t, map[string]any{"score": int64(3), "big": int64(1) << 62, "ratio": 0.5}, res.DenialMetadata,
				"denial metrics travel typed and sanitised, integers exact beyond 2^53")
		}},
		{"modify: the payload comes back whole, integers exact", "modify", func(t *testing.T, res *core.Result, _ *core.PluginContext, err error) {
			require.NoError(t, err)
			m, ok := res.ModifiedPayload.(map[string]any)
			require.True(t, ok, "%T", res.ModifiedPayload)
			assert.Equal(t, "modified", m["name"])
			args := m["args"].(map[string]any)
			assert.Equal(t, json.Number("1"), args["x"])
			assert.Equal(t, json.Number("1.5"), args["f"])
			assert.Equal(t, json.Number("9007199254740992"), args["big"], "2^53 is still exact")
			assert.Equal(t, "é", args["s"])
			assert.Equal(t, []any{true, nil}, args["l"])
		}},
		{"context round trip", "ctx", func(t *testing.T, res *core.Result, pctx *core.PluginContext, err error) {
			require.NoError(t, err)
			assert.Equal(t, json.Number("3"), pctx.State["calls"], "state 2 -> 3")
			assert.Equal(t, "ctx", pctx.GlobalState["seen_by"])
			assert.Equal(t, "keep", pctx.GlobalState["before"], "the global state comes back merged")
			assert.Equal(t, "req-1", res.Metadata["request_id"])
			assert.Equal(t, map[string]any{"id": "u1"}, res.Metadata["user"])
		}},
		{"remote error names the plugin", "fail", func(t *testing.T, _ *core.Result, _ *core.PluginContext, err error) {
			var pe *core.PluginError
			require.True(t, errors.As(err, &pe), "%v", err)
			assert.Equal(t, "fail", pe.PluginName)
			assert.Contains(t, pe.Message, "the test plugin fails")
		}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			p := connect(t, c.plugin)
			pctx := &core.PluginContext{RequestID: "req-1", User: map[string]any{"id": "u1"},
				State: map[string]any{"calls": 2}, GlobalState: map[string]any{"before": "keep"}}
			res, err := p.Invoke(context.Background(), "tool_pre_invoke", payload(), pctx)
			c.check(t, res, pctx, err)
		})
	}
	t.Run("an integer beyond 2^53 is refused, not rounded", func(t *testing.T) {
		p := connect(t, "echo")
		_, err := p.Invoke(context.Background(), "tool_pre_invoke",
			core.NewPayloadJSON([]byte(`{"name":"t","args":{"id":9007199254740993}}`)), &core.PluginContext{})
		var pe *core.PluginError
		require.True(t, errors.As(err, &pe), "%v", err)
		assert.Equal(t, "echo", pe.PluginName)
		assert.Contains(t, pe.Message, "payload.args.id")
		var re *remote.RangeError
		assert.True(t, errors.As(err, &re))
	})
}
