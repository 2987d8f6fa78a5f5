package builtins

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"strconv"
	"strings"

	"github.com/cedar-policy/cedar-go"
	"github.com/cedar-policy/cedar-go/types"

	"github.com/cpex-go/cpex/core"
)

// builtin/pdp_cedar decides with a Cedar policy set (github.com/cedar-policy/cedar-go),
// parsed at load. The request is built from the input document:
//
//	principal  User::"<user id>"  (the user string, or user.id / user.email, or "anonymous");
//	           its attributes are the user object's, its parents Role::"<r>" per user.roles
//	action     Action::"<hook>"
//	resource   Tool::"<name>" (tool hooks), Prompt::"<prompt_id>", Resource::"<uri>",
//	           Agent::"<agent_id>", else Hook::"<hook>"
//	context    {tenant_id, server_id, request_id, payload}
//
// JSON values map to Cedar values: objects → records, arrays → sets, integers → Long,
// other numbers → their decimal string, null → left out. Cedar denies unless a permit
// matches and no forbid does; a deny's reason is the @reason("...") annotation of the
// first forbid that matched, else the configured reason. See docs/pdp-cedar.md.

func init() { core.RegisterFactory("builtin/pdp_cedar", newPDPCedar) }

type pdpCedar struct {
	PDPReadsExtensions
	name  string
	cfg   PDPConfig
	ps    *cedar.PolicySet
	cache *PDPCache
}

func newPDPCedar(spec core.PluginSpec) (core.Plugin, error) {
	var cfg PDPConfig
	src, srcName, err := LoadPDPConfig(spec, "pdp_cedar", &cfg)
	if err != nil {
		return nil, err
	}
	if cfg.Query != "" {
		return nil, NewConfigError("query", cfg.Query, "pdp_cedar has no query: the policy set decides")
	}
	ps, err := cedar.NewPolicySetFromBytes(srcName, []byte(src))
	if err != nil {
		return nil, PDPCompileError("pdp_cedar", spec.Name, srcName, err)
	}
	if len(ps.Map()) == 0 {
		return nil, PDPCompileError("pdp_cedar", spec.Name, srcName, fmt.Errorf("no policy in the text (every request would be denied)"))
	}
	cache, err := NewPDPCache(&cfg)
	if err != nil {
		return nil, err
	}
	return &pdpCedar{name: spec.Name, cfg: cfg, ps: ps, cache: cache}, nil
}

// Invoke authorizes one request. Cedar evaluation has no loops, so its cost is bounded by
// the policy and input sizes; the deadline is checked before it starts.
func (p *pdpCedar) Invoke(ctx context.Context, hook string, payload *core.Payload, pctx *core.PluginContext) (*core.Result, error) {
	if err := ctx.Err(); err != nil {
		return nil, PDPEvalError(ctx, "pdp_cedar", p.name, err)
	}
	v, err := payload.Value()
	if err != nil {
		return nil, fmt.Errorf("pdp_cedar: payload is not JSON: %w", err)
	}
	in := PDPInput(hook, v, pctx)
	d, _ := p.cache.Decide(in, func() (PDPDecision, error) { return p.authorize(hook, v, in), nil })
	return PDPResult("pdp_cedar", &p.cfg, d), nil
}

// authorize runs Cedar on one request and explains a deny.
func (p *pdpCedar) authorize(hook string, v any, in map[string]any) PDPDecision {
	req, entities := cedarRequest(hook, v, in)
	decision, diag := cedar.Authorize(p.ps, entities, req)
	if decision == cedar.Allow {
		return PDPDecision{Allow: true}
	}
	d := PDPDecision{Detail: map[string]any{}}
	var forbids []any
	for _, r := range diag.Reasons {
		forbids = append(forbids, string(r.PolicyID))
		if d.Reason == "" {
			if pol := p.ps.Get(r.PolicyID); pol != nil {
				d.Reason = string(pol.Annotations()["reason"])
			}
		}
	}
	if forbids != nil {
		d.Detail["policies"] = forbids
	}
	if len(diag.Errors) > 0 {
		errs := make([]any, len(diag.Errors))
		for i, e := range diag.Errors {
			errs[i] = fmt.Sprintf("%s: %s", e.PolicyID, e.Message)
		}
		d.Detail["errors"] = errs
	}
	return d
}

