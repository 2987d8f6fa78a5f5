package builtins

import (
	"crypto/sha256"
	"encoding/json"
	"sync"
	"time"
)

// PDPCache memoises decisions for `cache_ttl_seconds` (0: off, the default). The key is
// the SHA-256 of the whole input document as canonical JSON (encoding/json sorts map
// keys), so two calls share a decision only when everything the policy can see is
// identical: hook, payload, user, tenant, server and request id. Including the request id
// makes the cache per request by default; `cache_ignore_request_id: true` drops it from
// the key, for policies that never read it. Bounded to `cache_size` entries: a full cache
// is cleared (cheap, and a policy cache refills at the engine's speed).
type PDPCache struct {
	ttl             time.Duration
	max             int
	ignoreRequestID bool
	now             func() time.Time // the tests' clock

	mu      sync.Mutex
	entries map[[sha256.Size]byte]pdpCacheEntry
}

type pdpCacheEntry struct {
	d       PDPDecision
	expires time.Time
}

const pdpDefaultCacheSize = 10_000

func NewPDPCache(cfg *PDPConfig) (*PDPCache, error) {
	if cfg.CacheTTLSeconds < 0 {
		return nil, NewConfigError("cache_ttl_seconds", cfg.CacheTTLSeconds, "must be >= 0 (0 disables the cache)")
	}
	if cfg.CacheSize < 0 {
		return nil, NewConfigError("cache_size", cfg.CacheSize, "must be >= 0 (0 means %d)", pdpDefaultCacheSize)
	}
	if cfg.CacheTTLSeconds == 0 {
		return nil, nil
	}
	size := cfg.CacheSize
	if size == 0 {
		size = pdpDefaultCacheSize
	}
	return &PDPCache{
		ttl: time.Duration(cfg.CacheTTLSeconds * float64(time.Second)), max: size,
		ignoreRequestID: cfg.CacheIgnoreRequestID, now: time.Now,
		entries: make(map[[sha256.Size]byte]pdpCacheEntry),
	}, nil
}

// key hashes the input; ok is false when the input does not encode (no caching then).
func (c *PDPCache) key(in map[string]any) (k [sha256.Size]byte, ok bool) {
	doc := in
	if c.ignoreRequestID {
		doc = make(map[string]any, len(in))
		for key, v := range in {
			if key != "request_id" {
				doc[key] = v
			}
		}
	}
	b, err := json.Marshal(doc)
	if err != nil {
		return k, false
	}
	return sha256.Sum256(b), true
}

func (c *PDPCache) get(k [sha256.Size]byte) (PDPDecision, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.entries[k]
	if !ok || !c.now().Before(e.expires) {
		return PDPDecision{}, false
	}
	return e.d, true
}

func (c *PDPCache) put(k [sha256.Size]byte, d PDPDecision) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.entries) >= c.max {
		clear(c.entries)
	}
	c.entries[k] = pdpCacheEntry{d: d, expires: c.now().Add(c.ttl)}
}

// Decide returns the cached decision for in, or evaluates and caches it. A nil cache
// always evaluates. Errors are never cached.
func (c *PDPCache) Decide(in map[string]any, eval func() (PDPDecision, error)) (PDPDecision, error) {
	if c == nil {
		return eval()
	}
	k, ok := c.key(in)
	if ok {
		if d, hit := c.get(k); hit {
			return d, nil
		}
	}
	d, err := eval()
	if err == nil && ok {
		c.put(k, d)
	}
	return d, err
}
