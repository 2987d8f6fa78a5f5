// Package remotetest provides the plugins the transport tests serve: one per kind of
// answer (allow, block, modify, context round trip, error, slow), in a core Manager.
package remotetest

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/cpex-go/cpex/core"
	"github.com/cpex-go/cpex/core/config"
)

// Config is the server-side configuration of the test plugins (all on tool_pre_invoke).
const Config = `plugins:
  - {name: allow, kind: builtin/test_allow, hooks: [tool_pre_invoke], mode: sequential, priority: 10}
  - {name: block, kind: builtin/test_block, hooks: [tool_pre_invoke], mode: sequential}
  - {name: modify, kind: builtin/test_modify, hooks: [tool_pre_invoke], mode: transform}
  - {name: ctx, kind: builtin/test_ctx, hooks: [tool_pre_invoke], mode: sequential}
  - {name: fail, kind: builtin/test_fail, hooks: [tool_pre_invoke], mode: sequential}
  - {name: slow, kind: builtin/test_slow, hooks: [tool_pre_invoke], mode: sequential}
  - {name: echo, kind: builtin/test_echo, hooks: [tool_pre_invoke], mode: sequential}
`

type fn func(ctx context.Context, payload *core.Payload, pctx *core.PluginContext) (*core.Result, error)

func (f fn) Invoke(ctx context.Context, _ string, payload *core.Payload, pctx *core.PluginContext) (*core.Result, error) {
	return f(ctx, payload, pctx)
}

func factory(f fn) core.Factory {
	return func(core.PluginSpec) (core.Plugin, error) { return f, nil }
}

// Plugins are the test plugins' behaviours by kind.
var Plugins = map[string]fn{
	"builtin/test_allow": func(context.Context, *core.Payload, *core.PluginContext) (*core.Result, error) { return nil, nil },
	"builtin/test_block": func(context.Context, *core.Payload, *core.PluginContext) (*core.Result, error) {
		return &core.Result{Block: true, Violation: &core.Violation{Reason: "blocked", Description: "the test plugin blocks", Code: "TEST_BLOCK", Details: map[string]any{"n": 1}},
			DenialMetadata: map[string]any{"score": 3, "big": int64(1) << 62, "ratio": 0.5, "not a label": 1}}, nil
	},
	"builtin/test_modify": func(_ context.Context, p *core.Payload, _ *core.PluginContext) (*core.Result, error) {
		v, err := p.Value()
		if err != nil {
			return nil, err
		}
		out := map[string]any{}
		for k, e := range v.(map[string]any) {
			out[k] = e
		}
		out["name"] = "modified"
		return &core.Result{ModifiedPayload: out}, nil
	},
	"builtin/test_ctx": func(_ context.Context, _ *core.Payload, pctx *core.PluginContext) (*core.Result, error) {
		n, _ := pctx.StateValue("calls").(float64)
		if jn, ok := pctx.StateValue("calls").(interface{ Int64() (int64, error) }); ok {
			i, _ := jn.Int64()
			n = float64(i)
		}
		pctx.SetState("calls", n+1)
		pctx.SetGlobal("seen_by", "ctx")
		return &core.Result{Metadata: map[string]any{"request_id": pctx.RequestID, "user": pctx.User}}, nil
	},
	"builtin/test_fail": func(context.Context, *core.Payload, *core.PluginContext) (*core.Result, error) {
		return nil, errors.New("the test plugin fails")
	},
	"builtin/test_slow": func(ctx context.Context, _ *core.Payload, _ *core.PluginContext) (*core.Result, error) {
		<-ctx.Done()
		return nil, ctx.Err()
	},
	"builtin/test_echo": func(_ context.Context, p *core.Payload, _ *core.PluginContext) (*core.Result, error) {
		v, err := p.Value()
		if err != nil {
			return nil, err
		}
		return &core.Result{Metadata: map[string]any{"payload": v}}, nil
	},
}

// Manager loads Config with the test plugins.
func Manager(t testing.TB) *core.Manager {
	t.Helper()
	cfg, err := config.Parse([]byte(Config), "remotetest.yaml")
	require.NoError(t, err)
	opts := []core.Option{core.WithTimeout(30 * time.Second), core.WithLogger(nil)}
	for kind, f := range Plugins {
		opts = append(opts, core.WithFactory(kind, factory(f)))
	}
	m, err := core.NewManager(cfg, opts...)
	require.NoError(t, err)
	t.Cleanup(func() { _ = m.Shutdown(context.Background()) })
	return m
}
