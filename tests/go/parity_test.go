package config_test

// Both drivers over one executor: the same plugin behaviours, run by the Go driver
// (Manager.InvokeHook) and by a foreign driver speaking the stepwise protocol through
// the pybind functions (the role python/cpex/framework/_driver.py plays), must give the
// same result: continue, payload, violation, metadata, retry delay, records, errors and
// runtime-disabled set. The foreign driver runs each case twice: with every plugin
// foreign (reported outcomes) and with every plugin a Go plugin run inside core during
// go steps.

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"reflect"
	"sort"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/cpex-go/cpex/core"
	"github.com/cpex-go/cpex/core/config"
	"github.com/cpex-go/cpex/pybind"
)

const parityKind = "builtin/test_core_parity"

func init() { core.RegisterFactory(parityKind, newParityPlugin) }

// behaviour is what one plugin does, on either side.
type behaviour struct {
	Set       map[string]any // modified payload = input with these fields replaced
	Block     bool
	Violation *core.Violation
	Metadata  map[string]any
	Retry     int
	Fail      string // "error", "perror", "vexc", "timeout"
}

var behaviours = map[string]behaviour{} // by "case/plugin", filled before managers are built

type parityPlugin struct{ b behaviour }

func newParityPlugin(spec core.PluginSpec) (core.Plugin, error) {
	key, _ := spec.Config["key"].(string)
	b, ok := behaviours[key]
	if !ok {
		return nil, fmt.Errorf("config.key: unknown behaviour %q", key)
	}
	return &parityPlugin{b: b}, nil
}

func (p *parityPlugin) Invoke(ctx context.Context, _ string, in *core.Payload, _ *core.PluginContext) (*core.Result, error) {
	b := p.b
	switch b.Fail {
	case "error":
		return nil, errors.New("boom")
	case "perror":
		return nil, &core.PluginError{Message: "plugin said no"}
	case "vexc":
		return nil, &core.ViolationError{Message: "raised", Violation: b.Violation}
	case "timeout":
		<-ctx.Done()
		return nil, ctx.Err()
	}
	res := &core.Result{Block: b.Block, Violation: b.Violation, Metadata: b.Metadata, RetryDelayMs: b.Retry}
	if b.Set != nil {
		v, err := in.Value()
		if err != nil {
			return nil, err
		}
		out := map[string]any{}
		for k, x := range v.(map[string]any) {
			out[k] = x
		}
		for k, x := range b.Set {
			out[k] = x
		}
		res.ModifiedPayload = out
	}
	return res, nil
}

type parPlugin struct {
	name, mode, onError string
	priority            int
	conds               string // YAML flow list, e.g. [{tools: [x]}]
	b                   behaviour
}

type parityCase struct {
	name     string
	hook     string
	plugins  []parPlugin
	policy   []string // writable fields; nil = no policy
	deny     bool
	vexc     bool
	payload  map[string]any
	disabled []string // runtime-disabled before the call
}

// outcome is what either driver produced, normalised for comparison.
type parityOutcome struct {
	Err        string
	Cont       bool
	Payload    map[string]any
	Violation  string // plugin/code/reason
	Metadata   map[string]any
	Retry      int
	Records    []string
	Disabled   []string
	FAF        []string
	Background int
}

var parityCaseSeq atomic.Int64

