package isolated

import (
	"context"
	"os"
	"path/filepath"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/cpex-go/cpex/core"
	"github.com/cpex-go/cpex/core/config"
)

func fakeConfig(name string) *config.PluginConfig {
	pc := config.NewPluginConfig(name, config.KindIsolatedVenv)
	pc.Hooks = []string{"tool_pre_invoke"}
	pc.Config = map[string]any{"class_name": "fakepkg.plugin.Fake"}
	return &pc
}

// fakeOptions start the test binary as the worker in mode.
func fakeOptions(t *testing.T, mode string, extraEnv ...string) Options {
	t.Helper()
	exe, err := os.Executable()
	require.NoError(t, err)
	return Options{
		PluginDirs: []string{t.TempDir()},
		SkipVenv:   true,
		WorkerArgv: func(string) []string { return []string{exe} },
		Env:        append([]string{"FAKE_ISOLATED_WORKER=" + mode}, extraEnv...),
	}
}

func newFake(t *testing.T, pc *config.PluginConfig, o Options) *Plugin {
	t.Helper()
	p, err := New(context.Background(), pc, o)
	require.NoError(t, err)
	t.Cleanup(func() { _ = p.Shutdown(context.Background()) })
	return p
}

func payload(v map[string]any) *core.Payload { return core.NewPayloadValue(v) }

func pluginErrOf(t *testing.T, err error) *core.PluginError {
	t.Helper()
	var pe *core.PluginError
	require.ErrorAs(t, err, &pe)
	return pe
}

func TestInvokeSendsTheTaskAndDecodesTheResult(t *testing.T) {
	p := newFake(t, fakeConfig("echo"), fakeOptions(t, "echo"))
	pctx := &core.PluginContext{RequestID: "r1", TenantID: "t", GlobalState: map[string]any{"g": "1"}, State: map[string]any{"s": "2"}}
	r, err := p.Invoke(context.Background(), "tool_pre_invoke", payload(map[string]any{"name": "tool", "args": map[string]any{"a": "b"}}), pctx)
	require.NoError(t, err)
	require.NotNil(t, r)
	assert.False(t, r.Block)
	mod := r.ModifiedPayload.(map[string]any)
	assert.Equal(t, "tool", mod["name"])
	assert.Equal(t, "tool_pre_invoke", r.Metadata["hook"])
	assert.Equal(t, "fakepkg.plugin.Fake", r.Metadata["class"])
	ctx := r.Metadata["context"].(map[string]any)
	assert.Equal(t, map[string]any{"s": "2"}, ctx["state"])
	gc := ctx["global_context"].(map[string]any)
	assert.Equal(t, "r1", gc["request_id"])
	assert.Equal(t, "t", gc["tenant_id"])
	assert.Equal(t, map[string]any{"g": "1"}, gc["state"])
	assert.ElementsMatch(t, []string{"credential", "extensions", "modified_extensions"}, keys(p.Features().Names), "an unknown feature grants nothing")
}

func keys(m map[string]bool) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}

func TestSensitiveHeadersAreStrippedBothWays(t *testing.T) {
	p := newFake(t, fakeConfig("hdr"), fakeOptions(t, "echo"))
	in := map[string]any{"name": "x", "headers": map[string]any{"Authorization": "Bearer s", "cookie": "c", "X-API-Key": "k", "Accept": "a"},
		"nested": []any{map[string]any{"request_headers": map[string]any{"SET-COOKIE": "z", "Y": "1"}}}}
	r, err := p.Invoke(context.Background(), "tool_pre_invoke", payload(in), nil)
	require.NoError(t, err)
	mod := r.ModifiedPayload.(map[string]any)
	// The fake worker echoes the payload (so what it saw) but sets its own headers.
	assert.Equal(t, map[string]any{"X-Kept": "yes"}, mod["headers"], "Set-Cookie from the worker is dropped")
	nested := mod["nested"].([]any)[0].(map[string]any)
	assert.Equal(t, map[string]any{"Y": "1"}, nested["request_headers"], "the worker never saw SET-COOKIE")
	assert.Equal(t, "Bearer s", in["headers"].(map[string]any)["Authorization"], "the caller's payload is not mutated")

	bp := newFake(t, fakeConfig("block"), fakeOptions(t, "block"))
	r, err = bp.Invoke(context.Background(), "tool_pre_invoke", payload(map[string]any{"name": "x"}), nil)
	require.NoError(t, err)
	assert.True(t, r.Block)
	assert.Equal(t, map[string]string{"Retry-After": "5"}, r.Violation.HTTPHeaders)
}

