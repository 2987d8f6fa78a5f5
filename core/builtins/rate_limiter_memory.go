package builtins

import (
	"context"
	"hash/maphash"
	"math"
	"slices"
	"sync"
	"sync/atomic"
	"time"
)

// rateEntry is the state of one counter key. Fixed window: n requests counted in the
// window that ends at `at`. Token bucket: `tokens` left at time `at` (the last refill).
// Sliding window: the times of the requests counted in the last window, oldest first.
// expiry is when the entry becomes equivalent to no entry at all, so the sweep may drop it.
type rateEntry struct {
	n      int64
	tokens float64
	at     int64   // unix nanoseconds
	log    []int64 // unix nanoseconds
	expiry int64   // unix nanoseconds
}

// rateStep applies one request to the state e of a key under limit lim at time now
// (unix ns). It returns the state after taking one unit (meaningful only when ok), whether
// the request fits, how long to wait when it does not, and the requests left and the time
// until a full reset when it does. It is a pure function, shared by the memory backend and
// mirrored by the Redis scripts, so both backends count the same way.
func rateStep(alg rateAlgorithm, e rateEntry, exists bool, lim rate, now int64) (next rateEntry, ok bool, wait time.Duration, remaining int64, reset time.Duration) {
	win := lim.Window.Nanoseconds()
	if alg == slidingWindow {
		// Drop the requests that left the window. Re-slicing never writes to the stored
		// entry's array, and append only writes past its length, so a refused request
		// (whose next state is not stored) leaves the stored state intact.
		k := 0
		for k < len(e.log) && e.log[k] <= now-win {
			k++
		}
		e.log = e.log[k:]
		if int64(len(e.log)) >= lim.Count {
			return e, false, time.Duration(e.log[0] + win - now), 0, 0
		}
		e.log = append(e.log, now)
		e.expiry = now + win
		return e, true, 0, lim.Count - int64(len(e.log)), time.Duration(win)
	}
	if alg == tokenBucket {
		capacity := float64(lim.Count)
		perNs := capacity / float64(win)
		if !exists {
			e = rateEntry{tokens: capacity, at: now}
		} else if elapsed := now - e.at; elapsed > 0 {
			e.tokens = math.Min(capacity, e.tokens+float64(elapsed)*perNs)
			e.at = now
		}
		if e.tokens < 1 {
			return e, false, time.Duration(math.Ceil((1 - e.tokens) / perNs)), 0, 0
		}
		e.tokens--
		full := time.Duration(math.Ceil((capacity - e.tokens) / perNs))
		e.expiry = now + int64(full)
		return e, true, 0, int64(e.tokens), full
	}
	if !exists || now >= e.at {
		e = rateEntry{at: now + win}
	}
	if e.n >= lim.Count {
		return e, false, time.Duration(e.at - now), 0, 0
	}
	e.n++
	e.expiry = e.at
	return e, true, 0, lim.Count - e.n, time.Duration(e.at - now)
}

// memoryRateShards spreads keys over independently locked maps so that requests of
// different users do not contend on one mutex.
const memoryRateShards = 32

// memorySweepEvery: every shard's expired keys are dropped once per memorySweepEvery
// takes, the shards in turn (one every memorySweepEvery/memoryRateShards takes). Amortised
// cleanup with no background goroutine to stop; idle shards are swept too.
const memorySweepEvery = 1024

type memoryRateShard struct {
	mu      sync.Mutex
	entries map[memoryRateKey]*rateEntry // pointers: one hash lookup per check, updates in place
}

// memoryRateKey identifies a counter without building a string per request.
type memoryRateKey struct {
	dimension, scope, identity string
	window                     time.Duration
}

func memoryKeyOf(c *rateCheck) memoryRateKey {
	return memoryRateKey{c.Dimension, c.Scope, c.Identity, c.Limit.Window}
}

