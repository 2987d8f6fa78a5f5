package builtins

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/big"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/cpex-go/cpex/core"
)

// rlClock is a hand-driven clock: the limiter tests move time instead of sleeping.
type rlClock struct {
	mu sync.Mutex
	t  time.Time
}

func newRLClock() *rlClock { return &rlClock{t: time.Unix(1_800_000_000, 0)} }

func (c *rlClock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *rlClock) advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

func rlBuild(t testing.TB, cfg string, clock *rlClock) *rateLimiter {
	t.Helper()
	p, err := buildRateLimiter(core.PluginSpec{Name: "rl", Kind: "builtin/rate_limiter",
		Hooks: rateLimiterHooks, Config: guardbYAMLish(t, cfg)}, clock.now)
	require.NoError(t, err)
	t.Cleanup(func() { _ = p.Shutdown(context.Background()) })
	return p
}

// rlCall makes one tool_pre_invoke call of tool for user in tenant.
func rlCall(t testing.TB, p core.Plugin, user any, tenant, tool string) *core.Result {
	t.Helper()
	pctx := &core.PluginContext{RequestID: "r", User: user, TenantID: tenant}
	payload := core.NewPayloadValue(map[string]any{"name": tool, "args": map[string]any{}})
	res, err := p.Invoke(context.Background(), "tool_pre_invoke", payload, pctx)
	require.NoError(t, err)
	return res
}

// rlAllowed counts how many of n calls pass.
func rlAllowed(t testing.TB, p core.Plugin, n int, user any, tenant, tool string) int {
	t.Helper()
	ok := 0
	for range n {
		if res := rlCall(t, p, user, tenant, tool); res == nil || !res.Block {
			ok++
		}
	}
	return ok
}

func TestParseRate(t *testing.T) {
	good := map[string]rate{
		"30/m": {30, time.Minute}, "1/s": {1, time.Second}, "1000/h": {1000, time.Hour},
		" 5 / min ": {5, time.Minute}, "10/S": {10, time.Second}, "2/sec": {2, time.Second},
		"3/second": {3, time.Second}, "4/minute": {4, time.Minute}, "5/hr": {5, time.Hour},
		"6/hour": {6, time.Hour}, "1000000/h": {1_000_000, time.Hour}, "007/s": {7, time.Second},
	}
	for in, want := range good {
		got, err := parseRate(in)
		require.NoError(t, err, in)
		assert.Equal(t, want, got, in)
	}
	bad := []string{"", "30", "/m", "30/", "0/s", "-1/s", "+5/s", "1.5/s", "10/day", "1000001/h",
		"99999999999999999999/s", "1/m/s", "a/s", "1 0/s", "1/ms"}
	for _, in := range bad {
		_, err := parseRate(in)
		assert.Error(t, err, "%q", in)
	}
	assert.Equal(t, "30/m", rate{30, time.Minute}.String())
}

func TestRateLimiterFixedWindow(t *testing.T) {
	clock := newRLClock()
	p := rlBuild(t, `{"by_user":"3/m"}`, clock)
	assert.Equal(t, 3, rlAllowed(t, p, 3, "alice", "", "search"))

	res := rlCall(t, p, "alice", "", "search")
	require.NotNil(t, res)
	assert.True(t, res.Block)
	v := res.Violation
	require.NotNil(t, v)
	assert.Equal(t, "RATE_LIMIT", v.Code)
	assert.Equal(t, "Rate limit exceeded", v.Reason)
	require.NotNil(t, v.HTTPStatusCode)
	assert.Equal(t, 429, *v.HTTPStatusCode)
	assert.Equal(t, "60", v.HTTPHeaders["Retry-After"])
	assert.Equal(t, "3", v.HTTPHeaders["X-RateLimit-Limit"])
	assert.Equal(t, "0", v.HTTPHeaders["X-RateLimit-Remaining"])
	assert.Equal(t, strconv.FormatInt(clock.now().Add(time.Minute).Unix(), 10), v.HTTPHeaders["X-RateLimit-Reset"])
	assert.Equal(t, 60_000, res.RetryDelayMs)
	assert.Equal(t, "user", v.Details["dimension"])
	assert.Equal(t, int64(3), v.Details["limit"])
	assert.Equal(t, int64(60), v.Details["window_seconds"])
	assert.Equal(t, "fixed_window", v.Details["algorithm"])
	assert.Equal(t, "memory", v.Details["backend"])
	assert.NotContains(t, fmt.Sprint(v.Details), "alice", "user ids stay out of the violation")

	// Another user has their own counter.
	assert.Equal(t, 3, rlAllowed(t, p, 4, "bob", "", "search"))

	clock.advance(45 * time.Second)
	res = rlCall(t, p, "alice", "", "search")
	require.NotNil(t, res)
	assert.Equal(t, "15", res.Violation.HTTPHeaders["Retry-After"])
	assert.Equal(t, 15_000, res.RetryDelayMs)

	clock.advance(15 * time.Second) // the window closes
	assert.Equal(t, 3, rlAllowed(t, p, 4, "alice", "", "search"))
}

