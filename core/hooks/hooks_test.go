package hooks_test

import (
	"encoding/json"
	"errors"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/cpex-go/cpex/core"
	"github.com/cpex-go/cpex/core/hooks"
)

func TestBuiltinNames(t *testing.T) {
	names := hooks.Builtin()
	require.Len(t, names, 12)
	assert.Equal(t, hooks.HTTPPreRequest, names[0])
	assert.Equal(t, hooks.ToolPostInvoke, names[11])
	seen := map[string]bool{}
	for _, n := range names {
		assert.False(t, seen[n], "duplicate %s", n)
		seen[n] = true
		assert.True(t, hooks.IsBuiltin(n))
		v, ok := hooks.NewPayload(n)
		assert.True(t, ok)
		assert.NotNil(t, v)
	}
	names[0] = "mutated"
	assert.Equal(t, hooks.HTTPPreRequest, hooks.Builtin()[0], "Builtin returns a copy")
	assert.False(t, hooks.IsBuiltin("cmf.tool_pre_invoke"))
	_, ok := hooks.NewPayload("my_custom_hook")
	assert.False(t, ok)
}

func TestDecodeErrorsNameModelAndField(t *testing.T) {
	cases := []struct {
		hook, input, want string
	}{
		{hooks.ToolPreInvoke, `{}`, `ToolPreInvokePayload: field "name": required field is missing or null`},
		{hooks.ToolPreInvoke, `{"name": 3}`, `ToolPreInvokePayload: field "name": expected a string, got JSON number`},
		{hooks.ToolPreInvoke, `{"name": "t", "args": [1]}`, `ToolPreInvokePayload: field "args": expected an object, got JSON array`},
		{hooks.ToolPostInvoke, `{"name": "t"}`, `ToolPostInvokePayload: field "result": required field is missing or null`},
		{hooks.PromptPreFetch, `{"prompt_id": "p", "args": {"a": 1}}`, `PromptPrehookPayload: field "args": expected a string, got JSON number`},
		{hooks.AgentPreInvoke, `{"agent_id": "a", "messages": null}`, `AgentPreInvokePayload: field "messages": required field is missing or null`},
		{hooks.HTTPPreRequest, `{"path": "/", "method": "GET"}`, `HttpPreRequestPayload: field "headers": required field is missing or null`},
		{hooks.HTTPAuthCheckPermission, `{"user_email": "a"}`, `HttpAuthCheckPermissionPayload: field "permission": required field is missing or null`},
		{hooks.HTTPAuthCheckPermission, `{"user_email": "a", "permission": "p", "is_admin": "maybe"}`, `HttpAuthCheckPermissionPayload: field "is_admin": expected a boolean, got JSON string "maybe"`},
		{hooks.HTTPAuthCheckPermission, `{"user_email": "a", "permission": "p", "is_admin": null}`, `HttpAuthCheckPermissionPayload: field "is_admin": expected a boolean, got JSON null`},
		{hooks.HTTPPreRequest, `{"path": "/", "method": "GET", "headers": {}, "client_port": "0x10"}`, `HttpPreRequestPayload: field "client_port": expected an integer, got JSON string "0x10"`},
		{hooks.HTTPAuthResolveUser, `{"headers": {}, "client_port": [1]}`, `HttpAuthResolveUserPayload: field "client_port": expected an integer, got JSON array [1]`},
		{hooks.HTTPPostRequest, `{"path": "/", "method": "GET", "headers": {}, "status_code": 2.5}`, `HttpPostRequestPayload: field "status_code": expected an integer, got JSON number 2.5`},
		{hooks.ResourcePostFetch, `[1]`, `ResourcePostFetchPayload: expected an object, got JSON array`},
		{hooks.ResourcePreFetch, `{"uri": `, `ResourcePreFetchPayload: unexpected EOF`},
		{"custom_hook", `[1]`, `payload: expected an object, got JSON array`},
		{"custom_hook", `null`, `payload: must be a JSON object, got null`},
		{"custom_hook", `{} {}`, `payload: unexpected data after the JSON document`},
	}
	for _, c := range cases {
		t.Run(c.hook+" "+c.input, func(t *testing.T) {
			_, err := hooks.DecodeHook(c.hook, []byte(c.input))
			require.Error(t, err)
			assert.Contains(t, err.Error(), c.want)
			assert.True(t, errors.Is(err, hooks.ErrInvalidPayload))
		})
	}
}