func parityCases() []parityCase {
	viol := &core.Violation{Reason: "bad", Description: "very bad", Code: "BAD"}
	tool := map[string]any{"name": "search", "args": map[string]any{"q": "x"}}
	return []parityCase{
		{name: "all allow", hook: "tool_pre_invoke", payload: tool, plugins: []parPlugin{
			{name: "a", mode: "sequential"}, {name: "b", mode: "transform"}, {name: "c", mode: "audit"}}},
		{name: "chain across phases", hook: "tool_pre_invoke", payload: tool, plugins: []parPlugin{
			{name: "s1", mode: "sequential", priority: 5, b: behaviour{Set: map[string]any{"args": map[string]any{"q": "s1"}}, Metadata: map[string]any{"k": "s1"}, Retry: 5}},
			{name: "s2", mode: "sequential", priority: 5, b: behaviour{Metadata: map[string]any{"k": "s2", "_decision_plugin": "forged"}, Retry: 3}},
			{name: "t", mode: "transform", priority: 1, b: behaviour{Set: map[string]any{"name": "t"}}},
			{name: "au", mode: "audit", b: behaviour{Set: map[string]any{"name": "audit"}, Metadata: map[string]any{"audit": true}}},
			{name: "f", mode: "fire_and_forget"}}},
		{name: "sequential halt", hook: "tool_pre_invoke", payload: tool, plugins: []parPlugin{
			{name: "mod", priority: 1, b: behaviour{Set: map[string]any{"name": "m"}, Retry: 7}},
			{name: "blk", priority: 2, b: behaviour{Block: true, Violation: viol, Set: map[string]any{"name": "dropped"}}},
			{name: "never", priority: 3},
			{name: "f", mode: "fire_and_forget"}}},
		{name: "halt without violation", hook: "tool_pre_invoke", payload: tool, plugins: []parPlugin{{name: "blk", b: behaviour{Block: true}}}},
		{name: "transform block suppressed", hook: "tool_pre_invoke", payload: tool, plugins: []parPlugin{
			{name: "t", mode: "transform", b: behaviour{Block: true, Violation: viol, Set: map[string]any{"name": "kept"}, Retry: 9}},
			{name: "a", mode: "audit", b: behaviour{Block: true}}}},
		{name: "concurrent halt", hook: "tool_pre_invoke", payload: tool, plugins: []parPlugin{
			{name: "s", b: behaviour{Set: map[string]any{"name": "s"}}},
			{name: "c", mode: "concurrent", b: behaviour{Block: true, Violation: viol, Metadata: map[string]any{"c": 1}}},
			{name: "f", mode: "fire_and_forget"}}},
		{name: "concurrent allow", hook: "tool_pre_invoke", payload: tool, plugins: []parPlugin{
			{name: "c1", mode: "concurrent", b: behaviour{Retry: 4, Set: map[string]any{"name": "ignored"}}},
			{name: "c2", mode: "concurrent", b: behaviour{Violation: viol}}}},
		{name: "violations as errors", hook: "tool_pre_invoke", payload: tool, vexc: true, plugins: []parPlugin{
			{name: "ok", priority: 1}, {name: "blk", priority: 2, b: behaviour{Block: true, Violation: viol}}, {name: "f", mode: "fire_and_forget"}}},
		{name: "violations as errors without violation", hook: "tool_pre_invoke", payload: tool, vexc: true, plugins: []parPlugin{{name: "blk", b: behaviour{Block: true}}}},
		{name: "raised violation ignores on_error", hook: "tool_pre_invoke", payload: tool, plugins: []parPlugin{{name: "r", onError: "ignore", b: behaviour{Fail: "vexc", Violation: viol}}}},
		{name: "error fail", hook: "tool_pre_invoke", payload: tool, plugins: []parPlugin{{name: "e", b: behaviour{Fail: "error"}}}},
		{name: "plugin error fail", hook: "tool_pre_invoke", payload: tool, plugins: []parPlugin{{name: "e", b: behaviour{Fail: "perror"}}}},
		{name: "error ignore and disable", hook: "tool_pre_invoke", payload: tool, plugins: []parPlugin{
			{name: "ig", onError: "ignore", priority: 1, b: behaviour{Fail: "error"}},
			{name: "dis", onError: "disable", priority: 2, b: behaviour{Fail: "perror"}},
			{name: "after", priority: 3, b: behaviour{Set: map[string]any{"name": "after"}}}}},
		{name: "timeouts", hook: "tool_pre_invoke", payload: tool, plugins: []parPlugin{
			{name: "ts", onError: "ignore", priority: 1, b: behaviour{Fail: "timeout"}},
			{name: "tt", mode: "transform", onError: "disable", b: behaviour{Fail: "timeout"}},
			{name: "tc", mode: "concurrent", onError: "ignore", b: behaviour{Fail: "timeout"}}}},
		{name: "timeout fail", hook: "tool_pre_invoke", payload: tool, plugins: []parPlugin{{name: "t", b: behaviour{Fail: "timeout"}}}},
		{name: "runtime disabled skipped", hook: "tool_pre_invoke", payload: tool, disabled: []string{"off"}, plugins: []parPlugin{
			{name: "off", b: behaviour{Block: true}}, {name: "on"}}},
		{name: "conditions", hook: "tool_pre_invoke", payload: tool, plugins: []parPlugin{
			{name: "other-tool", conds: "[{tools: [other]}]", b: behaviour{Block: true}},
			{name: "this-tool", conds: "[{tools: [search]}, {tools: [x]}]", b: behaviour{Metadata: map[string]any{"ran": true}}},
			{name: "server", conds: "[{server_ids: [srv]}]", b: behaviour{Block: true}}}},
		{name: "policy keeps writable fields", hook: "tool_pre_invoke", payload: tool, policy: []string{"args"}, plugins: []parPlugin{
			{name: "p1", priority: 1, b: behaviour{Set: map[string]any{"name": "no", "args": map[string]any{"q": "yes"}}}},
			{name: "p2", priority: 2, b: behaviour{Set: map[string]any{"name": "no"}}}}},
		{name: "default deny", hook: "tool_pre_invoke", payload: tool, deny: true, plugins: []parPlugin{{name: "p", b: behaviour{Set: map[string]any{"name": "no"}}}}},
		{name: "decision plugin", hook: "http_auth_check_permission", payload: map[string]any{"user_email": "a@b", "permission": "p"}, plugins: []parPlugin{
			{name: "grant", priority: 1, b: behaviour{Set: map[string]any{"granted": true}}},
			{name: "meta", priority: 2, b: behaviour{Metadata: map[string]any{"_decision_plugin": "forged", "x": 1}}}}},
	}
}