func TestRateLimiterTokenBucket(t *testing.T) {
	clock := newRLClock()
	p := rlBuild(t, `{"by_user":"2/s","algorithm":"token_bucket"}`, clock)
	assert.Equal(t, 2, rlAllowed(t, p, 3, "u", "", "t"), "a full bucket allows a burst of N")

	res := rlCall(t, p, "u", "", "t")
	require.NotNil(t, res)
	assert.Equal(t, 500, res.RetryDelayMs, "one token refills in 1s/2")
	assert.Equal(t, "1", res.Violation.HTTPHeaders["Retry-After"], "rounded up to whole seconds")
	assert.Equal(t, "token_bucket", res.Violation.Details["algorithm"])

	clock.advance(500 * time.Millisecond)
	assert.Equal(t, 1, rlAllowed(t, p, 2, "u", "", "t"), "steady rate: one per 500ms")
	clock.advance(10 * time.Second)
	assert.Equal(t, 2, rlAllowed(t, p, 3, "u", "", "t"), "the bucket never holds more than N")
}

func TestRateLimiterSlidingWindow(t *testing.T) {
	clock := newRLClock()
	p := rlBuild(t, `{"by_user":"3/m","algorithm":"sliding_window"}`, clock)
	assert.Equal(t, 2, rlAllowed(t, p, 2, "u", "", "t"))
	clock.advance(40 * time.Second)
	assert.Equal(t, 1, rlAllowed(t, p, 2, "u", "", "t"))

	res := rlCall(t, p, "u", "", "t")
	require.NotNil(t, res)
	assert.Equal(t, "sliding_window", res.Violation.Details["algorithm"])
	assert.Equal(t, 20_000, res.RetryDelayMs, "the two oldest requests leave the window in 20s")

	// No boundary burst: 20s later only the two oldest have left, so two more pass.
	clock.advance(20 * time.Second)
	assert.Equal(t, 2, rlAllowed(t, p, 3, "u", "", "t"))
	clock.advance(40 * time.Second)
	assert.Equal(t, 1, rlAllowed(t, p, 2, "u", "", "t"), "the third request of the first burst left; the two of the second stay")
}