func TestDefaultsAndNulls(t *testing.T) {
	tp, err := hooks.DecodeHook(hooks.ToolPreInvoke, []byte(`{"name":"t"}`))
	require.NoError(t, err)
	assert.Equal(t, map[string]any{}, tp.(*hooks.ToolPreInvokePayload).Args, "absent args default to {}")

	tp, err = hooks.DecodeHook(hooks.ToolPreInvoke, []byte(`{"name":"t","args":null}`))
	require.NoError(t, err)
	assert.Nil(t, tp.(*hooks.ToolPreInvokePayload).Args, "explicit null stays None")

	post, err := hooks.DecodeHook(hooks.ToolPostInvoke, []byte(`{"name":"t","result":null}`))
	require.NoError(t, err)
	assert.Nil(t, post.(*hooks.ToolPostInvokePayload).Result, "a required Any may be null")
}

func TestRequiredContainersMarshalEmpty(t *testing.T) {
	cases := []struct {
		v    any
		want string
	}{
		{hooks.HTTPPreRequestPayload{Path: "/", Method: "GET"}, `{"path":"/","method":"GET","client_host":null,"client_port":null,"headers":{}}`},
		{hooks.HTTPPostRequestPayload{Path: "/", Method: "GET"}, `{"path":"/","method":"GET","client_host":null,"client_port":null,"headers":{},"response_headers":null,"status_code":null}`},
		{hooks.HTTPAuthResolveUserPayload{}, `{"credentials":null,"headers":{},"client_host":null,"client_port":null}`},
		{hooks.AgentPreInvokePayload{AgentID: "a"}, `{"agent_id":"a","messages":[],"tools":null,"headers":null,"model":null,"system_prompt":null,"parameters":null}`},
		{hooks.AgentPostInvokePayload{AgentID: "a"}, `{"agent_id":"a","messages":[],"tool_calls":null}`},
		{hooks.PromptResult{}, `{"messages":[],"description":null}`},
		{hooks.ToolResult{}, `{"content":[],"isError":null,"structuredContent":null,"_meta":null}`},
		{hooks.HTTPAuthCheckPermissionResultPayload{Granted: true}, `{"granted":true,"reason":null}`},
		{hooks.Object{"a": "<&>"}, `{"a":"<&>"}`},
	}
	for _, c := range cases {
		got, err := hooks.Marshal(c.v)
		require.NoError(t, err)
		assert.Equal(t, c.want, string(got))
	}
	_, err := hooks.Marshal(hooks.Object{"f": func() {}})
	assert.ErrorIs(t, err, hooks.ErrInvalidPayload)
}

