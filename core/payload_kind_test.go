package core_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/cpex-go/cpex/core"
)

// A Go plugin is never handed a payload that is not an object (issue 10, item 9): the
// call fails with an error naming what the caller passed, so on_error decides, and a
// guard never allows what it could not inspect.
func TestGoPluginsRefusePayloadsThatAreNotObjects(t *testing.T) {
	called := false
	allow := goFn(func(context.Context, string, *core.Payload, *core.PluginContext) (*core.Result, error) {
		called = true
		return nil, nil
	})
	for _, tc := range []struct {
		payload *core.Payload
		got     string
	}{
		{core.NewPayloadJSON([]byte(`"x"`)), "a string"},
		{core.NewPayloadJSON([]byte(` null`)), "null"},
		{core.NewPayloadJSON([]byte(`[1]`)), "a list"},
		{core.NewPayloadJSON([]byte(`12`)), "a number"},
		{core.NewPayloadJSON([]byte(`true`)), "a bool"},
		{core.NewPayloadValue("x"), "a string"},
		{core.NewPayloadValue(nil), "null"},
		{core.NewPayloadValue([]any{}), "a list"},
		{core.NewPayloadValue(1.5), "a number"},
	} {
		called = false
		_, err := core.CallPlugin(context.Background(), allow, "tool_pre_invoke", tc.payload, &core.PluginContext{}, 0)
		var kindErr *core.PayloadKindError
		require.ErrorAs(t, err, &kindErr, tc.got)
		assert.Equal(t, tc.got, kindErr.Got)
		assert.EqualError(t, err, "Go plugin cannot read its payload: want an object, got "+tc.got)
		assert.False(t, called, "the plugin is not called")
	}
	_, err := core.CallPlugin(context.Background(), allow, "tool_pre_invoke", core.NewPayloadJSON([]byte(` {"name":"t"}`)), &core.PluginContext{}, 0)
	require.NoError(t, err)
	assert.True(t, called)
	assert.EqualError(t, &core.PayloadKindError{Plugin: "deny", Got: "null"}, "Go plugin deny cannot read its payload: want an object, got null")
}