func TestRateLimiterDimensions(t *testing.T) {
	t.Run("tenant is shared by its users and scopes user counters", func(t *testing.T) {
		p := rlBuild(t, `{"by_user":"2/m","by_tenant":"3/m"}`, newRLClock())
		assert.Equal(t, 2, rlAllowed(t, p, 2, "a", "T1", "x"))
		res := rlCall(t, p, "b", "T1", "x")
		assert.Nil(t, res)
		res = rlCall(t, p, "c", "T1", "x")
		require.NotNil(t, res)
		assert.Equal(t, "tenant", res.Violation.Details["dimension"])
		// Same user name in another tenant: separate counters.
		assert.Equal(t, 2, rlAllowed(t, p, 3, "a", "T2", "x"))
	})
	t.Run("no tenant: no tenant dimension", func(t *testing.T) {
		p := rlBuild(t, `{"by_tenant":"1/m"}`, newRLClock())
		assert.Equal(t, 5, rlAllowed(t, p, 5, "a", "", "x"))
	})
	t.Run("by_tool is per tool, names normalised", func(t *testing.T) {
		p := rlBuild(t, `{"by_tool":{" Search ":"2/m"}}`, newRLClock())
		assert.Equal(t, 2, rlAllowed(t, p, 3, "a", "", "SEARCH"))
		res := rlCall(t, p, "b", "", "search")
		require.NotNil(t, res, "the tool counter is shared by every caller")
		assert.Equal(t, "tool", res.Violation.Details["dimension"])
		assert.Equal(t, 4, rlAllowed(t, p, 4, "a", "", "other"), "unlisted tools are unlimited")
	})
	t.Run("prompt_pre_fetch limits by prompt id", func(t *testing.T) {
		p := rlBuild(t, `{"by_tool":{"greet":"1/m"}}`, newRLClock())
		call := func(id string) *core.Result {
			res, err := p.Invoke(context.Background(), "prompt_pre_fetch",
				core.NewPayloadValue(map[string]any{"prompt_id": id, "args": map[string]any{}}), &core.PluginContext{})
			require.NoError(t, err)
			return res
		}
		assert.Nil(t, call("greet"))
		assert.NotNil(t, call("Greet"))
		assert.Nil(t, call("other"))
	})
	t.Run("user identities", func(t *testing.T) {
		p := rlBuild(t, `{"by_user":"1/m"}`, newRLClock())
		assert.Nil(t, rlCall(t, p, map[string]any{"email": "e@x", "full_name": "E"}, "", "x"))
		assert.NotNil(t, rlCall(t, p, "e@x", "", "x"), "a user dict counts under its email")
		assert.Nil(t, rlCall(t, p, nil, "", "x"))
		assert.NotNil(t, rlCall(t, p, "   ", "", "x"), "blank and missing users share the anonymous counter")
		assert.Nil(t, rlCall(t, p, map[string]any{"id": 7.0}, "", "x"))
		assert.NotNil(t, rlCall(t, p, "7", "", "x"))
		assert.NotNil(t, rlCall(t, p, map[string]any{"full_name": "no id"}, "", "x"), "a dict without identity is anonymous")
	})
	t.Run("a dict user whose identity values are null is anonymous", func(t *testing.T) {
		// Never a skipped dimension: a user without a usable identity shares the
		// anonymous counter (issue 10, item 2).
		p := rlBuild(t, `{"by_user":"1/m","by_tenant":"5/m"}`, newRLClock())
		nulls := map[string]any{"email": nil, "is_admin": nil}
		assert.Nil(t, rlCall(t, p, nulls, "T", "x"))
		res := rlCall(t, p, nulls, "T", "x")
		require.NotNil(t, res)
		assert.Equal(t, "user", res.Violation.Details["dimension"])
	})
	t.Run("nothing configured: always allowed", func(t *testing.T) {
		p := rlBuild(t, `{}`, newRLClock())
		assert.Equal(t, 10, rlAllowed(t, p, 10, "a", "t", "x"))
	})
	t.Run("a nil context counts as anonymous", func(t *testing.T) {
		p := rlBuild(t, `{"by_user":"1/m"}`, newRLClock())
		res, err := p.Invoke(context.Background(), "tool_pre_invoke", core.NewPayloadValue(map[string]any{"name": "x"}), nil)
		require.NoError(t, err)
		assert.Nil(t, res)
		assert.NotNil(t, rlCall(t, p, "anonymous", "", "x"))
	})
}

// rlDistinctUsers are identity values that must each get their own counter: numbers a
// float64 cannot tell apart, ids beyond 64 bits, and values that are not scalars (which
// used to skip the user dimension), next to strings that read like them.
var rlDistinctUsers = []any{
	map[string]any{"id": json.Number("9007199254740992")},
	map[string]any{"id": json.Number("9007199254740993")},
	map[string]any{"id": uint64(1_000_000_000_000_000_001)},
	map[string]any{"id": int64(1_000_000_000_000_000_002)},
	map[string]any{"id": json.Number("1180591620717411303424")}, // 2^70
	map[string]any{"id": json.Number("1180591620717411303425")},
	map[string]any{"id": []any{"x"}},
	map[string]any{"id": "[\"x\"]"},
	map[string]any{"id": []any{"y"}},
	map[string]any{"sub": map[string]any{"k": json.Number("1")}},
	map[string]any{"sub": map[string]any{"k": json.Number("2")}},
	map[string]any{"id": true},
	map[string]any{"id": "true"},
	map[string]any{"id": "#5"},
	map[string]any{"id": "5"},
	map[string]any{"id": 1.5},
	42,
}

