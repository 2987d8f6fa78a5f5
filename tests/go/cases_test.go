package core_test

// Runner of the shared rule cases (tests/cases, README there) against core's Go host:
// each case's plugins become scripted Go plugins (rules_harness_test.go), the hook is
// called through Manager.InvokeHook, and the outcome is compared with the case's
// expectation for host "go". tests/py/test_cases.py runs the same files on the Python host.

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/cpex-go/cpex/core"
	"github.com/cpex-go/cpex/core/config"
)

func TestRuleCases(t *testing.T) {
	cases := loadCases(t)
	require.GreaterOrEqual(t, len(cases), 80, "the shared tables hold at least 80 cases")
	for _, c := range cases {
		t.Run(c.File+"/"+c.Name, func(t *testing.T) {
			t.Parallel()
			got := runGoCase(t, c)
			assertOutcome(t, c.expectFor("go"), got, c.RanUnordered)
		})
	}
}

// scriptConfig turns a case plugin's `do` into the scripted plugin's config.
func scriptConfig(rec string, do map[string]any) map[string]any {
	cfg := map[string]any{"rec": rec}
	for k, v := range do {
		if k == "return" {
			// A typed result has no Go counterpart: the plugin returns the value.
			cfg["replace"] = v.(map[string]any)["value"]
			continue
		}
		cfg[k] = v
	}
	return cfg
}

func runGoCase(t *testing.T, c ruleCase) map[string]any {
	recID, rec := newRecorder()
	var plugins []map[string]any
	for _, p := range c.Plugins {
		e := map[string]any{"name": p.Name, "kind": scriptKind, "hooks": p.Hooks, "config": scriptConfig(recID, p.Do)}
		if p.Mode != "" {
			e["mode"] = p.Mode
		}
		if p.Priority != nil {
			e["priority"] = *p.Priority
		}
		if p.OnError != "" {
			e["on_error"] = p.OnError
		}
		if p.Conditions != nil {
			e["conditions"] = p.Conditions
		}
		plugins = append(plugins, e)
	}
	doc, err := json.Marshal(map[string]any{"plugins": plugins})
	require.NoError(t, err)
	cfg, err := config.Parse(doc, c.File+"#"+c.Name, config.WithTemplating(false))
	require.NoError(t, err, string(doc))

	logs := &logCapture{}
	opts := []core.Option{core.WithLogger(slog.New(logs))}
	if c.Options.Timeout > 0 {
		opts = append(opts, core.WithTimeout(time.Duration(c.Options.Timeout*float64(time.Second))))
	}
	for hook, fields := range c.Options.Policies {
		opts = append(opts, core.WithHookPolicy(hook, fields...))
	}
	switch c.Options.DefaultPolicy {
	case "deny":
		opts = append(opts, core.WithDefaultPolicy(core.PolicyDeny))
	case "allow", "":
	default:
		t.Fatalf("options.default_policy: %q", c.Options.DefaultPolicy)
	}
	m, err := core.NewManager(cfg, opts...)
	require.NoError(t, err)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_ = m.Shutdown(ctx)
	})
	for _, name := range c.Options.RuntimeDisabled {
		m.SetRuntimeDisabled(name, true)
	}
	var iopts []core.InvokeOption
	if c.Options.ViolationsAsErrors {
		iopts = append(iopts, core.ViolationsAsErrors())
	}

	g := caseGlobalContext(c.Context)
	out := map[string]any{}
	var res *core.HookResult
	var table core.ContextTable
	for i := 0; i < c.Calls; i++ {
		payload := core.NewPayloadValue(generic(t, c.Payload))
		var local core.ContextTable
		if c.Options.CarryTable {
			local = table
		}
		res, table, err = m.InvokeHook(context.Background(), c.Hook, payload, g, local, iopts...)
		if res != nil && res.Background != nil {
			errs := waitBackground(t, res)
			out["background_errors"] = len(errs)
		}
	}
	if err != nil {
		out["error"] = errorOutcome(err)
		var ve *core.ViolationError
		if errors.As(err, &ve) {
			out["records"] = recordOutcome(ve.Executions)
			out["violation"] = violationOutcome(ve.Violation)
		}
	} else {
		require.NotNil(t, res)
		out["continue"] = res.ContinueProcessing
		out["violation"] = violationOutcome(res.Violation)
		out["payload"] = nil
		if res.ModifiedPayload != nil {
			out["payload"] = payloadMap(t, res.ModifiedPayload)
		}
		out["metadata"] = res.Metadata
		if res.Metadata == nil {
			out["metadata"] = map[string]any{}
		}
		out["retry"] = res.RetryDelayMs
		out["records"] = recordOutcome(res.Executions)
		switch {
		case table == nil:
			out["table"] = "none"
		case len(table) == 0:
			out["table"] = "empty"
		default:
			out["table"] = "filled"
		}
		if _, ok := out["background_errors"]; !ok {
			out["background_errors"] = 0
		}
	}
	ran, seen, seenState := []string{}, map[string]any{}, map[string]any{}
	for _, call := range rec.all() {
		if strings.Contains(call.Plugin, "#") {
			continue // "#end"/"#met" markers of the harness
		}
		ran = append(ran, call.Plugin)
		seen[call.Plugin] = call.Payload
		seenState[call.Plugin] = call.GlobalState
	}
	out["ran"], out["seen"], out["seen_state"] = ran, seen, seenState
	disabled := m.RuntimeDisabled()
	sort.Strings(disabled)
	out["disabled"] = append([]string{}, disabled...)
	out["state"] = g.State
	out["logs"] = logs.all()
	return generic(t, out).(map[string]any)
}

