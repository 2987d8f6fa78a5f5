package pdprego

import (
	"context"
	"fmt"
	"slices"

	"github.com/open-policy-agent/opa/v1/ast"
	"github.com/open-policy-agent/opa/v1/rego"

	"github.com/cpex-go/cpex/core"
	"github.com/cpex-go/cpex/core/builtins"
)

// builtin/pdp_rego decides with a Rego (OPA v1) module, compiled at load. It is its own
// package because OPA adds about 16 MB to a binary: a Go service links it only when it
// imports this package; the Python extension always does (docs/pdp-rego.md).
//
// The query (config.query, default data.<the module's package>) is evaluated with the
// input document as `input`. Its value decides:
//
//	a bool                        true = allow
//	an object {allow, deny, reason}
//	                              allow must be true and deny (a set or array of
//	                              reasons) empty; the reason is `reason`, else the first
//	                              deny reason in sorted order
//	undefined                     deny (the `default allow := false` idiom is the norm)

func init() { core.RegisterFactory("builtin/pdp_rego", newPDPRego) }

type pdpRego struct {
	builtins.PDPReadsExtensions
	name  string
	cfg   builtins.PDPConfig
	query rego.PreparedEvalQuery
	cache *builtins.PDPCache
}

func newPDPRego(spec core.PluginSpec) (core.Plugin, error) {
	var cfg builtins.PDPConfig
	src, srcName, err := builtins.LoadPDPConfig(spec, "pdp_rego", &cfg)
	if err != nil {
		return nil, err
	}
	mod, err := ast.ParseModuleWithOpts(srcName, src, ast.ParserOptions{RegoVersion: ast.RegoV1})
	if err != nil {
		return nil, builtins.PDPCompileError("pdp_rego", spec.Name, srcName, err)
	}
	query := cfg.Query
	if query == "" {
		query = mod.Package.Path.String()
	}
	pq, err := rego.New(
		rego.Query(query),
		rego.ParsedModule(mod),
		rego.StrictBuiltinErrors(true),
	).PrepareForEval(context.Background())
	if err != nil {
		return nil, builtins.PDPCompileError("pdp_rego", spec.Name, srcName, err)
	}
	cache, err := builtins.NewPDPCache(&cfg)
	if err != nil {
		return nil, err
	}
	return &pdpRego{name: spec.Name, cfg: cfg, query: pq, cache: cache}, nil
}

// Invoke evaluates the query under ctx (OPA stops at the deadline); an evaluation error
// is a plugin error, never an allow.
func (p *pdpRego) Invoke(ctx context.Context, hook string, payload *core.Payload, pctx *core.PluginContext) (*core.Result, error) {
	v, err := payload.Value()
	if err != nil {
		return nil, fmt.Errorf("pdp_rego: payload is not JSON: %w", err)
	}
	in := builtins.PDPInput(hook, v, pctx)
	d, err := p.cache.Decide(in, func() (builtins.PDPDecision, error) {
		rs, err := p.query.Eval(ctx, rego.EvalInput(in))
		if err != nil {
			return builtins.PDPDecision{}, builtins.PDPEvalError(ctx, "pdp_rego", p.name, err)
		}
		if len(rs) == 0 || len(rs[0].Expressions) == 0 {
			return builtins.PDPDecision{Detail: map[string]any{"undefined": true}}, nil
		}
		d, err := regoDecision(rs[0].Expressions[0].Value)
		if err != nil {
			return builtins.PDPDecision{}, fmt.Errorf("pdp_rego plugin %q: %w", p.name, err)
		}
		return d, nil
	})
	if err != nil {
		return nil, err
	}
	return builtins.PDPResult("pdp_rego", &p.cfg, d), nil
}

func regoDecision(v any) (builtins.PDPDecision, error) {
	switch t := v.(type) {
	case bool:
		return builtins.PDPDecision{Allow: t}, nil
	case map[string]any:
		allow, _ := t["allow"].(bool)
		var reasons []string
		if deny, ok := t["deny"].([]any); ok {
			for _, r := range deny {
				reasons = append(reasons, fmt.Sprint(r))
			}
		}
		slices.Sort(reasons)
		d := builtins.PDPDecision{Allow: allow && len(reasons) == 0}
		if s, ok := t["reason"].(string); ok {
			d.Reason = s
		} else if len(reasons) > 0 {
			d.Reason = reasons[0]
		}
		if len(reasons) > 0 {
			all := make([]any, len(reasons))
			for i, r := range reasons {
				all[i] = r
			}
			d.Detail = map[string]any{"deny": all}
		}
		return d, nil
	}
	return builtins.PDPDecision{}, fmt.Errorf("the query gave %T, not a bool or an object {allow, deny, reason}", v)
}