// Every distinct identity has its own counter and the same identity always shares one,
// for every algorithm (issue 10, item 2: float64 keys merged ids above 2^53; values
// other than strings and float64 skipped the user dimension).
func TestRateLimiterIdentitiesAreExact(t *testing.T) {
	for _, alg := range []string{"fixed_window", "token_bucket", "sliding_window"} {
		t.Run(alg, func(t *testing.T) {
			rlCheckDistinctUsers(t, rlBuild(t, `{"by_user":"2/m","algorithm":"`+alg+`"}`, newRLClock()))
		})
	}
}

func rlCheckDistinctUsers(t *testing.T, p *rateLimiter) {
	t.Helper()
	for _, u := range rlDistinctUsers {
		assert.Equal(t, 2, rlAllowed(t, p, 3, u, "", "x"), "%#v: its own counter, limited", u)
	}
}

func TestRateIdentity(t *testing.T) {
	same := [][]any{
		{json.Number("7"), json.Number("7.0"), json.Number("7e0"), 7.0, int64(7), uint8(7), "7", big.NewInt(7)},
		{json.Number("-0"), json.Number("0"), 0.0, 0},
		{json.Number("1.50"), json.Number("1.5"), 1.5},
		{map[string]any{"b": 1, "a": []any{json.Number("2")}}, map[string]any{"a": []any{2}, "b": json.Number("1")}},
		{"#a", "#a"},
		{json.Number("1e401"), json.Number("10e400"), json.Number("1E+401"), json.Number("0.1e402")},
		{json.Number("100"), json.Number("1E+2"), json.Number("1e0002"), json.Number("0.0001e6"), 100.0},
		{json.Number("-1e-500"), json.Number("-0.1e-499")},
		{json.Number("1e21"), 1e21},
	}
	for _, group := range same {
		for _, v := range group[1:] {
			assert.Equal(t, rateIdentity(group[0]), rateIdentity(v), "%#v and %#v", group[0], v)
		}
	}
	distinct := []any{"7", "7.5", "#7", "##7", "true", true, false, "null", nil, []any{}, "[]", map[string]any{}, "{}",
		json.Number("9007199254740993"), json.Number("9007199254740992"), json.Number("1e999999999"), json.Number("1e999999998"),
		json.Number("0.1000000000000000000001"), 0.1, json.Number("-1e-500"), json.Number("1e-500")}
	seen := map[string]any{}
	for _, v := range distinct {
		id := rateIdentity(v)
		if prev, dup := seen[id]; dup {
			t.Errorf("%#v and %#v share the identity %q", prev, v, id)
		}
		seen[id] = v
	}
	assert.Equal(t, "alice", rateUserID(map[string]any{"email": " alice ", "id": 3}))
	assert.Equal(t, "3", rateUserID(map[string]any{"email": " ", "id": 3}))
	assert.Equal(t, "#[\"x\"]", rateUserID(map[string]any{"id": []any{"x"}}))
	assert.Equal(t, "anonymous", rateUserID(map[string]any{"name": "n"}))
	assert.Equal(t, "anonymous", rateUserID(nil))
}

func TestRateKeys(t *testing.T) {
	r := rate{30, time.Minute}
	assert.Equal(t, "rl:user:a@b:60", rateKey("rl", "", "user", "a@b", r, fixedWindow))
	assert.Equal(t, "rl:T:tool:search:60:tb", rateKey("rl", "T", "tool", "search", r, tokenBucket))
	assert.Equal(t, "rl:T:tenant:T:60:sw", rateKey("rl", "T", "tenant", "T", r, slidingWindow))
	// An identity cannot forge another key by containing the separator.
	assert.NotEqual(t, rateKey("rl", "", "user", "x:tool:y", r, fixedWindow), rateKey("rl", "x", "tool", "y", r, fixedWindow))
	assert.Equal(t, "rl:user:x%3Atool%3Ay%25:60", rateKey("rl", "", "user", "x:tool:y%", r, fixedWindow))
}

