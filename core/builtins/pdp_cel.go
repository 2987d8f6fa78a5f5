package builtins

import (
	"context"
	"fmt"
	"reflect"

	"cel.dev/cel-go/cel"
	"cel.dev/cel-go/common"
	"cel.dev/cel-go/common/types"
	"cel.dev/cel-go/ext"

	"github.com/cpex-go/cpex/core"
)

// builtin/pdp_cel decides with one CEL expression (cel.dev/cel-go), compiled and
// type-checked at load. The expression sees the input document's keys as variables
// (hook, payload, user, tenant_id, server_id, request_id) and the whole document as
// `input`. It returns a bool (true = allow) or a map {"allow": bool, "reason": string}.
// See docs/pdp-cel.md.

func init() { core.RegisterFactory("builtin/pdp_cel", newPDPCEL) }

// celInterruptEvery is how many comprehension iterations run between two checks of the
// context, so a long loop stops at the plugin's deadline.
const celInterruptEvery = 64

type pdpCEL struct {
	PDPReadsExtensions
	name  string
	cfg   PDPConfig
	prg   cel.Program
	cache *PDPCache
}

func newPDPCEL(spec core.PluginSpec) (core.Plugin, error) {
	var cfg PDPConfig
	src, srcName, err := LoadPDPConfig(spec, "pdp_cel", &cfg)
	if err != nil {
		return nil, err
	}
	if cfg.Query != "" {
		return nil, NewConfigError("query", cfg.Query, "pdp_cel has no query: the policy is the expression")
	}
	env, err := cel.NewEnv(
		cel.Variable("hook", cel.StringType),
		cel.Variable("payload", cel.DynType),
		cel.Variable("user", cel.DynType),
		cel.Variable("tenant_id", cel.StringType),
		cel.Variable("server_id", cel.StringType),
		cel.Variable("request_id", cel.StringType),
		cel.Variable("extensions", cel.MapType(cel.StringType, cel.DynType)),
		cel.Variable("input", cel.MapType(cel.StringType, cel.DynType)),
		ext.Strings(),
	)
	if err != nil {
		return nil, fmt.Errorf("pdp_cel plugin %q: %w", spec.Name, err)
	}
	ast, iss := env.CompileSource(common.NewStringSource(src, srcName))
	if iss.Err() != nil {
		return nil, PDPCompileError("pdp_cel", spec.Name, srcName, iss.Err())
	}
	switch out := ast.OutputType(); {
	case out.IsExactType(cel.BoolType), out.IsExactType(cel.DynType), out.Kind() == types.MapKind:
	default:
		return nil, PDPCompileError("pdp_cel", spec.Name, srcName,
			fmt.Errorf("the expression is a %s; it must be a bool or a map {\"allow\": bool, \"reason\": string}", out))
	}
	prg, err := env.Program(ast, cel.InterruptCheckFrequency(celInterruptEvery), cel.EvalOptions(cel.OptOptimize))
	if err != nil {
		return nil, PDPCompileError("pdp_cel", spec.Name, srcName, err)
	}
	cache, err := NewPDPCache(&cfg)
	if err != nil {
		return nil, err
	}
	return &pdpCEL{name: spec.Name, cfg: cfg, prg: prg, cache: cache}, nil
}

var mapStringAny = reflect.TypeFor[map[string]any]()

// Invoke evaluates the expression on the input document; an evaluation error (a missing
// key, a type mismatch, the deadline) is a plugin error, never an allow.
func (p *pdpCEL) Invoke(ctx context.Context, hook string, payload *core.Payload, pctx *core.PluginContext) (*core.Result, error) {
	v, err := payload.Value()
	if err != nil {
		return nil, fmt.Errorf("pdp_cel: payload is not JSON: %w", err)
	}
	in := PDPInput(hook, v, pctx)
	vars := make(map[string]any, len(in)+1)
	for k, x := range in {
		vars[k] = x
	}
	vars["input"] = in
	d, err := p.cache.Decide(in, func() (PDPDecision, error) {
		out, _, err := p.prg.ContextEval(ctx, vars)
		if err != nil {
			return PDPDecision{}, PDPEvalError(ctx, "pdp_cel", p.name, err)
		}
		d, err := celDecision(out)
		if err != nil {
			return PDPDecision{}, fmt.Errorf("pdp_cel plugin %q: %w", p.name, err)
		}
		return d, nil
	})
	if err != nil {
		return nil, err
	}
	return PDPResult("pdp_cel", &p.cfg, d), nil
}

func celDecision(out any) (PDPDecision, error) {
	val, ok := out.(interface {
		Value() any
		ConvertToNative(reflect.Type) (any, error)
	})
	if !ok {
		return PDPDecision{}, fmt.Errorf("the expression gave %T, not a bool or a map", out)
	}
	if b, ok := val.Value().(bool); ok {
		return PDPDecision{Allow: b}, nil
	}
	native, err := val.ConvertToNative(mapStringAny)
	if err != nil {
		return PDPDecision{}, fmt.Errorf("the expression gave %v, not a bool or a map {\"allow\": bool, \"reason\": string}", val.Value())
	}
	m := native.(map[string]any)
	allow, ok := m["allow"].(bool)
	if !ok {
		return PDPDecision{}, fmt.Errorf("the expression's map has no bool \"allow\" (got %v)", m["allow"])
	}
	reason, _ := m["reason"].(string)
	return PDPDecision{Allow: allow, Reason: reason}, nil
}
