package hooks_test

import (
	"context"
	"fmt"
	"strings"

	"github.com/cpex-go/cpex/core"
	"github.com/cpex-go/cpex/core/hooks"
)

// A typed payload becomes the *core.Payload a hook call carries, and a plugin
// reads it back typed.
func ExampleToPayload() {
	p, err := hooks.ToPayload(hooks.ToolPreInvokePayload{
		Name: "web_search",
		Args: map[string]any{"query": "gopher"},
	})
	if err != nil {
		panic(err)
	}
	text, _ := p.JSON()
	fmt.Println(string(text))

	back, err := hooks.Decode[hooks.ToolPreInvokePayload](p)
	if err != nil {
		panic(err)
	}
	fmt.Println(back.Name, back.Args["query"])
	// Output:
	// {"name":"web_search","args":{"query":"gopher"},"headers":null}
	// web_search gopher
}

// Absent optional fields take upstream's defaults; required ones are checked.
func ExampleDecodeHook() {
	v, err := hooks.DecodeHook(hooks.HTTPAuthCheckPermission, []byte(`{"user_email":"ada@example.com","permission":"tools.read"}`))
	if err != nil {
		panic(err)
	}
	out, _ := hooks.Marshal(v)
	fmt.Println(string(out))

	_, err = hooks.DecodeHook(hooks.HTTPPreRequest, []byte(`{"path":"/","method":"GET"}`))
	fmt.Println(err)
	// Output:
	// {"user_email":"ada@example.com","permission":"tools.read","resource_type":null,"team_id":null,"is_admin":false,"auth_method":null,"client_host":null,"user_agent":null}
	// HttpPreRequestPayload: field "headers": required field is missing or null
}

// Custom hook types take the raw path: the payload is its JSON object.
func ExampleDecodeHook_custom() {
	v, err := hooks.DecodeHook("billing_check", []byte(`{"account":"acme","cents":1999}`))
	if err != nil {
		panic(err)
	}
	obj := v.(hooks.Object)
	fmt.Println(obj["account"], obj["cents"])
	// Output: acme 1999
}

// A tool_post_invoke plugin reads the gateway's ToolResult and answers with a
// modified copy.
func ExampleToolPostInvokePayload_ToolResult() {
	in := core.NewPayloadJSON([]byte(`{"name":"echo","result":{"content":[{"type":"text","text":"secret 123"}],"isError":false,"structuredContent":null,"_meta":null}}`))
	post, err := hooks.Decode[hooks.ToolPostInvokePayload](in)
	if err != nil {
		panic(err)
	}
	tr, err := post.ToolResult()
	if err != nil {
		panic(err)
	}
	text, _ := tr.Content[0].Text()
	fmt.Println(tr.Content[0].Type(), text)

	tr.Content[0] = hooks.TextContent("[redacted]")
	post.Result = tr
	out, _ := hooks.Marshal(post)
	fmt.Println(string(out))
	// Output:
	// text secret 123
	// {"name":"echo","result":{"content":[{"text":"[redacted]","type":"text"}],"isError":false,"structuredContent":null,"_meta":null}}
}

// A Go plugin reads its input typed and returns the changed payload as a tree.
func ExampleTree() {
	in, _ := hooks.ToPayload(hooks.ToolPreInvokePayload{Name: "Web_Search", Args: map[string]any{"limit": 10}})

	p, err := hooks.Decode[hooks.ToolPreInvokePayload](in)
	if err != nil {
		panic(err)
	}
	p.Name = strings.ToLower(p.Name)
	tree, err := hooks.Tree(p)
	if err != nil {
		panic(err)
	}
	res := &core.Result{ModifiedPayload: tree}
	fmt.Println(res.ModifiedPayload.(map[string]any)["name"], tree["args"])
	// Output: web_search map[limit:10]
}

// A Go service installs the gateway's payload policies on its manager.
func ExampleGatewayPolicies() {
	m, err := core.NewManager(nil, core.WithHookPolicies(hooks.GatewayPolicies()))
	if err != nil {
		panic(err)
	}
	defer m.Shutdown(context.Background())
	fmt.Println(hooks.GatewayPolicies()[hooks.ResourcePreFetch].WritableFields)
	// Output: [uri metadata]
}