// rlStoreAllOrNothing checks the atomic multi-dimension take of any backend: a request
// refused by one dimension consumes nothing from the others.
func rlStoreAllOrNothing(t *testing.T, s rateStore) {
	user := rateCheck{Dimension: "user", Identity: "u", Limit: rate{2, time.Minute}}
	tenant := rateCheck{Dimension: "tenant", Identity: "t", Limit: rate{1, time.Minute}}
	ctx := context.Background()

	v, err := s.take(ctx, []rateCheck{user, tenant})
	require.NoError(t, err)
	require.True(t, v.Allowed)
	assert.Equal(t, -1, v.Denied)
	assert.Equal(t, int64(0), v.Remaining, "the tenant is now exhausted")

	v, err = s.take(ctx, []rateCheck{user, tenant})
	require.NoError(t, err)
	require.False(t, v.Allowed)
	assert.Equal(t, 1, v.Denied, "the tenant refused")
	assert.Greater(t, v.RetryAfter, time.Duration(0))
	assert.LessOrEqual(t, v.RetryAfter, time.Minute)

	v, err = s.take(ctx, []rateCheck{user})
	require.NoError(t, err)
	assert.True(t, v.Allowed, "the refused request did not use the user's second unit")
	assert.Equal(t, int64(0), v.Remaining)
	v, err = s.take(ctx, []rateCheck{user})
	require.NoError(t, err)
	assert.False(t, v.Allowed)
	assert.Equal(t, 0, v.Denied)
}

func TestMemoryStoreAllOrNothing(t *testing.T) {
	clock := newRLClock()
	rlStoreAllOrNothing(t, newMemoryRateStore(fixedWindow, clock.now))
	rlStoreAllOrNothing(t, newMemoryRateStore(tokenBucket, clock.now))
	rlStoreAllOrNothing(t, newMemoryRateStore(slidingWindow, clock.now))
}

func TestMemoryStoreDeniesWithTheLongestWait(t *testing.T) {
	clock := newRLClock()
	s := newMemoryRateStore(fixedWindow, clock.now)
	short := rateCheck{Dimension: "user", Identity: "u", Limit: rate{1, time.Second}}
	long := rateCheck{Dimension: "tenant", Identity: "t", Limit: rate{1, time.Hour}}
	_, err := s.take(context.Background(), []rateCheck{short, long})
	require.NoError(t, err)
	v, err := s.take(context.Background(), []rateCheck{short, long})
	require.NoError(t, err)
	assert.Equal(t, 1, v.Denied)
	assert.Equal(t, time.Hour, v.RetryAfter)
}

func TestMemoryStoreSweepsExpiredKeys(t *testing.T) {
	for _, alg := range []rateAlgorithm{fixedWindow, tokenBucket, slidingWindow} {
		clock := newRLClock()
		s := newMemoryRateStore(alg, clock.now)
		lim := rate{5, time.Second}
		for i := range 4 * memorySweepEvery * memoryRateShards / 8 {
			_, err := s.take(context.Background(), []rateCheck{{Identity: "k" + strconv.Itoa(i), Limit: lim}})
			require.NoError(t, err)
		}
		before := s.size()
		clock.advance(time.Minute)
		for i := range 2 * memorySweepEvery * memoryRateShards {
			_, err := s.take(context.Background(), []rateCheck{{Identity: "fresh" + strconv.Itoa(i%16), Limit: lim}})
			require.NoError(t, err)
		}
		assert.Less(t, s.size(), before/10, "%s: expired keys are dropped", alg)
	}
}

