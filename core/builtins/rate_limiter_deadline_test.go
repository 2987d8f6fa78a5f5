package builtins

import (
	"bytes"
	"context"
	"log/slog"
	"net"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/cpex-go/cpex/core"
)

// rlSilentRedis is a "Redis" that accepts connections, reads what it is sent and never
// answers (a hung server, a black-holed proxy). got is signalled on the first bytes.
func rlSilentRedis(t testing.TB) (url string, got <-chan struct{}) {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	signal := make(chan struct{})
	var once sync.Once
	var mu sync.Mutex
	var conns []net.Conn
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			conns = append(conns, c)
			mu.Unlock()
			go func() {
				buf := make([]byte, 4096)
				for {
					if _, err := c.Read(buf); err != nil {
						return
					}
					once.Do(func() { close(signal) })
				}
			}()
		}
	}()
	t.Cleanup(func() {
		_ = l.Close()
		mu.Lock()
		for _, c := range conns {
			_ = c.Close()
		}
		mu.Unlock()
	})
	return "redis://" + l.Addr().String() + "/0", signal
}

// Every Redis call ends at the caller's deadline (issue 10, item 3): go-redis used to
// wait its 1 s read timeout whatever the context said, and then reported a socket
// timeout rather than the context's. The elapsed time is logged, not asserted.
func TestRedisSilentServerHonoursTheDeadline(t *testing.T) {
	for _, alg := range []rateAlgorithm{fixedWindow, tokenBucket, slidingWindow} {
		t.Run(alg.String(), func(t *testing.T) {
			url, _ := rlSilentRedis(t)
			s := rlUnboundedStore(t, alg, url)
			ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
			defer cancel()
			start := time.Now()
			err := rlTakeOrHang(t, s, ctx)
			t.Logf("%s: returned after %.3f s (timeout 0.2 s)", alg, time.Since(start).Seconds())
			require.ErrorIs(t, err, context.DeadlineExceeded)
		})
	}
}

// A caller that gives up (cancellation without a deadline) is not kept waiting for Redis.
func TestRedisSilentServerHonoursCancellation(t *testing.T) {
	url, got := rlSilentRedis(t)
	s := rlUnboundedStore(t, fixedWindow, url)
	ctx, cancel := context.WithCancel(context.Background())
	go func() { <-got; cancel() }()
	require.ErrorIs(t, rlTakeOrHang(t, s, ctx), context.Canceled)
}

// rlUnboundedStore is a Redis store whose socket reads and writes have no timeout of
// their own, so only the context can end a call to a silent server (with the 1 s read
// timeout, the old code also returned, only late).
func rlUnboundedStore(t *testing.T, alg rateAlgorithm, url string) *redisRateStore {
	t.Helper()
	s, err := newRedisRateStore(alg, url, "rl")
	require.NoError(t, err)
	opts := s.client.Options()
	require.NoError(t, s.client.Close())
	opts.ReadTimeout, opts.WriteTimeout = -1, -1
	s.client = redis.NewClient(opts)
	t.Cleanup(func() { _ = s.close() })
	return s
}

// rlTakeOrHang takes one unit for a user, failing the test (instead of hanging the
// suite) if the call ignores its context for a whole minute.
func rlTakeOrHang(t *testing.T, s *redisRateStore, ctx context.Context) error {
	t.Helper()
	ch := make(chan error, 1)
	go func() {
		_, err := s.take(ctx, []rateCheck{{Dimension: "user", Identity: "u", Limit: rate{1, time.Minute}}})
		ch <- err
	}()
	select {
	case err := <-ch:
		return err
	case <-time.After(time.Minute):
		t.Fatal("the Redis call ignored its context")
		return nil
	}
}

// A silent Redis ends in the plugin's own verdict before the executor's deadline:
// fail_mode and redis_fallback decide, not on_error (which under ignore would allow a
// request that fail_mode: closed must block). The timeout (0.6 s) is below go-redis's
// 1 s read timeout, which the old code waited for.
func TestRedisSilentServerGivesAVerdictBeforeTheDeadline(t *testing.T) {
	for _, alg := range []string{"fixed_window", "token_bucket", "sliding_window"} {
		t.Run(alg, func(t *testing.T) {
			url, _ := rlSilentRedis(t)
			call := func(extra string) (*core.Result, error) {
				p := rlBuild(t, `{"backend":"redis","redis_url":"`+url+`","by_user":"1/m","algorithm":"`+alg+`"`+extra+`}`, newRLClock())
				return core.CallPlugin(context.Background(), p, "tool_pre_invoke",
					core.NewPayloadValue(map[string]any{"name": "x"}), &core.PluginContext{User: "u"}, 600*time.Millisecond)
			}
			res, err := call(`,"fail_mode":"closed"`)
			require.NoError(t, err, "a verdict, not the executor's timeout")
			require.NotNil(t, res)
			assert.True(t, res.Block)
			assert.Equal(t, "BACKEND_UNAVAILABLE", res.Violation.Code)

			res, err = call(`,"fail_mode":"open"`)
			require.NoError(t, err)
			require.NotNil(t, res)
			assert.False(t, res.Block)
			assert.Equal(t, "open", res.Metadata["rate_limiter"].(map[string]any)["fail_mode"])

			res, err = call(`,"fail_mode":"closed","redis_fallback":true`)
			require.NoError(t, err)
			assert.True(t, res == nil || !res.Block, "the fallback counts the first request in memory")
		})
	}
}

func TestRedisLogsGoToSlog(t *testing.T) {
	var buf bytes.Buffer
	prev := slog.Default()
	slog.SetDefault(slog.New(slog.NewTextHandler(&buf, nil)))
	t.Cleanup(func() { slog.SetDefault(prev) })
	redisLogger{}.Printf(context.Background(), "redis: failed to close connection: %v", "boom")
	assert.Contains(t, buf.String(), `level=WARN msg="failed to close connection: boom" component=go-redis`)
}