func TestGatewayNestedTypes(t *testing.T) {
	post := hooks.ToolPostInvokePayload{Name: "t", Result: map[string]any{
		"content":           []any{map[string]any{"type": "text", "text": "hi", "_meta": nil}},
		"isError":           true,
		"structuredContent": map[string]any{"status_code": json.Number("502")},
		"_meta":             nil,
	}}
	tr, err := post.ToolResult()
	require.NoError(t, err)
	require.Len(t, tr.Content, 1)
	assert.Equal(t, "text", tr.Content[0].Type())
	text, ok := tr.Content[0].Text()
	assert.True(t, ok)
	assert.Equal(t, "hi", text)
	require.NotNil(t, tr.IsError)
	assert.True(t, *tr.IsError)
	assert.Equal(t, json.Number("502"), tr.StructuredContent["status_code"])

	_, err = hooks.ToolPostInvokePayload{Name: "t", Result: "text"}.ToolResult()
	assert.ErrorIs(t, err, hooks.ErrInvalidPayload)

	pp := hooks.PromptPosthookPayload{PromptID: "p", Result: hooks.PromptResult{
		Messages: []hooks.Message{{Role: hooks.RoleUser, Content: hooks.TextContent("hello")}},
	}}
	pr, err := pp.PromptResult()
	require.NoError(t, err)
	require.Len(t, pr.Messages, 1)
	assert.Equal(t, hooks.RoleUser, pr.Messages[0].Role)
	assert.Equal(t, "text", pr.Messages[0].Content.Type())
	_, ok = hooks.ContentBlock{"type": "image"}.Text()
	assert.False(t, ok)
	assert.Equal(t, "", hooks.ContentBlock{}.Type())

	rp := hooks.ResourcePostFetchPayload{URI: "u", Content: map[string]any{"type": "resource", "id": "1", "uri": "u", "text": "x"}}
	rc, err := rp.ResourceContent()
	require.NoError(t, err)
	assert.Equal(t, "1", rc.ID)
	require.NotNil(t, rc.Text)
	assert.Equal(t, "x", *rc.Text)
	assert.Nil(t, rc.Blob)

	for _, bad := range []map[string]any{
		{"id": "1", "uri": "u"},
		{"type": "text", "id": "1", "uri": "u"},
		{"type": "resource", "uri": "u"},
		{"type": "resource", "id": "1"},
	} {
		_, err := hooks.ResourcePostFetchPayload{URI: "u", Content: bad}.ResourceContent()
		assert.ErrorIs(t, err, hooks.ErrInvalidPayload, "%v", bad)
	}
}

func TestDecodeGenericAndCorePayload(t *testing.T) {
	p, err := hooks.ToPayload(hooks.ToolPreInvokePayload{Name: "search", Args: map[string]any{"q": "go"}})
	require.NoError(t, err)
	assert.Equal(t, "search", p.Field("name"))

	tp, err := hooks.Decode[hooks.ToolPreInvokePayload](p)
	require.NoError(t, err)
	assert.Equal(t, "search", tp.Name)
	assert.Equal(t, "go", tp.Args["q"])

	// A payload built from a decoded tree (what the executor may hold) decodes too.
	tree := core.NewPayloadValue(map[string]any{"prompt_id": "p", "args": map[string]any{"a": "b"}})
	pre, err := hooks.Decode[hooks.PromptPrehookPayload](tree)
	require.NoError(t, err)
	assert.Equal(t, map[string]string{"a": "b"}, pre.Args)

	_, err = hooks.Decode[hooks.ToolPreInvokePayload](nil)
	assert.ErrorIs(t, err, hooks.ErrInvalidPayload)
	_, err = hooks.Decode[hooks.ToolPreInvokePayload](core.NewPayloadJSON([]byte(`{"args":{}}`)))
	assert.ErrorIs(t, err, hooks.ErrInvalidPayload)
	_, err = hooks.Decode[hooks.Object](core.NewPayloadValue(map[string]any{"f": func() {}}))
	assert.ErrorIs(t, err, hooks.ErrInvalidPayload)

	obj, err := hooks.DecodeHook("my_hook", []byte(`{"n": 12345678901234567890}`))
	require.NoError(t, err)
	assert.Equal(t, json.Number("12345678901234567890"), obj.(hooks.Object)["n"], "numbers keep their text")
}

