package builtins

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/redis/go-redis/v9"
)

// The Redis backend keeps every counter in Redis and updates all the counters of one
// request in one Lua script, so the check-then-take is atomic across every replica that
// shares the server: N replicas enforce one limit, not N limits. One round trip per
// request (EVALSHA; go-redis falls back to EVAL once when the server lost the script).
//
// Both scripts take KEYS[i] with ARGV[2i-1] = the limit's count and ARGV[2i] = its window
// in milliseconds, and answer {allowed (0|1), denied index (1-based, 0 if allowed),
// wait ms, remaining, reset ms}; they mirror rateStep.

// redisFixedWindowScript: a counter per key that expires one window after its first
// request (INCR + PEXPIRE).
var redisFixedWindowScript = redis.NewScript(`
local worst, worst_wait = 0, -1
for i = 1, #KEYS do
  local used = tonumber(redis.call('GET', KEYS[i]) or '0')
  if used >= tonumber(ARGV[2*i-1]) then
    local ttl = redis.call('PTTL', KEYS[i])
    if ttl < 0 then
      -- a counter without expiry (written by hand): give it one so it cannot block forever
      ttl = tonumber(ARGV[2*i])
      redis.call('PEXPIRE', KEYS[i], ttl)
    end
    if ttl > worst_wait then worst, worst_wait = i, ttl end
  end
end
if worst > 0 then return {0, worst, worst_wait, 0, 0} end
local min_left, reset = -1, 0
for i = 1, #KEYS do
  local used = redis.call('INCR', KEYS[i])
  local ttl = redis.call('PTTL', KEYS[i])
  if ttl < 0 then
    ttl = tonumber(ARGV[2*i])
    redis.call('PEXPIRE', KEYS[i], ttl)
  end
  local left = tonumber(ARGV[2*i-1]) - used
  if min_left < 0 or left < min_left then min_left, reset = left, ttl end
end
return {1, 0, 0, min_left, reset}
`)

// redisTokenBucketScript: a hash {t = tokens, ts = last refill in ms} per key, refilled
// from the server's clock (TIME), so replicas with skewed clocks still agree. The key
// expires when the bucket would be full again (an absent key is a full bucket).
var redisTokenBucketScript = redis.NewScript(`
local now_parts = redis.call('TIME')
local now = tonumber(now_parts[1]) * 1000 + math.floor(tonumber(now_parts[2]) / 1000)
local tokens = {}
local worst, worst_wait = 0, -1
for i = 1, #KEYS do
  local cap = tonumber(ARGV[2*i-1])
  local per_ms = cap / tonumber(ARGV[2*i])
  local state = redis.call('HMGET', KEYS[i], 't', 'ts')
  local t, ts = tonumber(state[1]), tonumber(state[2])
  if t == nil or ts == nil then
    t = cap
  elseif now > ts then
    t = math.min(cap, t + (now - ts) * per_ms)
  end
  tokens[i] = t
  if t < 1 then
    local wait = math.ceil((1 - t) / per_ms)
    if wait > worst_wait then worst, worst_wait = i, wait end
  end
end
if worst > 0 then return {0, worst, worst_wait, 0, 0} end
local min_left, reset = -1, 0
for i = 1, #KEYS do
  local cap = tonumber(ARGV[2*i-1])
  local per_ms = cap / tonumber(ARGV[2*i])
  local t = tokens[i] - 1
  local full = math.ceil((cap - t) / per_ms)
  redis.call('HSET', KEYS[i], 't', tostring(t), 'ts', tostring(now))
  redis.call('PEXPIRE', KEYS[i], full)
  local left = math.floor(t)
  if min_left < 0 or left < min_left then min_left, reset = left, full end
end
return {1, 0, 0, min_left, reset}
`)

// redisSlidingWindowScript: a sorted set per key of the counted requests, scored by the
// server's clock in microseconds; members are made unique by the caller's nonce (the
// last ARGV), since two requests can share a microsecond.
var redisSlidingWindowScript = redis.NewScript(`
local now_parts = redis.call('TIME')
local now = tonumber(now_parts[1]) * 1000000 + tonumber(now_parts[2])
local worst, worst_wait = 0, -1
for i = 1, #KEYS do
  local win = tonumber(ARGV[2*i]) * 1000
  redis.call('ZREMRANGEBYSCORE', KEYS[i], '-inf', now - win)
  if redis.call('ZCARD', KEYS[i]) >= tonumber(ARGV[2*i-1]) then
    local oldest = redis.call('ZRANGE', KEYS[i], 0, 0, 'WITHSCORES')
    local wait = math.ceil((tonumber(oldest[2]) + win - now) / 1000)
    if wait > worst_wait then worst, worst_wait = i, wait end
  end
end
if worst > 0 then return {0, worst, worst_wait, 0, 0} end
local nonce = ARGV[#ARGV]
local min_left, reset = -1, 0
for i = 1, #KEYS do
  local win_ms = tonumber(ARGV[2*i])
  redis.call('ZADD', KEYS[i], now, now .. ':' .. nonce .. ':' .. i)
  redis.call('PEXPIRE', KEYS[i], win_ms)
  local left = tonumber(ARGV[2*i-1]) - redis.call('ZCARD', KEYS[i])
  if min_left < 0 or left < min_left then min_left, reset = left, win_ms end
end
return {1, 0, 0, min_left, reset}
`)