func caseGlobalContext(ctx map[string]any) *core.GlobalContext {
	g := &core.GlobalContext{RequestID: "req-1", State: map[string]any{}, Metadata: map[string]any{}}
	for k, v := range ctx {
		switch k {
		case "request_id":
			g.RequestID = v.(string)
		case "server_id":
			g.ServerID = v.(string)
		case "tenant_id":
			g.TenantID = v.(string)
		case "content_type":
			g.ContentType = v.(string)
		case "user":
			g.User = v
		case "state":
			g.State = v.(map[string]any)
		case "metadata":
			g.Metadata = v.(map[string]any)
		default:
			panic(fmt.Sprintf("context.%s: unknown field", k))
		}
	}
	return g
}

func errorOutcome(err error) map[string]any {
	var pe *core.PluginError
	var ve *core.ViolationError
	var se *core.PayloadSizeError
	switch {
	case errors.As(err, &ve):
		return map[string]any{"class": "PluginViolationError", "message": ve.Message}
	case errors.As(err, &pe):
		return map[string]any{"class": "PluginError", "message": pe.Message, "plugin": pe.PluginName}
	case errors.As(err, &se):
		return map[string]any{"class": "PayloadSizeError", "message": se.Message}
	}
	return map[string]any{"class": fmt.Sprintf("%T", err), "message": err.Error()}
}

func violationOutcome(v *core.Violation) any {
	if v == nil {
		return nil
	}
	return map[string]any{"plugin": v.PluginName, "code": v.Code, "reason": v.Reason, "description": v.Description}
}

// recordOutcome renders records with the case field names (README: records).
func recordOutcome(recs []core.ExecutionRecord) []any {
	out := []any{}
	for _, r := range recs {
		out = append(out, map[string]any{
			"plugin": r.PluginName, "hook": r.HookName, "mode": string(r.Mode), "status": string(r.Status),
			"requested_allow": r.RequestedAllow, "effective_allow": r.EffectiveAllow, "matched": r.Matched,
			"applied": r.Applied, "payload_modified": r.PayloadModified, "extensions_modified": r.ExtensionsModified,
			"reason": r.Reason, "error_code": r.ErrorCode,
		})
	}
	return out
}

// assertOutcome compares every expected key; maps in error, violation, payload, seen
// entries and records are compared on the keys the case names, everything else exactly.
func assertOutcome(t *testing.T, want, got map[string]any, ranUnordered bool) {
	t.Helper()
	want = generic(t, want).(map[string]any)
	for key, w := range want {
		g, ok := got[key]
		if !ok {
			t.Errorf("expect.%s: not observed on this host", key)
			continue
		}
		switch key {
		case "error", "violation", "payload":
			assertSubset(t, key, w, g)
		case "seen", "seen_state":
			wm, _ := w.(map[string]any)
			gm, _ := g.(map[string]any)
			for plugin, wp := range wm {
				assertSubset(t, key+"."+plugin, wp, gm[plugin])
			}
		case "records":
			wl, _ := w.([]any)
			gl, _ := g.([]any)
			if !assert.Len(t, gl, len(wl), "records: %v", gl) {
				continue
			}
			for i := range wl {
				assertSubset(t, fmt.Sprintf("records[%d]", i), wl[i], gl[i])
			}
		case "logs":
			assertLogs(t, w, g)
		case "ran":
			wl, gl := toStrings(w), toStrings(g)
			if ranUnordered {
				sort.Strings(wl)
				sort.Strings(gl)
			}
			assert.Equal(t, wl, gl, "ran")
		default:
			assert.Equal(t, w, g, key)
		}
	}
}

func assertSubset(t *testing.T, where string, want, got any) {
	t.Helper()
	wm, ok := want.(map[string]any)
	if !ok {
		assert.Equal(t, want, got, where)
		return
	}
	gm, ok := got.(map[string]any)
	if !assert.True(t, ok, "%s: want %v, got %v", where, want, got) {
		return
	}
	for k, v := range wm {
		gv, present := gm[k]
		if !assert.True(t, present, "%s.%s missing in %v", where, k, got) {
			continue
		}
		assert.Equal(t, v, gv, "%s.%s", where, k)
	}
}

func toStrings(v any) []string {
	out := []string{}
	for _, x := range v.([]any) {
		out = append(out, x.(string))
	}
	return out
}

// logCapture is a slog.Handler keeping every record's level and message.
type logCapture struct {
	mu    sync.Mutex
	lines []map[string]any
}

func (l *logCapture) Enabled(context.Context, slog.Level) bool { return true }
func (l *logCapture) WithAttrs([]slog.Attr) slog.Handler       { return l }
func (l *logCapture) WithGroup(string) slog.Handler            { return l }
func (l *logCapture) Handle(_ context.Context, r slog.Record) error {
	level := map[slog.Level]string{slog.LevelDebug: "debug", slog.LevelInfo: "info", slog.LevelWarn: "warning", slog.LevelError: "error"}[r.Level]
	l.mu.Lock()
	l.lines = append(l.lines, map[string]any{"level": level, "message": r.Message})
	l.mu.Unlock()
	return nil
}

func (l *logCapture) all() []map[string]any {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]map[string]any{}, l.lines...)
}

// assertLogs: every expected {level, contains} is met by some captured line.
func assertLogs(t *testing.T, want, got any) {
	t.Helper()
	lines, _ := got.([]any)
	for _, w := range want.([]any) {
		wm := w.(map[string]any)
		found := false
		for _, g := range lines {
			gm := g.(map[string]any)
			if gm["level"] == wm["level"] && strings.Contains(gm["message"].(string), wm["contains"].(string)) {
				found = true
				break
			}
		}
		assert.True(t, found, "logs: no %v line containing %q in %v", wm["level"], wm["contains"], lines)
	}
}