func TestStripSensitiveTable(t *testing.T) {
	cases := []struct {
		name string
		in   any
		want any
	}{
		{"not a header map", map[string]any{"Authorization": "kept"}, map[string]any{"Authorization": "kept"}},
		{"headers", map[string]any{"headers": map[string]any{"x-api-key": "k", "a": "b"}}, map[string]any{"headers": map[string]any{"a": "b"}}},
		{"response_headers", map[string]any{"http": map[string]any{"response_headers": map[string]any{"Set-Cookie": "1"}}}, map[string]any{"http": map[string]any{"response_headers": map[string]any{}}}},
		{"scalar", "x", "x"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) { assert.Equal(t, c.want, stripSensitive(c.in)) })
	}
}

func TestConcurrentCallsAreMultiplexedByID(t *testing.T) {
	p := newFake(t, fakeConfig("mux"), fakeOptions(t, "echo"))
	// "first" is answered only after "second" arrived: with one global lock per call
	// this would deadlock; multiplexed, both complete and each gets its own answer.
	var wg sync.WaitGroup
	got := make([]string, 2)
	for i, pl := range []map[string]any{{"name": "first", "wait_for": "second"}, {"name": "second"}} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r, err := p.Invoke(context.Background(), "tool_pre_invoke", payload(pl), nil)
			if assert.NoError(t, err) {
				got[i] = r.ModifiedPayload.(map[string]any)["name"].(string)
			}
		}()
	}
	wg.Wait()
	assert.Equal(t, []string{"first", "second"}, got)
	var wg2 sync.WaitGroup
	for i := 0; i < 64; i++ {
		wg2.Add(1)
		go func() {
			defer wg2.Done()
			name := "n" + string(rune('A'+i%26))
			r, err := p.Invoke(context.Background(), "tool_pre_invoke", payload(map[string]any{"name": name}), nil)
			if assert.NoError(t, err) {
				assert.Equal(t, name, r.ModifiedPayload.(map[string]any)["name"])
			}
		}()
	}
	wg2.Wait()
}

func TestHandshake(t *testing.T) {
	t.Run("an old worker has no features: fine for a plain plugin", func(t *testing.T) {
		p := newFake(t, fakeConfig("old"), fakeOptions(t, "old"))
		assert.Empty(t, p.Features().Names)
		_, err := p.Invoke(context.Background(), "tool_pre_invoke", payload(map[string]any{"name": "x"}), nil)
		require.NoError(t, err)
	})
	for _, c := range []struct {
		name, missing string
		edit          func(*config.PluginConfig)
	}{
		{"credential hook", "credential", func(pc *config.PluginConfig) { pc.Hooks = []string{"identity_resolve"} }},
		{"capabilities", "extensions", func(pc *config.PluginConfig) { pc.Capabilities = []string{"read_headers"} }},
	} {
		t.Run("an old worker fails closed for a "+c.name, func(t *testing.T) {
			pc := fakeConfig("needs")
			c.edit(pc)
			_, err := New(context.Background(), pc, fakeOptions(t, "old"))
			pe := pluginErrOf(t, err)
			assert.Equal(t, CodeFeatures, pe.Code)
			assert.Equal(t, "needs", pe.PluginName)
			assert.Contains(t, pe.Message, c.missing)
		})
	}
	t.Run("a new worker serves a credential hook", func(t *testing.T) {
		pc := fakeConfig("cred")
		pc.Hooks = []string{"identity_resolve"}
		newFake(t, pc, fakeOptions(t, "echo"))
	})
	t.Run("another protocol version is refused", func(t *testing.T) {
		_, err := New(context.Background(), fakeConfig("v2"), fakeOptions(t, "v2"))
		assert.Contains(t, pluginErrOf(t, err).Message, "protocol 2")
	})
	t.Run("a silent handshake times out", func(t *testing.T) {
		o := fakeOptions(t, "silent_handshake")
		o.CallTimeout = 200e6
		_, err := New(context.Background(), fakeConfig("mute"), o)
		pe := pluginErrOf(t, err)
		assert.Equal(t, CodeWorker, pe.Code)
		assert.Contains(t, pe.Message, "no answer in time")
	})
	t.Run("the start bound is its own: a long call timeout does not wait out a silent handshake", func(t *testing.T) {
		o := fakeOptions(t, "silent_handshake")
		// were the handshake bounded by the hour-long call timeout, the test would hang
		o.CallTimeout, o.StartTimeout = 3600e9, 200e6
		_, err := New(context.Background(), fakeConfig("mute2"), o)
		pe := pluginErrOf(t, err)
		assert.Equal(t, CodeWorker, pe.Code)
		assert.Contains(t, pe.Message, "no answer in time")
	})
}