func TestMemoryStoreIsExactUnderConcurrency(t *testing.T) {
	for _, alg := range []rateAlgorithm{fixedWindow, tokenBucket, slidingWindow} {
		s := newMemoryRateStore(alg, newRLClock().now)
		checks := []rateCheck{{Dimension: "user", Identity: "u", Limit: rate{100, time.Hour}}, {Dimension: "tenant", Identity: "t", Limit: rate{1000, time.Hour}}}
		var allowed atomic.Int64
		var wg sync.WaitGroup
		for range 8 {
			wg.Go(func() {
				for range 50 {
					v, err := s.take(context.Background(), checks)
					if err == nil && v.Allowed {
						allowed.Add(1)
					}
				}
			})
		}
		wg.Wait()
		assert.Equal(t, int64(100), allowed.Load(), alg.String())
	}
}

func TestRateLimiterBadConfig(t *testing.T) {
	cases := []struct{ name, cfg, key string }{
		{"bad by_user", `{"by_user":"30 per minute"}`, "by_user"},
		{"zero by_tenant", `{"by_tenant":"0/m"}`, "by_tenant"},
		{"by_user not a string", `{"by_user":30}`, "by_user"},
		{"by_tool not a mapping", `{"by_tool":["search"]}`, "by_tool"},
		{"bad by_tool rate", `{"by_tool":{"search":"10/d"}}`, "by_tool.search"},
		{"duplicate by_tool after normalising", `{"by_tool":{"Search":"1/m","search ":"2/m"}}`, "by_tool.search "},
		{"blank by_tool name", `{"by_tool":{" ":"1/m"}}`, "by_tool. "},
		{"unknown algorithm", `{"algorithm":"leaky_bucket"}`, "algorithm"},
		{"unknown backend", `{"backend":"memcached"}`, "backend"},
		{"redis without url", `{"backend":"redis"}`, "redis_url"},
		{"bad redis url", `{"backend":"redis","redis_url":"http://user:hunter2@h:1/0"}`, "redis_url"},
		{"empty prefix", `{"redis_key_prefix":""}`, "redis_key_prefix"},
		{"bad fail_mode", `{"fail_mode":"clsoed"}`, "fail_mode"},
		{"redis_fallback not a boolean", `{"redis_fallback":"yes"}`, "redis_fallback"},
		{"unknown key", `{"by_usr":"1/m"}`, "by_usr"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := guardbNew("builtin/rate_limiter", []string{"tool_pre_invoke"}, guardbYAMLish(t, tc.cfg))
			var ce *ConfigError
			require.True(t, errors.As(err, &ce), "%v", err)
			assert.Equal(t, tc.key, ce.Key, "%v", err)
			assert.NotContains(t, err.Error(), "hunter2", "passwords are redacted")
		})
	}
	t.Run("enumerations ignore case and blanks; empty means the default", func(t *testing.T) {
		p := rlBuild(t, `{"algorithm":" Token_Bucket ","backend":"MEMORY","fail_mode":""}`, newRLClock())
		assert.Equal(t, tokenBucket, p.cfg.algorithm)
		assert.Equal(t, "memory", p.cfg.Backend)
		assert.Equal(t, "open", p.cfg.FailMode)
		p = rlBuild(t, `{"algorithm":"","backend":"","fail_mode":"Closed"}`, newRLClock())
		assert.Equal(t, fixedWindow, p.cfg.algorithm)
		assert.Equal(t, "memory", p.cfg.Backend)
		assert.Equal(t, "closed", p.cfg.FailMode)
	})
	t.Run("unsupported hook", func(t *testing.T) {
		_, err := guardbNew("builtin/rate_limiter", []string{"tool_post_invoke"}, nil)
		require.ErrorIs(t, err, ErrConfig)
	})
	t.Run("the gateway's config loads unchanged", func(t *testing.T) {
		p, err := guardbNew("builtin/rate_limiter", []string{"prompt_pre_fetch", "tool_pre_invoke"}, guardbYAMLish(t,
			`{"backend":"redis","redis_url":"redis://127.0.0.1:1/0","redis_key_prefix":"rl","redis_fallback":true,
			  "algorithm":"fixed_window","by_user":"30/m","by_tenant":"3000/m","by_tool":{}}`))
		require.NoError(t, err)
		require.NoError(t, p.(core.Shutdowner).Shutdown(context.Background()))
	})
}
