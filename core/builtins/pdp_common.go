package builtins

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"

	"github.com/cpex-go/cpex/core"
)

// Shared machinery of the embedded policy engines (builtin/pdp_cel, builtin/pdp_cedar,
// builtin/pdp_rego): one config shape, one input document, one way to turn a decision
// into a result. Each engine only compiles its policy at load and evaluates it per call.
// The kit is exported because an engine may live in its own package: builtin/pdp_rego is
// core/builtins/pdprego, so that only programs that import it link OPA. See docs/pdp-*.md.

// PDPConfig is the `config:` mapping common to the engines.
type PDPConfig struct {
	// Policy is the policy text; PolicyFile a path to read it from (exactly one of the two).
	Policy     string `json:"policy"`
	PolicyFile string `json:"policy_file"`
	// Reason is the violation reason when the policy denies without saying why.
	Reason string `json:"reason"`
	// Code is the violation code of a deny.
	Code string `json:"code"`
	// Query is the Rego rule to evaluate (data.<package>.<rule>); other engines reject it.
	Query string `json:"query"`
	// Decision cache (pdp_cache.go): off unless CacheTTLSeconds > 0.
	CacheTTLSeconds      float64 `json:"cache_ttl_seconds"`
	CacheSize            int     `json:"cache_size"`
	CacheIgnoreRequestID bool    `json:"cache_ignore_request_id"`
}

// PDPDenyCode is the default violation code of a policy deny.
const PDPDenyCode = "PDP_DENY"

const pdpDefaultReason = "Denied by policy"

// LoadPDPConfig decodes the config and reads the policy; it returns the policy text and
// the name to show in compile errors (the file path, or "<plugin>.policy").
func LoadPDPConfig(spec core.PluginSpec, engine string, cfg *PDPConfig) (src, srcName string, err error) {
	cfg.Reason, cfg.Code = pdpDefaultReason, PDPDenyCode
	if err := DecodeConfig(spec.Config, cfg); err != nil {
		return "", "", err
	}
	switch {
	case cfg.Policy != "" && cfg.PolicyFile != "":
		return "", "", NewConfigError("policy_file", cfg.PolicyFile, "give policy or policy_file, not both")
	case cfg.PolicyFile != "":
		data, err := os.ReadFile(cfg.PolicyFile)
		if err != nil {
			return "", "", NewConfigError("policy_file", cfg.PolicyFile, "cannot read the policy: %v", err)
		}
		return string(data), cfg.PolicyFile, nil
	case strings.TrimSpace(cfg.Policy) != "":
		return cfg.Policy, spec.Name + ".policy", nil
	}
	return "", "", NewConfigError("policy", nil, "%s needs a policy (inline text in policy, or a path in policy_file)", engine)
}

// PDPCompileError is a policy that does not compile: a load error naming the source (file
// or inline) and, through the engine's message, the line; core.NewPlugin prefixes the
// plugin name and kind.
func PDPCompileError(engine, _, srcName string, err error) error {
	return fmt.Errorf("%s: policy %s does not compile: %w", engine, srcName, err)
}

// PDPInput is the document a policy decides on:
//
//	{"hook": ..., "payload": <the hook payload as JSON>, "user": <GlobalContext.user>,
//	 "tenant_id": ..., "server_id": ..., "request_id": ...,
//	 "extensions": <the extensions the plugin may read, JSON form; {} for none>}
//
// user is a string, an object or null, as the gateway sets it; empty ids are "".
func PDPInput(hook string, payload any, pctx *core.PluginContext) map[string]any {
	in := map[string]any{"hook": hook, "payload": payload, "user": nil, "tenant_id": "", "server_id": "", "request_id": "",
		"extensions": map[string]any{}}
	if pctx != nil {
		in["user"] = pctx.User
		in["tenant_id"] = pctx.TenantID
		in["server_id"] = pctx.ServerID
		in["request_id"] = pctx.RequestID
		if pctx.Extensions != nil {
			in["extensions"] = pctx.Extensions
		}
	}
	return in
}

// PDPReadsExtensions is embedded by the engines: they read PluginContext.Extensions
// (core.ExtensionsReader), so a Python host sends them the extensions.
type PDPReadsExtensions struct{}

// ReadsExtensions: true.
func (PDPReadsExtensions) ReadsExtensions() bool { return true }

// PDPDecision is what an engine concluded.
type PDPDecision struct {
	Allow  bool
	Reason string         // "" = the configured reason
	Detail map[string]any // engine specifics for the violation details (policy ids...)
}

// PDPResult turns a decision into the plugin result: nil for allow, a block with a
// violation for deny.
func PDPResult(engine string, cfg *PDPConfig, d PDPDecision) *core.Result {
	if d.Allow {
		return nil
	}
	reason := d.Reason
	if reason == "" {
		reason = cfg.Reason
	}
	details := map[string]any{"engine": engine}
	for k, v := range d.Detail {
		details[k] = v
	}
	return &core.Result{
		Block: true,
		Violation: &core.Violation{
			Reason:      reason,
			Description: fmt.Sprintf("%s policy denied the request: %s", engine, reason),
			Code:        cfg.Code,
			Details:     details,
		},
	}
}

// PDPEvalError wraps an evaluation failure. It is a plugin error (the plugin's on_error
// decides, fail closed by default), never an allow; a deadline keeps ctx's error so the
// executor records a timeout.
func PDPEvalError(ctx context.Context, engine, plugin string, err error) error {
	if ctxErr := ctx.Err(); ctxErr != nil && !errors.Is(err, ctxErr) {
		return fmt.Errorf("%s plugin %q: evaluation stopped: %w", engine, plugin, ctxErr)
	}
	return fmt.Errorf("%s plugin %q: evaluation failed: %w", engine, plugin, err)
}