// TestEveryRequiredFieldIsChecked removes each required field of a valid
// document in turn (and replaces the document by a non-object): every variant
// must be rejected, naming the field.
func TestEveryRequiredFieldIsChecked(t *testing.T) {
	valid := map[string]string{
		hooks.ToolPreInvoke:           `{"name":"t"}`,
		hooks.ToolPostInvoke:          `{"name":"t","result":1}`,
		hooks.PromptPreFetch:          `{"prompt_id":"p"}`,
		hooks.PromptPostFetch:         `{"prompt_id":"p","result":1}`,
		hooks.ResourcePreFetch:        `{"uri":"u"}`,
		hooks.ResourcePostFetch:       `{"uri":"u","content":1}`,
		hooks.AgentPreInvoke:          `{"agent_id":"a","messages":[]}`,
		hooks.AgentPostInvoke:         `{"agent_id":"a","messages":[]}`,
		hooks.HTTPPreRequest:          `{"path":"/","method":"GET","headers":{}}`,
		hooks.HTTPPostRequest:         `{"path":"/","method":"GET","headers":{}}`,
		hooks.HTTPAuthResolveUser:     `{"headers":{}}`,
		hooks.HTTPAuthCheckPermission: `{"user_email":"e","permission":"p"}`,
	}
	require.Len(t, valid, len(hooks.Builtin()))
	for hook, doc := range valid {
		var fields map[string]json.RawMessage
		require.NoError(t, json.Unmarshal([]byte(doc), &fields))
		_, err := hooks.DecodeHook(hook, []byte(doc))
		require.NoError(t, err, hook)
		_, err = hooks.DecodeHook(hook, []byte(`[1]`))
		assert.ErrorIs(t, err, hooks.ErrInvalidPayload, hook)
		for name := range fields {
			without := map[string]json.RawMessage{}
			for k, v := range fields {
				if k != name {
					without[k] = v
				}
			}
			b, _ := json.Marshal(without)
			_, err := hooks.DecodeHook(hook, b)
			require.Error(t, err, "%s without %s", hook, name)
			assert.Contains(t, err.Error(), `field "`+name+`"`)
		}
	}
}

func TestPermissionResultPayload(t *testing.T) {
	var r hooks.HTTPAuthCheckPermissionResultPayload
	require.NoError(t, json.Unmarshal([]byte(`{"granted":true,"reason":"admin"}`), &r))
	assert.True(t, r.Granted)
	require.NotNil(t, r.Reason)
	assert.Equal(t, "admin", *r.Reason)
	assert.ErrorIs(t, json.Unmarshal([]byte(`{"reason":"x"}`), &r), hooks.ErrInvalidPayload)
	assert.ErrorIs(t, json.Unmarshal([]byte(`{"granted":"maybe"}`), &r), hooks.ErrInvalidPayload)
	assert.ErrorIs(t, json.Unmarshal([]byte(`{"granted":null}`), &r), hooks.ErrInvalidPayload)
	require.NoError(t, json.Unmarshal([]byte(`{"granted":"Yes"}`), &r))
	assert.True(t, r.Granted)
}

func TestTree(t *testing.T) {
	tree, err := hooks.Tree(hooks.ResourcePreFetchPayload{URI: "u", Metadata: map[string]any{"n": json.Number("3")}})
	require.NoError(t, err)
	assert.Equal(t, map[string]any{"uri": "u", "metadata": map[string]any{"n": float64(3)}}, tree)
	_, err = hooks.Tree([]int{1})
	assert.ErrorIs(t, err, hooks.ErrInvalidPayload)
	_, err = hooks.Tree(nil)
	assert.ErrorIs(t, err, hooks.ErrInvalidPayload)
	_, err = hooks.Tree(hooks.Object{"f": func() {}})
	assert.ErrorIs(t, err, hooks.ErrInvalidPayload)
}

func TestGatewayPolicies(t *testing.T) {
	pol := hooks.GatewayPolicies()
	require.Len(t, pol, 12)
	for _, h := range hooks.Builtin() {
		p, ok := pol[h]
		require.True(t, ok, h)
		// Every writable field is a field of the hook's payload (except the cross-type
		// "reason" of the permission decision, which the gateway lists on purpose).
		v, _ := hooks.NewPayload(h)
		b, err := hooks.Marshal(v)
		require.NoError(t, err)
		var fields map[string]any
		require.NoError(t, json.Unmarshal(b, &fields))
		for _, f := range p.WritableFields {
			if h == hooks.HTTPAuthCheckPermission && f == "reason" {
				continue
			}
			assert.Contains(t, fields, f, "%s.%s", h, f)
		}
	}
	assert.Equal(t, []string{"result"}, pol[hooks.ToolPostInvoke].WritableFields)
	assert.Empty(t, pol[hooks.HTTPAuthResolveUser].WritableFields)
	pol[hooks.ToolPreInvoke].WritableFields[0] = "mutated"
	assert.Equal(t, "name", hooks.GatewayPolicies()[hooks.ToolPreInvoke].WritableFields[0], "fresh copies")
}