func (c *parityCase) yaml(prefix string) string {
	var b strings.Builder
	b.WriteString("plugins:\n")
	for _, p := range c.plugins {
		mode, onErr, prio := p.mode, p.onError, p.priority
		if mode == "" {
			mode = "sequential"
		}
		if onErr == "" {
			onErr = "fail"
		}
		if prio == 0 {
			prio = 100
		}
		fmt.Fprintf(&b, "  - {name: %s, kind: %s, hooks: [%s], mode: %s, on_error: %s, priority: %d, config: {key: %q}", p.name, parityKind, c.hook, mode, onErr, prio, prefix+p.name)
		if p.conds != "" {
			fmt.Fprintf(&b, ", conditions: %s", p.conds)
		}
		b.WriteString("}\n")
	}
	return b.String()
}

const parityTimeout = 50 * time.Millisecond

func runGoDriver(t *testing.T, c parityCase, cfg *config.Config) parityOutcome {
	opts := []core.Option{core.WithTimeout(parityTimeout), core.WithLogger(slog.New(slog.NewTextHandler(io.Discard, nil)))}
	if c.policy != nil {
		opts = append(opts, core.WithHookPolicy(c.hook, c.policy...))
	}
	if c.deny {
		opts = append(opts, core.WithDefaultPolicy(core.PolicyDeny))
	}
	m, err := core.NewManager(cfg, opts...)
	require.NoError(t, err)
	defer func() { _ = m.Shutdown(context.Background()) }()
	for _, name := range c.disabled {
		m.SetRuntimeDisabled(name, true)
	}
	var opt []core.InvokeOption
	if c.vexc {
		opt = append(opt, core.ViolationsAsErrors())
	}
	g := &core.GlobalContext{RequestID: "r1", ServerID: "other"}
	res, _, err := m.InvokeHook(context.Background(), c.hook, core.NewPayloadValue(c.payload), g, nil, opt...)
	out := parityOutcome{}
	if err != nil {
		out.Err = errString(err)
		var ve *core.ViolationError
		if errors.As(err, &ve) {
			out.Records = recordStrings(ve.Executions)
			if ve.Violation != nil {
				out.Violation = ve.Violation.PluginName + "/" + ve.Violation.Code + "/" + ve.Violation.Reason
			}
		}
		out.Disabled = m.RuntimeDisabled()
		return out
	}
	out.Cont, out.Retry, out.Records = res.ContinueProcessing, res.RetryDelayMs, recordStrings(res.Executions)
	out.Metadata = res.Metadata
	if res.ModifiedPayload != nil {
		b, err := res.ModifiedPayload.JSON()
		require.NoError(t, err)
		require.NoError(t, json.Unmarshal(b, &out.Payload))
	}
	if res.Violation != nil {
		out.Violation = res.Violation.PluginName + "/" + res.Violation.Code + "/" + res.Violation.Reason
	}
	if res.Background != nil {
		errs, err := res.Background.Wait(context.Background())
		require.NoError(t, err)
		out.Background = len(errs)
	}
	out.Disabled = m.RuntimeDisabled()
	return out
}

