package builtins

import (
	"context"
	"math"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/cpex-go/cpex/core"
)

// builtin/rate_limiter: per-user, per-tenant and per-tool request limits on
// prompt_pre_fetch and tool_pre_invoke, counted in memory or in a Redis shared by every
// replica. A request over any limit is blocked with a RATE_LIMIT violation carrying HTTP
// 429 and Retry-After, and retry_delay_ms set. See docs/builtins/rate_limiter.md.

func init() { core.RegisterFactory("builtin/rate_limiter", newRateLimiter) }

var rateLimiterHooks = []string{"prompt_pre_fetch", "tool_pre_invoke"}

type rateLimiter struct {
	cfg      rateLimiterConfig
	store    rateStore
	fallback rateStore // the memory store used while Redis fails (redis_fallback: true)
	now      func() time.Time
}

func newRateLimiter(spec core.PluginSpec) (core.Plugin, error) {
	return buildRateLimiter(spec, time.Now)
}

// buildRateLimiter is the factory with an injectable clock (tests drive time by hand
// instead of sleeping).
func buildRateLimiter(spec core.PluginSpec, now func() time.Time) (*rateLimiter, error) {
	if err := CheckHooks(spec, rateLimiterHooks...); err != nil {
		return nil, err
	}
	cfg := defaultRateLimiterConfig()
	if err := DecodeConfig(spec.Config, &cfg); err != nil {
		return nil, err
	}
	p := &rateLimiter{cfg: cfg, now: now}
	if cfg.Backend == "redis" {
		store, err := newRedisRateStore(cfg.algorithm, cfg.RedisURL, cfg.RedisKeyPrefix)
		if err != nil {
			// The URL may carry a password: show it redacted.
			return nil, NewConfigError("redis_url", redactURL(cfg.RedisURL), "%v", err)
		}
		p.store = store
		if cfg.RedisFallback {
			p.fallback = newMemoryRateStore(cfg.algorithm, now)
		}
	} else {
		p.store = newMemoryRateStore(cfg.algorithm, now)
	}
	return p, nil
}

// Shutdown closes the Redis connections.
func (p *rateLimiter) Shutdown(context.Context) error { return p.store.close() }

// Blocking: with the Redis backend every call is a network round trip (core.Blocking).
func (p *rateLimiter) Blocking() bool { return p.cfg.Backend == "redis" }

// Invoke counts the request against every configured dimension that applies to it.
func (p *rateLimiter) Invoke(ctx context.Context, hook string, payload *core.Payload, pctx *core.PluginContext) (*core.Result, error) {
	var buf [3]rateCheck
	checks := p.checks(buf[:0], hook, payload, pctx)
	if len(checks) == 0 {
		return nil, nil
	}
	store := p.store
	bctx, cancel := p.backendContext(ctx)
	v, err := store.take(bctx, checks)
	cancel()
	if err != nil {
		if ctxErr := ctx.Err(); ctxErr != nil {
			return nil, ctxErr // the caller gave up (or the deadline passed): no verdict
		}
		if p.fallback == nil {
			return p.backendFailed(err), nil
		}
		store = p.fallback
		if v, err = store.take(ctx, checks); err != nil {
			return p.backendFailed(err), nil
		}
	}
	if v.Allowed {
		return nil, nil
	}
	return p.limited(checks[v.Denied], v, store.name()), nil
}

// backendReserveMax bounds the part of the plugin's time kept back from Redis.
const backendReserveMax = 100 * time.Millisecond

// backendContext bounds a Redis round trip by the plugin's own deadline minus a
// reserve (a quarter of the time left, at most backendReserveMax: enough for a loaded
// or race-instrumented process to wake up and answer), so that a Redis that
// does not answer ends in this plugin's verdict (redis_fallback, then fail_mode) while
// the plugin still has time to give it, rather than in the executor's timeout, which
// on_error: ignore would turn into an allow whatever fail_mode says (issue 10, item
// 3; docs/builtins/rate_limiter.md, "Failures"). The memory backend never waits.
func (p *rateLimiter) backendContext(ctx context.Context) (context.Context, context.CancelFunc) {
	if p.cfg.Backend != "redis" {
		return ctx, func() {}
	}
	dl, ok := ctx.Deadline()
	if !ok {
		return ctx, func() {}
	}
	reserve := min(time.Until(dl)/4, backendReserveMax)
	return context.WithDeadline(ctx, dl.Add(-max(reserve, 0)))
}