// go-redis writes its own diagnostics (a connection it could not close, a failed
// handshake option) to stderr through a logger of its own; route them to slog's default
// logger, where the built-ins log (a Go service that installs another go-redis logger
// after init keeps its own).
func init() { redis.SetLogger(redisLogger{}) }

// redisLogger adapts slog to go-redis's logging interface. Its lines are warnings:
// go-redis logs only what went wrong.
type redisLogger struct{}

func (redisLogger) Printf(ctx context.Context, format string, v ...any) {
	slog.Default().WarnContext(ctx, strings.TrimPrefix(fmt.Sprintf(format, v...), "redis: "), "component", "go-redis")
}

// redisRateStore is the shared backend.
type redisRateStore struct {
	alg    rateAlgorithm
	client *redis.Client
	script *redis.Script
	prefix string        // redis_key_prefix
	nonce  string        // this store's random id (sliding window members)
	seq    atomic.Uint64 // calls of this store (sliding window members)
}

// newRedisRateStore parses url (redis://, rediss:// for TLS, unix://) and prepares a
// client. It does not connect: the first request does, and a Redis that is down at load
// time is handled like one that goes down later (fail_mode / redis_fallback), because the
// gateway rebuilds its managers every 30 s and must not fail to load while Redis restarts.
func newRedisRateStore(alg rateAlgorithm, url, prefix string) (*redisRateStore, error) {
	opts, err := redis.ParseURL(url)
	if err != nil {
		return nil, err
	}
	// A guard sits on the request path: fail fast rather than queue behind a dead server.
	opts.DialTimeout = 2 * time.Second
	opts.ReadTimeout = time.Second
	opts.WriteTimeout = time.Second
	// Every socket read and write ends at the call's deadline too (go-redis otherwise
	// waits the full ReadTimeout whatever the context says, issue 10 item 3).
	opts.ContextTimeoutEnabled = true
	opts.MaxRetries = 1    // one retry covers a pooled connection the server closed
	opts.DialerRetries = 1 // a refused dial fails the call now, not after 5 backed-off dials
	script := redisFixedWindowScript
	switch alg {
	case tokenBucket:
		script = redisTokenBucketScript
	case slidingWindow:
		script = redisSlidingWindowScript
	}
	var id [8]byte
	_, _ = rand.Read(id[:]) // never fails (crypto/rand panics on a broken system source)
	return &redisRateStore{alg: alg, client: redis.NewClient(opts), script: script, prefix: prefix, nonce: hex.EncodeToString(id[:])}, nil
}

func (s *redisRateStore) name() string { return "redis" }
func (s *redisRateStore) close() error { return s.client.Close() }

func (s *redisRateStore) take(ctx context.Context, checks []rateCheck) (rateVerdict, error) {
	keys := make([]string, len(checks))
	args := make([]any, 0, 2*len(checks)+1)
	for i, c := range checks {
		keys[i] = rateKey(s.prefix, c.Scope, c.Dimension, c.Identity, c.Limit, s.alg)
		args = append(args, c.Limit.Count, c.Limit.Window.Milliseconds())
	}
	if s.alg == slidingWindow {
		args = append(args, s.nonce+"-"+strconv.FormatUint(s.seq.Add(1), 10))
	}
	res, err := s.run(ctx, keys, args)
	if err != nil {
		return rateVerdict{}, &errRateBackend{err: err}
	}
	if len(res) != 5 {
		return rateVerdict{}, &errRateBackend{err: fmt.Errorf("script answered %d values, want 5", len(res))}
	}
	if res[0] == 1 {
		return rateVerdict{Allowed: true, Denied: -1, Remaining: res[3], Reset: time.Duration(res[4]) * time.Millisecond}, nil
	}
	denied := int(res[1]) - 1
	if denied < 0 || denied >= len(checks) {
		return rateVerdict{}, &errRateBackend{err: fmt.Errorf("script denied check %s of %d", strconv.FormatInt(res[1], 10), len(checks))}
	}
	wait := time.Duration(res[2]) * time.Millisecond
	return rateVerdict{Denied: denied, RetryAfter: wait, Reset: wait}, nil
}

// run evaluates the script, bounded by ctx. go-redis applies a context's deadline to
// its socket reads and writes (ContextTimeoutEnabled) but not its cancellation: when
// ctx can be cancelled, the call runs on a goroutine and run returns as soon as ctx is
// done; the abandoned call ends by itself at its socket deadline (at most ReadTimeout)
// and returns its connection to the pool. An error once ctx is done wraps ctx.Err(), so
// callers can tell "the caller gave up" from "Redis failed".
func (s *redisRateStore) run(ctx context.Context, keys []string, args []any) ([]int64, error) {
	done := ctx.Done()
	if done == nil {
		return s.script.Run(ctx, s.client, keys, args...).Int64Slice()
	}
	type answer struct {
		res []int64
		err error
	}
	ch := make(chan answer, 1)
	go func() {
		res, err := s.script.Run(ctx, s.client, keys, args...).Int64Slice()
		ch <- answer{res, err}
	}()
	select {
	case a := <-ch:
		if a.err != nil && ctx.Err() != nil {
			return nil, fmt.Errorf("%w (%v)", ctx.Err(), a.err)
		}
		return a.res, a.err
	case <-done:
		return nil, ctx.Err()
	}
}
