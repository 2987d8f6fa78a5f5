package core_test

// A hook type registered from Python arrives through pybind.HookTypeRegister; these tests
// show what core does with it (tests/py/test_register_hook.py covers the Python side).

import (
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/cpex-go/cpex/core"
	"github.com/cpex-go/cpex/pybind"
)

func customHookResult(t *testing.T, hook string) *core.HookResult {
	t.Helper()
	recID, _ := newRecorder()
	m := newManager(t, recID, []plugin{{name: "go", hooks: "[" + hook + "]", script: "set: {subject: changed}"}},
		core.WithHookPolicy(hook, "note"))
	res, _ := invoke(t, m, hook, core.NewPayloadValue(map[string]any{"subject": "s", "note": ""}), gctx("r"), nil)
	return res
}

func TestRegisteredHookTypeReachesCore(t *testing.T) {
	// Unregistered: the Go plugin's change of a non-writable field is dropped.
	assert.Nil(t, customHookResult(t, "case_go_unregistered").ModifiedPayload)

	// Registered with another result type: taken whole, as for the http hooks.
	_, err := pybind.HookTypeRegister("case_go_verdict", true)
	require.NoError(t, err)
	res := customHookResult(t, "case_go_verdict")
	require.NotNil(t, res.ModifiedPayload)
	assert.Equal(t, "changed", payloadMap(t, res.ModifiedPayload)["subject"])

	info, err := pybind.HookTypeInfo("case_go_verdict")
	require.NoError(t, err)
	assert.JSONEq(t, `{"name":"case_go_verdict","registered":true,"match_set":"","match_attr":"","decision":false,"other_result_type":true}`, info)
	assert.Contains(t, core.HookTypes(), "case_go_verdict")
}

func TestRegisteringABuiltinHookKeepsItsMatchAndDecision(t *testing.T) {
	_, err := pybind.HookTypeRegister("http_auth_check_permission", true)
	require.NoError(t, err)
	_, err = pybind.HookTypeRegister("tool_pre_invoke", false)
	require.NoError(t, err)
	for hook, want := range map[string]map[string]any{
		"http_auth_check_permission": {"decision": true, "other_result_type": true, "match_attr": ""},
		"tool_pre_invoke":            {"decision": false, "other_result_type": false, "match_attr": "name", "match_set": "tools"},
	} {
		info, err := pybind.HookTypeInfo(hook)
		require.NoError(t, err)
		var got map[string]any
		require.NoError(t, json.Unmarshal([]byte(info), &got))
		for k, v := range want {
			assert.Equal(t, v, got[k], "%s.%s", hook, k)
		}
	}
	_, err = pybind.HookTypeRegister("", false)
	assert.ErrorContains(t, err, "empty hook name")
}

// FuzzHookTypeRegister: any name from Python registers (or is refused when empty) and
// reads back as registered, without a panic.
func FuzzHookTypeRegister(f *testing.F) {
	for _, s := range []string{"", "x", "tool_pre_invoke", "cmf.tool_pre_invoke", "\xff", "a\x00b"} {
		f.Add(s, true)
	}
	f.Fuzz(func(t *testing.T, name string, other bool) {
		_, err := pybind.HookTypeRegister("fuzz/"+name, other)
		require.NoError(t, err)
		info, err := pybind.HookTypeInfo("fuzz/" + name)
		require.NoError(t, err)
		var got map[string]any
		require.NoError(t, json.Unmarshal([]byte(info), &got))
		assert.Equal(t, true, got["registered"])
		assert.Equal(t, other, got["other_result_type"])
	})
}