func cedarRequest(hook string, payload any, in map[string]any) (cedar.Request, types.EntityMap) {
	user := in["user"]
	principal := types.NewEntityUID("User", types.String(cedarUserID(user)))
	var attrs types.Record
	var parents []types.EntityUID
	if um, ok := user.(map[string]any); ok {
		attrs, _ = cedarValue(um).(types.Record)
		if roles, ok := um["roles"].([]any); ok {
			for _, r := range roles {
				if s, ok := r.(string); ok {
					parents = append(parents, types.NewEntityUID("Role", types.String(s)))
				}
			}
		}
	}
	entities := types.EntityMap{principal: {UID: principal, Parents: types.NewEntityUIDSet(parents...), Attributes: attrs}}
	for _, r := range parents {
		entities[r] = types.Entity{UID: r}
	}
	resType, resID := cedarResource(hook, payload)
	ctxRec := types.RecordMap{
		"tenant_id":  types.String(in["tenant_id"].(string)),
		"server_id":  types.String(in["server_id"].(string)),
		"request_id": types.String(in["request_id"].(string)),
	}
	if pv := cedarValue(payload); pv != nil {
		ctxRec["payload"] = pv
	}
	if ext, ok := in["extensions"].(map[string]any); ok && len(ext) > 0 {
		if ev := cedarValue(ext); ev != nil {
			ctxRec["extensions"] = ev
		}
	}
	return cedar.Request{
		Principal: principal,
		Action:    types.NewEntityUID("Action", types.String(hook)),
		Resource:  types.NewEntityUID(types.EntityType(resType), types.String(resID)),
		Context:   types.NewRecord(ctxRec),
	}, entities
}

func cedarUserID(user any) string {
	switch u := user.(type) {
	case string:
		if u != "" {
			return u
		}
	case map[string]any:
		for _, k := range []string{"id", "email", "sub"} {
			if s, ok := u[k].(string); ok && s != "" {
				return s
			}
		}
	}
	return "anonymous"
}

// cedarResource names the resource entity after the hook family's subject attribute.
func cedarResource(hook string, payload any) (typ, id string) {
	obj, _ := payload.(map[string]any)
	attr := func(k string) string { s, _ := obj[k].(string); return s }
	switch {
	case strings.HasPrefix(hook, "tool_"):
		return "Tool", attr("name")
	case strings.HasPrefix(hook, "prompt_"):
		return "Prompt", attr("prompt_id")
	case strings.HasPrefix(hook, "resource_"):
		return "Resource", attr("uri")
	case strings.HasPrefix(hook, "agent_"):
		return "Agent", attr("agent_id")
	}
	return "Hook", hook
}

// cedarValue converts a decoded JSON value; nil for JSON null (Cedar has none).
func cedarValue(v any) types.Value {
	switch t := v.(type) {
	case string:
		return types.String(t)
	case bool:
		return types.Boolean(t)
	case float64:
		if t == math.Trunc(t) && math.Abs(t) <= 1<<53 {
			return types.Long(int64(t))
		}
		return types.String(strconv.FormatFloat(t, 'g', -1, 64))
	case json.Number:
		if n, err := t.Int64(); err == nil {
			return types.Long(n)
		}
		return types.String(t.String())
	case []any:
		vals := make([]types.Value, 0, len(t))
		for _, e := range t {
			if cv := cedarValue(e); cv != nil {
				vals = append(vals, cv)
			}
		}
		return types.NewSet(vals...)
	case map[string]any:
		rec := make(types.RecordMap, len(t))
		for k, e := range t {
			if cv := cedarValue(e); cv != nil {
				rec[types.String(k)] = cv
			}
		}
		return types.NewRecord(rec)
	}
	return nil
}