// checks lists the dimensions of this request: user (always, "anonymous" without a
// user), tenant (only with a tenant_id), tool (tool name on tool_pre_invoke, prompt id on
// prompt_pre_fetch, only when by_tool lists it). Counters are scoped by tenant, so two
// tenants never share a user or tool counter.
func (p *rateLimiter) checks(out []rateCheck, hook string, payload *core.Payload, pctx *core.PluginContext) []rateCheck {
	var tenant string
	var user any
	if pctx != nil {
		tenant, user = strings.TrimSpace(pctx.TenantID), pctx.User
	}
	if r := p.cfg.userRate; r != nil {
		out = append(out, rateCheck{Dimension: "user", Scope: tenant, Identity: rateUserID(user), Limit: *r})
	}
	if r := p.cfg.tenantRate; r != nil && tenant != "" {
		out = append(out, rateCheck{Dimension: "tenant", Scope: tenant, Identity: tenant, Limit: *r})
	}
	if len(p.cfg.toolRates) > 0 && payload != nil {
		field := "name"
		if hook == "prompt_pre_fetch" {
			field = "prompt_id"
		}
		if name, ok := payload.Field(field).(string); ok {
			name = normalizeRateName(name)
			if r, ok := p.cfg.toolRates[name]; ok {
				out = append(out, rateCheck{Dimension: "tool", Scope: tenant, Identity: name, Limit: r})
			}
		}
	}
	return out
}

// limited builds the blocking result for the dimension that refused the request.
func (p *rateLimiter) limited(c rateCheck, v rateVerdict, backend string) *core.Result {
	wait := v.RetryAfter
	retrySecs := int64(math.Ceil(wait.Seconds()))
	if retrySecs < 1 {
		retrySecs = 1 // Retry-After is whole seconds; 0 would invite an immediate retry
	}
	status := 429
	count := strconv.FormatInt(c.Limit.Count, 10)
	return &core.Result{
		Block:        true,
		RetryDelayMs: int(math.Ceil(float64(wait) / float64(time.Millisecond))),
		Violation: &core.Violation{
			Reason:      "Rate limit exceeded",
			Description: "Rate limit exceeded for " + c.Dimension + " (" + c.Limit.String() + "); retry in " + strconv.FormatInt(retrySecs, 10) + "s",
			Code:        "RATE_LIMIT",
			Details: map[string]any{
				"dimension":           c.Dimension,
				"limit":               c.Limit.Count,
				"window_seconds":      int64(c.Limit.Window / time.Second),
				"retry_after_seconds": retrySecs,
				"algorithm":           p.cfg.algorithm.String(),
				"backend":             backend,
			},
			HTTPStatusCode: &status,
			HTTPHeaders: map[string]string{
				"Retry-After":           strconv.FormatInt(retrySecs, 10),
				"X-RateLimit-Limit":     count,
				"X-RateLimit-Remaining": "0",
				"X-RateLimit-Reset":     strconv.FormatInt(p.now().Add(wait).Unix(), 10),
			},
		},
	}
}

// backendFailed applies fail_mode when the backend cannot answer: open lets the request
// through and says so in the metadata (the only channel a Go plugin has to surface it);
// closed blocks it with BACKEND_UNAVAILABLE and HTTP 503.
func (p *rateLimiter) backendFailed(err error) *core.Result {
	if p.cfg.FailMode != "closed" {
		return &core.Result{Metadata: map[string]any{
			"rate_limiter": map[string]any{"backend_error": err.Error(), "fail_mode": "open"},
		}}
	}
	status := 503
	return &core.Result{
		Block:        true,
		RetryDelayMs: 1000,
		Violation: &core.Violation{
			Reason:         "Rate limiter backend unavailable",
			Description:    "Rate limiter backend unavailable; failing closed per fail_mode=closed",
			Code:           "BACKEND_UNAVAILABLE",
			Details:        map[string]any{"backend": p.store.name()},
			HTTPStatusCode: &status,
			HTTPHeaders:    map[string]string{"Retry-After": "1"},
		},
	}
}

// redactURL hides the password of a Redis URL for error messages.
func redactURL(raw string) string {
	u, err := url.Parse(raw)
	if err != nil || u.User == nil {
		if err != nil {
			return "<unparsable URL>"
		}
		return raw
	}
	return u.Redacted()
}