// memoryRateStore is the in-process backend: exact and fast, but each process (each
// gateway replica or worker) counts on its own.
type memoryRateStore struct {
	alg    rateAlgorithm
	now    func() time.Time
	seed   maphash.Seed
	takes  atomic.Uint64
	shards [memoryRateShards]memoryRateShard
}

func newMemoryRateStore(alg rateAlgorithm, now func() time.Time) *memoryRateStore {
	if now == nil {
		now = time.Now
	}
	s := &memoryRateStore{alg: alg, now: now, seed: maphash.MakeSeed()}
	for i := range s.shards {
		s.shards[i].entries = make(map[memoryRateKey]*rateEntry)
	}
	return s
}

func (s *memoryRateStore) name() string { return "memory" }
func (s *memoryRateStore) close() error { return nil }

func (s *memoryRateStore) take(_ context.Context, checks []rateCheck) (rateVerdict, error) {
	// A request has at most a handful of checks (user, tenant, tool): keep the
	// bookkeeping on the stack.
	var shardBuf, lockBuf [4]int
	var nextBuf [4]rateEntry
	var curBuf [4]*rateEntry
	shardOf := shardBuf[:0]
	next := nextBuf[:0]
	cur := curBuf[:0]
	for i := range checks {
		// The shard follows the identity alone (one string to hash, not the whole key).
		shardOf = append(shardOf, int(maphash.String(s.seed, checks[i].Identity)%memoryRateShards))
	}
	// Lock every shard involved, in index order, so that two requests sharing keys
	// cannot deadlock and the check-then-take of all dimensions is atomic.
	locked := append(lockBuf[:0], shardOf...)
	slices.Sort(locked)
	locked = slices.Compact(locked)
	if n := s.takes.Add(1); n%(memorySweepEvery/memoryRateShards) == 0 {
		s.shards[(n/(memorySweepEvery/memoryRateShards))%memoryRateShards].sweep(s.now().UnixNano())
	}
	for _, i := range locked {
		s.shards[i].mu.Lock()
	}
	defer func() {
		for _, i := range locked {
			s.shards[i].mu.Unlock()
		}
	}()
	// Read the clock under the locks: the times of one key's requests then never go
	// backwards (the sliding window's log stays sorted).
	now := s.now().UnixNano()

	v := rateVerdict{Allowed: true, Denied: -1, Remaining: math.MaxInt64}
	for i, c := range checks {
		e := s.shards[shardOf[i]].entries[memoryKeyOf(&c)]
		var state rateEntry
		if e != nil {
			state = *e
		}
		n, ok, wait, remaining, reset := rateStep(s.alg, state, e != nil, c.Limit, now)
		next, cur = append(next, n), append(cur, e)
		switch {
		case !ok:
			if v.Allowed || wait > v.RetryAfter {
				v.Allowed, v.Denied, v.RetryAfter = false, i, wait
			}
		case v.Allowed && remaining < v.Remaining:
			v.Remaining, v.Reset = remaining, reset
		}
	}
	if !v.Allowed {
		v.Remaining, v.Reset = 0, v.RetryAfter
		return v, nil
	}
	for i := range checks {
		if cur[i] != nil {
			*cur[i] = next[i]
		} else {
			n := next[i]
			s.shards[shardOf[i]].entries[memoryKeyOf(&checks[i])] = &n
		}
	}
	return v, nil
}

// sweep drops the shard's expired entries.
func (sh *memoryRateShard) sweep(now int64) {
	sh.mu.Lock()
	defer sh.mu.Unlock()
	for k, e := range sh.entries {
		if e.expiry <= now {
			delete(sh.entries, k)
		}
	}
}

// size reports how many keys the store holds (tests check that the sweep bounds memory).
func (s *memoryRateStore) size() int {
	n := 0
	for i := range s.shards {
		s.shards[i].mu.Lock()
		n += len(s.shards[i].entries)
		s.shards[i].mu.Unlock()
	}
	return n
}