func errString(err error) string {
	var pe *core.PluginError
	var ve *core.ViolationError
	var se *core.PayloadSizeError
	switch {
	case errors.As(err, &ve):
		return "violation: " + ve.Message
	case errors.As(err, &pe):
		kind := "error"
		if pe.Timeout {
			kind = "timeout"
		}
		return kind + ": " + pe.PluginName + ": " + pe.Message
	case errors.As(err, &se):
		return "size: " + se.Message
	}
	return "other: " + err.Error()
}

// recordStrings renders records for comparison: ids and durations differ between
// registrations and runs, and concurrent completions come in any order (sorted here).
func recordStrings(recs []core.ExecutionRecord) []string {
	out := make([]string, 0, len(recs))
	start := -1
	for k, r := range recs {
		r.PluginID, r.DurationNs = "", 0
		b, _ := json.Marshal(r)
		out = append(out, string(b))
		if r.Mode == config.ModeConcurrent && start < 0 {
			start = k
		}
		if start >= 0 && (k == len(recs)-1 || recs[k+1].Mode != config.ModeConcurrent) {
			sort.Strings(out[start : k+1])
			start = -1
		}
	}
	return out
}

// normalised gives JSON numbers one Go type (metadata written by Go plugins keeps ints).
func (o parityOutcome) normalised() parityOutcome {
	if o.Metadata != nil {
		b, _ := json.Marshal(o.Metadata)
		o.Metadata = nil
		_ = json.Unmarshal(b, &o.Metadata)
	}
	return o
}

// foreignDriver plays the Python driver against the pybind functions.
type foreignDriver struct {
	t        *testing.T
	c        parityCase
	refs     []int
	byIndex  []parPlugin
	current  map[string]any
	original map[string]any
	cand     map[string]any
	candBase map[string]any // what accepted fields apply to
	drop     string         // the metadata key a merge drops (plan "drop")
	meta     map[string]any
	viols    map[int]*core.Violation
	exec     int
}

func decodeStep(t *testing.T, s string) map[string]any {
	t.Helper()
	var m map[string]any
	require.NoError(t, json.Unmarshal([]byte(s), &m), s)
	return m
}

func runForeignDriver(t *testing.T, c parityCase, cfg *config.Config, withGo bool) parityOutcome {
	def := "allow"
	if c.deny {
		def = "deny"
	}
	exec, err := pybind.ExecutorNew(fmt.Sprintf(`{"timeout": %g, "default_policy": %q}`, parityTimeout.Seconds(), def))
	require.NoError(t, err)
	defer func() { _, _ = pybind.ExecutorRelease(exec) }()
	d := &foreignDriver{t: t, c: c, original: c.payload, meta: map[string]any{}, viols: map[int]*core.Violation{}, exec: exec}
	// The registry order is the priority order (stable), as the Python registry's.
	plugins := append([]parPlugin(nil), c.plugins...)
	sort.SliceStable(plugins, func(i, j int) bool { return prio(plugins[i]) < prio(plugins[j]) })
	var ids []string
	for i, p := range plugins {
		pc, _ := cfg.Plugin(p.name)
		goID := 0
		if withGo {
			spec, _ := json.Marshal(map[string]any{"name": p.name, "kind": parityKind, "hooks": pc.Hooks, "config": pc.Config})
			goID, err = pybind.GoPluginNew(string(spec))
			require.NoError(t, err)
			defer func() { _, _ = pybind.GoPluginRelease(goID) }()
		}
		conds := make([]map[string]any, 0, len(pc.Conditions))
		for _, cd := range pc.Conditions {
			conds = append(conds, map[string]any{"server_ids": cd.ServerIDs, "tenant_ids": cd.TenantIDs, "tools": cd.Tools, "prompts": cd.Prompts,
				"resources": cd.Resources, "agents": cd.Agents, "user_patterns": cd.UserPatterns, "content_types": cd.ContentTypes})
		}
		info, _ := json.Marshal(map[string]any{"uuid": fmt.Sprintf("%032d", i), "name": p.name, "kind": pc.Kind, "mode": string(pc.Mode),
			"priority": pc.Priority, "on_error": string(pc.OnError), "conditions": conds, "config": pc.ConfigKeys, "go": goID})
		ref, err := pybind.RefRegister(string(info))
		require.NoError(t, err)
		defer func() { _, _ = pybind.RefRelease(ref) }()
		d.refs = append(d.refs, ref)
		d.byIndex = append(d.byIndex, p)
		ids = append(ids, fmt.Sprint(ref))
	}
	for _, name := range c.disabled {
		_, err := pybind.ExecutorSetRuntimeDisabled(exec, "add", name)
		require.NoError(t, err)
	}
	policy := "null"
	if c.policy != nil {
		b, _ := json.Marshal(c.policy)
		policy = string(b)
	}
	planAns, err := pybind.PlanGet(exec, c.hook, strings.Join(ids, ","), policy)
	require.NoError(t, err)
	plan := decodeStep(t, planAns)
	d.drop = plan["drop"].(string)
	match := any(nil)
	if f, ok := plan["match"].(string); ok {
		if v, ok := c.payload[f].(string); ok && v != "" {
			match = v
		}
	}
	facts, _ := json.Marshal(map[string]any{"rid": "r1", "server_id": "other", "tenant_id": nil, "content_type": nil, "user": nil,
		"match": match, "size": nil, "pool": 10, "vexc": c.vexc, "trace": false, "ext": false})
	stepS, err := pybind.RunStart(int(plan["plan"].(float64)), string(facts))
	require.NoError(t, err)
	return d.drive(decodeStep(t, stepS))
}

