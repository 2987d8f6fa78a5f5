package core_test

// The typed payloads of core/hooks inside a real hook call: a Go plugin decodes its
// input with hooks.Decode and answers with hooks.Tree, under the gateway's policy.

import (
	"context"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/cpex-go/cpex/core"
	"github.com/cpex-go/cpex/core/config"
	"github.com/cpex-go/cpex/core/hooks"
)

const lowerKind = "builtin/test_goapi_lower_tool"

// lowerTool lower-cases the tool name and leaves everything else as it was.
type lowerTool struct{}

func (lowerTool) Invoke(_ context.Context, _ string, p *core.Payload, _ *core.PluginContext) (*core.Result, error) {
	in, err := hooks.Decode[hooks.ToolPreInvokePayload](p)
	if err != nil {
		return nil, err
	}
	in.Name = strings.ToLower(in.Name)
	tree, err := hooks.Tree(in)
	if err != nil {
		return nil, err
	}
	return &core.Result{ModifiedPayload: tree}, nil
}

func init() {
	core.RegisterFactory(lowerKind, func(core.PluginSpec) (core.Plugin, error) { return lowerTool{}, nil })
}

func TestTypedPayloadPluginUnderPolicy(t *testing.T) {
	cfg, err := config.Parse([]byte("plugins:\n  - {name: lower, kind: "+lowerKind+", hooks: [tool_pre_invoke]}\n"), "typed.yaml")
	require.NoError(t, err)
	in, err := hooks.ToPayload(hooks.ToolPreInvokePayload{
		Name: "Web_Search", Args: map[string]any{"limit": 10, "ratio": 0.5, "q": "go"}, Headers: hooks.HTTPHeaders{"a": "b"},
	})
	require.NoError(t, err)

	cases := []struct {
		name     string
		writable []string
		renamed  bool
	}{
		{"name writable", []string{"name", "args", "headers"}, true},
		// Unchanged numeric args must not count as a change: the rename alone is rejected.
		{"name not writable", []string{"args", "headers"}, false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			m, err := core.NewManager(cfg, core.WithHookPolicy(hooks.ToolPreInvoke, c.writable...), core.WithLogger(nil))
			require.NoError(t, err)
			defer func() { _ = m.Shutdown(context.Background()) }()
			res, _, err := m.InvokeHook(context.Background(), hooks.ToolPreInvoke, core.NewPayloadJSON(mustJSON(t, in)), gctx("r"), nil)
			require.NoError(t, err)
			require.Len(t, res.Executions, 1)
			assert.Equal(t, c.renamed, res.Executions[0].PayloadModified)
			if !c.renamed {
				assert.Nil(t, res.ModifiedPayload)
				return
			}
			out, err := hooks.Decode[hooks.ToolPreInvokePayload](res.ModifiedPayload)
			require.NoError(t, err)
			assert.Equal(t, "web_search", out.Name)
			assert.Equal(t, hooks.HTTPHeaders{"a": "b"}, out.Headers)
		})
	}
}

func mustJSON(t *testing.T, p *core.Payload) []byte {
	t.Helper()
	b, err := p.JSON()
	require.NoError(t, err)
	return b
}
