package builtins

import (
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/cpex-go/cpex/core"
)

// rlRedis starts a private redis-server on a free loopback port, in a temp dir, for one
// test, and stops it at cleanup. It skips the test, saying why, only when redis-server is
// not installed or cannot start (scripts/ensure-redis.sh installs it when run as root).
func rlRedis(t testing.TB) string {
	t.Helper()
	bin, err := exec.LookPath("redis-server")
	if err != nil {
		t.Skip("redis-server is not installed (run scripts/ensure-redis.sh as root to install Debian's package); skipping the Redis backend tests")
	}
	dir := t.TempDir()
	for attempt := 0; attempt < 3; attempt++ {
		port := rlFreePort(t)
		cmd := exec.Command(bin, "--port", strconv.Itoa(port), "--bind", "127.0.0.1",
			"--dir", dir, "--save", "", "--appendonly", "no", "--daemonize", "no",
			"--logfile", filepath.Join(dir, "redis.log"))
		if err := cmd.Start(); err != nil {
			t.Skipf("redis-server cannot start (%v); skipping the Redis backend tests", err)
		}
		exited := make(chan struct{})
		go func() { _ = cmd.Wait(); close(exited) }()
		stop := func() {
			_ = cmd.Process.Kill()
			<-exited
		}
		addr := fmt.Sprintf("127.0.0.1:%d", port)
		if rlWaitRedis(addr, exited) {
			t.Cleanup(stop)
			return "redis://" + addr + "/0"
		}
		stop() // most likely the port was taken between probe and start: try another
	}
	log, _ := os.ReadFile(filepath.Join(dir, "redis.log"))
	t.Skipf("redis-server did not come up; skipping the Redis backend tests. Its log:\n%s", log)
	return ""
}

func rlFreePort(t testing.TB) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	port := l.Addr().(*net.TCPAddr).Port
	require.NoError(t, l.Close())
	return port
}

// rlWaitRedis polls until the server answers PING (setup only, never an assertion).
func rlWaitRedis(addr string, exited <-chan struct{}) bool {
	c := redis.NewClient(&redis.Options{Addr: addr, MaxRetries: -1})
	defer c.Close()
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		select {
		case <-exited:
			return false
		default:
		}
		if c.Ping(context.Background()).Err() == nil {
			return true
		}
		time.Sleep(20 * time.Millisecond)
	}
	return false
}

func rlRedisClient(t testing.TB, url string) *redis.Client {
	opts, err := redis.ParseURL(url)
	require.NoError(t, err)
	c := redis.NewClient(opts)
	t.Cleanup(func() { _ = c.Close() })
	return c
}

func TestRedisStoreAllOrNothing(t *testing.T) {
	url := rlRedis(t)
	for _, alg := range []rateAlgorithm{fixedWindow, tokenBucket, slidingWindow} {
		s, err := newRedisRateStore(alg, url, "aon")
		require.NoError(t, err)
		rlStoreAllOrNothing(t, s)
		require.NoError(t, s.close())
	}
}

func TestRedisIdentitiesAreExact(t *testing.T) {
	url := rlRedis(t)
	for _, alg := range []string{"fixed_window", "token_bucket", "sliding_window"} {
		t.Run(alg, func(t *testing.T) {
			rlCheckDistinctUsers(t, rlBuild(t, `{"backend":"redis","redis_url":"`+url+`","redis_key_prefix":"id-`+alg+
				`","by_user":"2/m","algorithm":"`+alg+`"}`, newRLClock()))
		})
	}
}

func TestRedisReplicasShareOneLimit(t *testing.T) {
	url := rlRedis(t)
	for _, alg := range []string{"fixed_window", "token_bucket", "sliding_window"} {
		t.Run(alg, func(t *testing.T) {
			cfg := `{"backend":"redis","redis_url":"` + url + `","redis_key_prefix":"` + alg +
				`","algorithm":"` + alg + `","by_user":"5/h","by_tenant":"7/h","by_tool":{"search":"6/h"}}`
			// Two plugin instances = two gateway replicas.
			a := rlBuild(t, cfg, newRLClock())
			b := rlBuild(t, cfg, newRLClock())
			assert.Equal(t, 3, rlAllowed(t, a, 3, "u", "T", "search"))
			assert.Equal(t, 2, rlAllowed(t, b, 3, "u", "T", "search"), "replica b sees replica a's 3 requests")
			res := rlCall(t, a, "u", "T", "search")
			require.NotNil(t, res)
			v := res.Violation
			assert.Equal(t, "RATE_LIMIT", v.Code)
			assert.Equal(t, 429, *v.HTTPStatusCode)
			assert.Equal(t, "user", v.Details["dimension"])
			assert.Equal(t, "redis", v.Details["backend"])
			assert.Equal(t, alg, v.Details["algorithm"])
			retry, err := strconv.Atoi(v.HTTPHeaders["Retry-After"])
			require.NoError(t, err)
			// fixed and sliding window: the rest of the hour; token bucket: one token = 12 minutes.
			want := map[string]int{"fixed_window": 3600, "token_bucket": 720, "sliding_window": 3600}[alg]
			// (a wide margin: Redis's clock runs while the test does)
			assert.InDelta(t, want, retry, 60)
			assert.InDelta(t, want*1000, res.RetryDelayMs, 60_000)

			// Another user of the tenant: the 6th search passes, then the tool limit (6)
			// is reached, then the tenant's (7).
			assert.Nil(t, rlCall(t, b, "w", "T", "search"))
			res = rlCall(t, b, "w", "T", "search")
			require.NotNil(t, res)
			assert.Equal(t, "tool", res.Violation.Details["dimension"])
			assert.Nil(t, rlCall(t, b, "w", "T", "other"))
			res = rlCall(t, a, "x", "T", "other")
			require.NotNil(t, res)
			assert.Equal(t, "tenant", res.Violation.Details["dimension"])
		})
	}
}