func prio(p parPlugin) int {
	if p.priority == 0 {
		return 100
	}
	return p.priority
}

func (d *foreignDriver) effective() map[string]any {
	if d.current != nil {
		return d.current
	}
	return d.original
}

func (d *foreignDriver) drive(step map[string]any) parityOutcome {
	t := d.t
	run := int(step["run"].(float64))
	for {
		if v, ok := step["commit"].(bool); ok {
			if v {
				d.current = d.cand
				if acc, ok := step["accept"].([]any); ok {
					out := map[string]any{}
					for k, v := range d.candBase {
						out[k] = v
					}
					for _, k := range acc {
						out[k.(string)] = d.cand[k.(string)]
					}
					d.current = out
				}
			}
			d.cand = nil
		}
		if eff, ok := step["effects"].(map[string]any); ok {
			if p, ok := eff["payload"].(string); ok {
				d.current = nil
				require.NoError(t, json.Unmarshal([]byte(p), &d.current))
			}
			if m, ok := eff["meta"].(map[string]any); ok {
				for k, v := range m {
					d.meta[k] = v
				}
			}
		}
		var next string
		var err error
		switch step["op"] {
		case "call":
			i := int(step["i"].(float64))
			next, err = pybind.RunReport(run, d.call(i, step["diff"].(bool), step["meta"].(bool)))
		case "go":
			b, _ := json.Marshal(d.effective())
			next, err = pybind.RunGo(run, string(b))
		case "concurrent":
			for _, x := range step["i"].([]any) {
				i := int(x.(float64))
				next, err = pybind.RunReport(run, d.call(i, false, true))
				require.NoError(t, err)
				if decodeStep(t, next)["op"] != "next" {
					break
				}
			}
		case "done":
			return d.done(step)
		case "raise":
			return d.raise(step)
		default:
			t.Fatalf("unknown step %v", step)
		}
		require.NoError(t, err)
		step = decodeStep(t, next)
	}
}

