package builtins

import (
	"slices"
	"strconv"
	"strings"
	"time"
)

// rateLimiterConfig is the `config:` mapping of builtin/rate_limiter. The keys are those
// of the gateway's RateLimiterPlugin (cpex_rate_limiter), so a config migrates by
// changing `kind` only.
type rateLimiterConfig struct {
	ByUser         string            `json:"by_user"`          // "N/s|m|h" per user, "" = no user limit
	ByTenant       string            `json:"by_tenant"`        // per tenant (requests with a tenant_id only)
	ByTool         map[string]string `json:"by_tool"`          // per tool or prompt name, shared by its callers
	Algorithm      string            `json:"algorithm"`        // fixed_window | token_bucket | sliding_window
	Backend        string            `json:"backend"`          // memory | redis
	RedisURL       string            `json:"redis_url"`        // redis://, rediss://, unix:// (backend redis)
	RedisKeyPrefix string            `json:"redis_key_prefix"` // first segment of every key
	RedisFallback  bool              `json:"redis_fallback"`   // Redis failing: count in memory instead
	FailMode       string            `json:"fail_mode"`        // Redis failing, no fallback: open (allow) | closed (503)

	// Parsed by Validate.
	userRate, tenantRate *rate
	toolRates            map[string]rate
	algorithm            rateAlgorithm
}

func defaultRateLimiterConfig() rateLimiterConfig {
	return rateLimiterConfig{Algorithm: "fixed_window", Backend: "memory", RedisKeyPrefix: "rl", FailMode: "open"}
}

// Validate parses the rates and checks the enumerations, naming the key of any bad value.
func (c *rateLimiterConfig) Validate() error {
	parse := func(key, text string) (*rate, error) {
		if strings.TrimSpace(text) == "" {
			return nil, nil
		}
		r, err := parseRate(text)
		if err != nil {
			return nil, NewConfigError(key, text, "%v", err)
		}
		return &r, nil
	}
	var err error
	if c.userRate, err = parse("by_user", c.ByUser); err != nil {
		return err
	}
	if c.tenantRate, err = parse("by_tenant", c.ByTenant); err != nil {
		return err
	}
	c.toolRates = make(map[string]rate, len(c.ByTool))
	tools := make([]string, 0, len(c.ByTool))
	for name := range c.ByTool {
		tools = append(tools, name)
	}
	slices.Sort(tools) // deterministic error for several bad entries
	for _, name := range tools {
		key := "by_tool." + name
		norm := normalizeRateName(name)
		if norm == "" {
			return NewConfigError(key, c.ByTool[name], "the tool name is empty")
		}
		if _, dup := c.toolRates[norm]; dup {
			return NewConfigError(key, c.ByTool[name], "tool %q is listed twice (names are compared trimmed and lower-cased)", norm)
		}
		r, err := parseRate(c.ByTool[name])
		if err != nil {
			return NewConfigError(key, c.ByTool[name], "%v", err)
		}
		c.toolRates[norm] = r
	}
	name := strings.ToLower(strings.TrimSpace(c.Algorithm))
	if name == "" {
		name = "fixed_window"
	}
	alg, ok := rateAlgorithms[name]
	if !ok {
		return NewConfigError("algorithm", c.Algorithm, "expected fixed_window, token_bucket or sliding_window")
	}
	c.algorithm = alg
	// Enumerations compare trimmed and lower-cased, and an empty value means the
	// default, as in the gateway's plugin.
	c.Backend = strings.ToLower(strings.TrimSpace(c.Backend))
	c.FailMode = strings.ToLower(strings.TrimSpace(c.FailMode))
	switch c.Backend {
	case "memory", "":
		c.Backend = "memory"
	case "redis":
		if strings.TrimSpace(c.RedisURL) == "" {
			return NewConfigError("redis_url", c.RedisURL, "required when backend is redis")
		}
	default:
		return NewConfigError("backend", c.Backend, "expected memory or redis")
	}
	if c.RedisKeyPrefix == "" {
		return NewConfigError("redis_key_prefix", c.RedisKeyPrefix, "must not be empty")
	}
	if c.FailMode == "" {
		c.FailMode = "open"
	}
	if c.FailMode != "open" && c.FailMode != "closed" {
		return NewConfigError("fail_mode", c.FailMode, "expected open or closed")
	}
	return nil
}

// normalizeRateName is how tool and prompt names are compared: trimmed, lower-cased (as
// the gateway's rate limiter does), so "Search " in the config limits the tool "search".
func normalizeRateName(s string) string {
	return strings.ToLower(strings.TrimSpace(s))
}

// rateKeyPart escapes an identity for use inside a colon-separated key, so that a user
// id containing ':' cannot forge another dimension's key.
func rateKeyPart(s string) string {
	for i := 0; i < len(s); i++ {
		if s[i] == ':' || s[i] == '%' {
			return rateKeyEscaper.Replace(s)
		}
	}
	return s
}

var rateKeyEscaper = strings.NewReplacer("%", "%25", ":", "%3A")

// rateKey builds `<prefix>:[<tenant>:]<dimension>:<identity>:<window seconds>`: the
// gateway's key layout, so operators find the same keys in Redis. Token buckets end in
// ":tb" and sliding windows in ":sw": they are hashes and sorted sets, not counters, and
// switching the algorithm must not make Redis answer WRONGTYPE for the old keys.
func rateKey(prefix, tenant, dimension, identity string, r rate, alg rateAlgorithm) string {
	var b strings.Builder
	b.Grow(len(prefix) + len(tenant) + len(dimension) + len(identity) + 16)
	b.WriteString(prefix)
	b.WriteByte(':')
	if tenant != "" {
		b.WriteString(rateKeyPart(tenant))
		b.WriteByte(':')
	}
	b.WriteString(dimension)
	b.WriteByte(':')
	b.WriteString(rateKeyPart(identity))
	b.WriteByte(':')
	var num [20]byte
	b.Write(strconv.AppendInt(num[:0], int64(r.Window/time.Second), 10))
	switch alg {
	case tokenBucket:
		b.WriteString(":tb")
	case slidingWindow:
		b.WriteString(":sw")
	}
	return b.String()
}