func TestRedisKeysExpire(t *testing.T) {
	url := rlRedis(t)
	client := rlRedisClient(t, url)
	ctx := context.Background()
	for _, alg := range []string{"fixed_window", "token_bucket", "sliding_window"} {
		p := rlBuild(t, `{"backend":"redis","redis_url":"`+url+`","algorithm":"`+alg+`","by_user":"2/m","redis_key_prefix":"gw-`+alg+`"}`, newRLClock())
		assert.Nil(t, rlCall(t, p, "ttl-user", "Ten", "x"))
		keys, err := client.Keys(ctx, "gw-"+alg+":*").Result()
		require.NoError(t, err)
		key := rateKey("gw-"+alg, "Ten", "user", "ttl-user", rate{2, time.Minute}, p.cfg.algorithm)
		assert.Equal(t, []string{key}, keys, "one key, under redis_key_prefix")
		ttl, err := client.PTTL(ctx, key).Result()
		require.NoError(t, err)
		assert.Greater(t, ttl, time.Duration(0), "%s: %s has an expiry", alg, key)
		assert.LessOrEqual(t, ttl, time.Minute, alg)
	}
}

func TestRedisFixedWindowReopensWhenTheKeyExpires(t *testing.T) {
	url := rlRedis(t)
	client := rlRedisClient(t, url)
	p := rlBuild(t, `{"backend":"redis","redis_url":"`+url+`","by_user":"1/h"}`, newRLClock())
	assert.Nil(t, rlCall(t, p, "u", "", "x"))
	assert.NotNil(t, rlCall(t, p, "u", "", "x"))
	// End the window now instead of waiting an hour.
	key := rateKey("rl", "", "user", "u", rate{1, time.Hour}, fixedWindow)
	require.NoError(t, client.Del(context.Background(), key).Err())
	assert.Nil(t, rlCall(t, p, "u", "", "x"))
}

func TestRedisExactUnderConcurrency(t *testing.T) {
	url := rlRedis(t)
	for _, alg := range []rateAlgorithm{fixedWindow, tokenBucket, slidingWindow} {
		s, err := newRedisRateStore(alg, url, "conc")
		require.NoError(t, err)
		checks := []rateCheck{{Dimension: "user", Identity: "u", Limit: rate{40, time.Hour}}}
		var allowed atomic.Int64
		var wg sync.WaitGroup
		for range 6 {
			wg.Go(func() {
				for range 15 {
					v, err := s.take(context.Background(), checks)
					if err == nil && v.Allowed {
						allowed.Add(1)
					}
				}
			})
		}
		wg.Wait()
		assert.Equal(t, int64(40), allowed.Load(), alg.String())
		require.NoError(t, s.close())
	}
}

func TestRedisUnavailable(t *testing.T) {
	// A port nothing listens on: connection refused at once.
	down := fmt.Sprintf("redis://127.0.0.1:%d/0", rlFreePort(t))
	t.Run("fail open by default", func(t *testing.T) {
		p := rlBuild(t, `{"backend":"redis","redis_url":"`+down+`","by_user":"1/m"}`, newRLClock())
		for range 3 {
			res := rlCall(t, p, "u", "", "x")
			require.NotNil(t, res)
			assert.False(t, res.Block)
			assert.Nil(t, res.Violation)
			assert.Equal(t, "open", res.Metadata["rate_limiter"].(map[string]any)["fail_mode"])
		}
	})
	t.Run("fail closed", func(t *testing.T) {
		p := rlBuild(t, `{"backend":"redis","redis_url":"`+down+`","by_user":"1/m","fail_mode":"closed"}`, newRLClock())
		res := rlCall(t, p, "u", "", "x")
		require.NotNil(t, res)
		assert.True(t, res.Block)
		assert.Equal(t, "BACKEND_UNAVAILABLE", res.Violation.Code)
		assert.Equal(t, 503, *res.Violation.HTTPStatusCode)
		assert.Equal(t, "1", res.Violation.HTTPHeaders["Retry-After"])
		assert.Equal(t, 1000, res.RetryDelayMs)
	})
	t.Run("fallback counts in memory", func(t *testing.T) {
		p := rlBuild(t, `{"backend":"redis","redis_url":"`+down+`","by_user":"2/m","redis_fallback":true,"fail_mode":"closed"}`, newRLClock())
		assert.Equal(t, 2, rlAllowed(t, p, 3, "u", "", "x"))
		res := rlCall(t, p, "u", "", "x")
		require.NotNil(t, res)
		assert.Equal(t, "RATE_LIMIT", res.Violation.Code)
		assert.Equal(t, "memory", res.Violation.Details["backend"])
	})
	t.Run("a cancelled call is the executor's timeout, not a verdict", func(t *testing.T) {
		p := rlBuild(t, `{"backend":"redis","redis_url":"`+down+`","by_user":"2/m"}`, newRLClock())
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		_, err := p.Invoke(ctx, "tool_pre_invoke", core.NewPayloadValue(map[string]any{"name": "x"}), &core.PluginContext{User: "u"})
		require.ErrorIs(t, err, context.Canceled)
	})
}