// call plays one Python plugin call and returns its outcome JSON.
func (d *foreignDriver) call(i int, diff bool, meta bool) string {
	b := d.byIndex[i].b
	o := map[string]any{"i": i, "st": "ok", "cont": true, "ret": "none", "ext": 0, "viol": nil, "retry": 0, "dur": 1000}
	switch b.Fail {
	case "error":
		o["st"], o["str"], o["repr"] = "error", "boom", "boom"
	case "perror":
		o["st"], o["str"], o["repr"] = "perror", "plugin said no", "PluginError()"
	case "vexc":
		o["st"], o["str"], o["repr"] = "vexc", "raised", "PluginViolationError()"
		o["viol"] = violJSON(b.Violation)
		d.viols[i] = b.Violation
	case "timeout":
		o["st"] = "timeout"
	}
	if o["st"] != "ok" {
		b, _ := json.Marshal(o)
		return string(b)
	}
	if meta {
		for k, v := range b.Metadata {
			if k != d.drop {
				d.meta[k] = v
			}
		}
	}
	if b.Violation != nil {
		d.viols[i] = b.Violation
	}
	o["cont"], o["viol"], o["retry"] = !b.Block, violJSON(b.Violation), b.Retry
	if b.Set != nil {
		// facts only, as the Python driver reports them: the kind, the changed fields
		in := d.effective()
		mod := map[string]any{}
		for k, v := range in {
			mod[k] = v
		}
		for k, v := range b.Set {
			mod[k] = v
		}
		d.cand, d.candBase = mod, in
		o["ret"], o["cur"] = "same", false
		if d.c.hook == "http_auth_check_permission" {
			o["ret"] = "payload"
		} else if diff {
			chg := []string{}
			for k, v := range mod {
				if !reflect.DeepEqual(in[k], v) {
					chg = append(chg, k)
				}
			}
			o["chg"] = chg
		}
	}
	js, _ := json.Marshal(o)
	return string(js)
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

func violJSON(v *core.Violation) any {
	if v == nil {
		return nil
	}
	return map[string]any{"reason": v.Reason, "code": v.Code, "description": v.Description}
}

func (d *foreignDriver) violation(step map[string]any) string {
	if raw, ok := step["violation"].(map[string]any); ok {
		return fmt.Sprintf("%v/%v/%v", raw["plugin_name"], raw["code"], raw["reason"])
	}
	var i int
	if v, ok := step["viol"].(float64); ok {
		i = int(v)
	} else {
		i = int(step["i"].(float64))
	}
	if i < 0 || d.viols[i] == nil {
		return ""
	}
	v := d.viols[i]
	return d.byIndex[i].name + "/" + v.Code + "/" + v.Reason
}

func (d *foreignDriver) records(step map[string]any) []string {
	raw, _ := json.Marshal(step["records"])
	var recs []core.ExecutionRecord
	require.NoError(d.t, json.Unmarshal(raw, &recs))
	return recordStrings(recs)
}

func (d *foreignDriver) disabled() []string {
	s, err := pybind.ExecutorRuntimeDisabled(d.exec)
	require.NoError(d.t, err)
	var out []string
	require.NoError(d.t, json.Unmarshal([]byte(s), &out))
	return out
}

func (d *foreignDriver) done(step map[string]any) parityOutcome {
	out := parityOutcome{Cont: step["cont"].(bool), Retry: int(step["retry"].(float64)), Records: d.records(step), Violation: d.violation(step)}
	if step["payload"].(bool) {
		out.Payload = d.current
	}
	if len(d.meta) > 0 {
		out.Metadata = d.meta
	}
	if dec, ok := step["decision"].(map[string]any); ok {
		if out.Metadata == nil {
			out.Metadata = map[string]any{}
		}
		for k, v := range dec {
			out.Metadata[k] = v
		}
	}
	out.Disabled = d.disabled()
	return out
}

func (d *foreignDriver) raise(step map[string]any) parityOutcome {
	kind, msg := step["kind"].(string), step["message"].(string)
	i := int(step["i"].(float64))
	out := parityOutcome{Disabled: d.disabled()}
	switch kind {
	case "violation":
		out.Err = "violation: " + msg
		out.Records = d.records(step)
		out.Violation = d.violation(step)
	case "error", "timeout":
		out.Err = kind + ": " + d.byIndex[i].name + ": " + msg
	default:
		out.Err = kind + ": " + msg
	}
	return out
}

func TestDriversAgree(t *testing.T) {
	for _, c := range parityCases() {
		t.Run(c.name, func(t *testing.T) {
			prefix := fmt.Sprintf("parity%d/", parityCaseSeq.Add(1))
			for _, p := range c.plugins {
				behaviours[prefix+p.name] = p.b
			}
			cfg, err := config.Parse([]byte(c.yaml(prefix)), c.name+".yaml", config.WithTemplating(false))
			require.NoError(t, err)
			foreign := runForeignDriver(t, c, cfg, false).normalised()
			withGo := runForeignDriver(t, c, cfg, true).normalised()
			assert.Equal(t, foreign, withGo, "foreign plugins vs Go plugins in go steps")
			goSide := runGoDriver(t, c, cfg).normalised()
			goSide.Background = 0 // only the Go driver observes fire-and-forget failures
			assert.Equal(t, foreign, goSide, "foreign driver vs Go driver")
		})
	}
}