func TestFaults(t *testing.T) {
	t.Run("silent worker: the call times out", func(t *testing.T) {
		o := fakeOptions(t, "silent")
		o.CallTimeout, o.StartTimeout = 200e6, 30e9
		p := newFake(t, fakeConfig("silent"), o)
		_, err := p.Invoke(context.Background(), "tool_pre_invoke", payload(map[string]any{"name": "x"}), nil)
		pe := pluginErrOf(t, err)
		assert.Equal(t, CodeTimeout, pe.Code)
		assert.Equal(t, "silent", pe.PluginName)
	})
	t.Run("garbage answer: skipped, and named when the call gets no answer", func(t *testing.T) {
		o := fakeOptions(t, "garbage")
		o.CallTimeout, o.StartTimeout = 200e6, 30e9
		p := newFake(t, fakeConfig("garbage"), o)
		_, err := p.Invoke(context.Background(), "tool_pre_invoke", payload(map[string]any{"name": "x"}), nil)
		pe := pluginErrOf(t, err)
		assert.Equal(t, CodeTimeout, pe.Code)
		assert.Contains(t, pe.Message, "not protocol JSON")
		assert.Contains(t, pe.Message, "this is not json")
	})
	t.Run("a plugin printing on stdout does not break the stream", func(t *testing.T) {
		p := newFake(t, fakeConfig("chatty"), fakeOptions(t, "chatty"))
		for i := 0; i < 3; i++ {
			r, err := p.Invoke(context.Background(), "tool_pre_invoke", payload(map[string]any{"name": "x"}), nil)
			require.NoError(t, err)
			assert.Equal(t, "x", r.ModifiedPayload.(map[string]any)["name"])
		}
	})
	t.Run("oversized answer", func(t *testing.T) {
		pc := fakeConfig("big")
		pc.MaxContentSize = 1024
		p := newFake(t, pc, fakeOptions(t, "oversized"))
		_, err := p.Invoke(context.Background(), "tool_pre_invoke", payload(map[string]any{"name": "x"}), nil)
		assert.Equal(t, CodeTooLarge, pluginErrOf(t, err).Code)
		// The stream stays in sync: the worker is still the first one.
		_, err = p.Invoke(context.Background(), "tool_pre_invoke", payload(map[string]any{"name": "x"}), nil)
		assert.Equal(t, CodeTooLarge, pluginErrOf(t, err).Code)
		assert.Equal(t, 0, p.Restarts())
	})
	t.Run("oversized task is not sent", func(t *testing.T) {
		pc := fakeConfig("bigtask")
		pc.MaxContentSize = 1024
		p := newFake(t, pc, fakeOptions(t, "echo"))
		big := make([]byte, 2048)
		for i := range big {
			big[i] = 'a'
		}
		_, err := p.Invoke(context.Background(), "tool_pre_invoke", payload(map[string]any{"name": string(big)}), nil)
		pe := pluginErrOf(t, err)
		assert.Equal(t, CodeTooLarge, pe.Code)
		assert.Contains(t, pe.Message, "exceeds max_content_size (1024)")
	})
	t.Run("worker error answer", func(t *testing.T) {
		p := newFake(t, fakeConfig("err"), fakeOptions(t, "error"))
		_, err := p.Invoke(context.Background(), "tool_pre_invoke", payload(map[string]any{"name": "x"}), nil)
		pe := pluginErrOf(t, err)
		assert.Equal(t, CodeRemote, pe.Code)
		assert.Equal(t, "Worker process error: Unexpected error: boom", pe.Message)
	})
	t.Run("a worker that always dies", func(t *testing.T) {
		p := newFake(t, fakeConfig("dead"), fakeOptions(t, "die"))
		_, err := p.Invoke(context.Background(), "tool_pre_invoke", payload(map[string]any{"name": "x"}), nil)
		pe := pluginErrOf(t, err)
		assert.Equal(t, CodeWorker, pe.Code)
		assert.Contains(t, pe.Message, "worker exited")
		assert.Contains(t, pe.Message, "exit status 3")
	})
	t.Run("a dead worker is restarted", func(t *testing.T) {
		marker := filepath.Join(t.TempDir(), "died")
		p := newFake(t, fakeConfig("phoenix"), fakeOptions(t, "dieonce", "FAKE_MARKER="+marker))
		r, err := p.Invoke(context.Background(), "tool_pre_invoke", payload(map[string]any{"name": "x"}), nil)
		require.NoError(t, err)
		assert.Equal(t, "x", r.ModifiedPayload.(map[string]any)["name"])
		assert.Equal(t, 1, p.Restarts())
	})
	t.Run("after shutdown", func(t *testing.T) {
		p := newFake(t, fakeConfig("closed"), fakeOptions(t, "echo"))
		require.NoError(t, p.Shutdown(context.Background()))
		_, err := p.Invoke(context.Background(), "tool_pre_invoke", payload(map[string]any{"name": "x"}), nil)
		assert.Contains(t, pluginErrOf(t, err).Message, "shut down")
	})
}

