package builtins

import (
	"errors"
	"testing"
	"time"

	"github.com/cpex-go/cpex/core/builtins/pdptest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestPDPCacheKeysOnTheWholeInput(t *testing.T) {
	c, err := NewPDPCache(&PDPConfig{CacheTTLSeconds: 60, CacheSize: 2})
	require.NoError(t, err)
	now := time.Unix(1000, 0)
	c.now = func() time.Time { return now }
	evals := 0
	decide := func(in map[string]any, allow bool) PDPDecision {
		d, err := c.Decide(in, func() (PDPDecision, error) { evals++; return PDPDecision{Allow: allow}, nil })
		require.NoError(t, err)
		return d
	}
	in := func(user, req string) map[string]any {
		return map[string]any{"hook": "tool_pre_invoke", "payload": map[string]any{"name": "t"}, "user": user, "request_id": req}
	}
	assert.True(t, decide(in("alice", "r1"), true).Allow)
	assert.True(t, decide(in("alice", "r1"), false).Allow, "a hit returns the cached decision")
	assert.Equal(t, 1, evals)
	assert.False(t, decide(in("bob", "r1"), false).Allow, "another user is another key")
	assert.True(t, decide(in("alice", "r2"), true).Allow, "another request id is another key")
	assert.Equal(t, 3, evals)
	// The expiry, on the injected clock.
	now = now.Add(61 * time.Second)
	decide(in("alice", "r2"), true)
	assert.Equal(t, 4, evals)
	// Errors are never cached.
	_, err = c.Decide(in("eve", "r"), func() (PDPDecision, error) { return PDPDecision{}, errors.New("boom") })
	require.Error(t, err)
	decide(in("eve", "r"), true)
	assert.Equal(t, 5, evals)
}

func TestPDPCacheIgnoreRequestID(t *testing.T) {
	c, err := NewPDPCache(&PDPConfig{CacheTTLSeconds: 1, CacheIgnoreRequestID: true})
	require.NoError(t, err)
	evals := 0
	for _, req := range []string{"r1", "r2", "r3"} {
		_, err := c.Decide(map[string]any{"user": "a", "request_id": req}, func() (PDPDecision, error) { evals++; return PDPDecision{}, nil })
		require.NoError(t, err)
	}
	assert.Equal(t, 1, evals)
}

func TestPDPCacheConfig(t *testing.T) {
	c, err := NewPDPCache(&PDPConfig{})
	require.NoError(t, err)
	assert.Nil(t, c, "off by default")
	_, err = pdptest.New(t, "builtin/pdp_cel", map[string]any{"policy": "true", "cache_ttl_seconds": -1})
	assert.ErrorContains(t, err, `config key "cache_ttl_seconds" (value -1): must be >= 0`)
	// A cached engine decides as an uncached one.
	p, err := pdptest.New(t, "builtin/pdp_cedar", map[string]any{"policy": rbacCedar, "cache_ttl_seconds": 30})
	require.NoError(t, err)
	for range 2 {
		for _, tc := range pdptest.RBACCases {
			r, err := pdptest.Call(t, p, map[string]any{"name": tc.Tool, "args": map[string]any{}}, tc.User, tc.Tenant)
			require.NoError(t, err)
			assert.Equal(t, tc.Allow, r == nil, tc.Name)
		}
	}
}