func TestConfigErrors(t *testing.T) {
	for _, c := range []struct {
		name, want string
		edit       func(*config.PluginConfig, *Options)
	}{
		{"no class", "config.class_name", func(pc *config.PluginConfig, _ *Options) { pc.Config = map[string]any{} }},
		{"bare class", "dotted", func(pc *config.PluginConfig, _ *Options) { pc.Config["class_name"] = "Fake" }},
		{"no plugin dirs", "plugin_dirs", func(_ *config.PluginConfig, o *Options) { o.PluginDirs = nil }},
		{"wrong kind", "kind", func(pc *config.PluginConfig, _ *Options) { pc.Kind = "external" }},
		{"unknown capability", `unknown capability "read_minds"`, func(pc *config.PluginConfig, _ *Options) { pc.Capabilities = []string{"read_headers", "read_minds"} }},
	} {
		t.Run(c.name, func(t *testing.T) {
			pc, o := fakeConfig("bad"), fakeOptions(t, "echo")
			c.edit(pc, &o)
			_, err := New(context.Background(), pc, o)
			pe := pluginErrOf(t, err)
			assert.Equal(t, CodeConfig, pe.Code)
			assert.Equal(t, "bad", pe.PluginName)
			assert.Contains(t, pe.Message, c.want)
		})
	}
}

func TestFactoryBuildsAPluginFromASpec(t *testing.T) {
	f := Factory(fakeOptions(t, "echo"))
	p, err := f(core.PluginSpec{Name: "viaFactory", Kind: "builtin/isolated", Hooks: []string{"tool_pre_invoke"},
		Config: map[string]any{"class_name": "fakepkg.plugin.Fake"}})
	require.NoError(t, err)
	defer p.(*Plugin).Shutdown(context.Background()) //nolint:errcheck
	r, err := p.Invoke(context.Background(), "tool_pre_invoke", payload(map[string]any{"name": "x"}), nil)
	require.NoError(t, err)
	assert.Equal(t, "fakepkg.plugin.Fake", r.Metadata["class"])
	_, err = f(core.PluginSpec{Name: "noClass", Kind: "builtin/isolated", Config: map[string]any{}})
	assert.Equal(t, CodeConfig, pluginErrOf(t, err).Code)
}

// A plugin granted capabilities is handed the extensions in its task, without the
// sensitive headers; one without capabilities gets none.
func TestExtensionsTravelToACapablePlugin(t *testing.T) {
	ext := map[string]any{"http": map[string]any{"headers": map[string]any{"Authorization": "Bearer x", "X-Trace": "t1"}},
		"security": map[string]any{"labels": []any{"pii"}}}
	pc := fakeConfig("capable")
	pc.Capabilities = []string{"read_headers"}
	p := newFake(t, pc, fakeOptions(t, "echo"))
	assert.True(t, p.ReadsExtensions())
	res, err := p.Invoke(context.Background(), "tool_pre_invoke", payload(map[string]any{"name": "x"}), &core.PluginContext{RequestID: "r", Extensions: ext})
	require.NoError(t, err)
	assert.Equal(t, map[string]any{"http": map[string]any{"headers": map[string]any{"X-Trace": "t1"}},
		"security": map[string]any{"labels": []any{"pii"}}}, res.Metadata["extensions"])
	assert.Equal(t, "Bearer x", ext["http"].(map[string]any)["headers"].(map[string]any)["Authorization"], "the host's extensions are not changed")

	plain := newFake(t, fakeConfig("plain"), fakeOptions(t, "echo"))
	assert.False(t, plain.ReadsExtensions())
	res, err = plain.Invoke(context.Background(), "tool_pre_invoke", payload(map[string]any{"name": "x"}), &core.PluginContext{RequestID: "r", Extensions: ext})
	require.NoError(t, err)
	assert.Nil(t, res.Metadata["extensions"])
}
