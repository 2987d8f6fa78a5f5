package builtins

import (
	"context"
	"fmt"
	"time"
)

// rateAlgorithm is how a limit counts requests.
type rateAlgorithm int

const (
	// fixedWindow counts requests in a window that opens at the first request of a key
	// and lasts the rate's window; the count resets when it closes. Cheapest; allows up
	// to 2×N in a short span around a window boundary.
	fixedWindow rateAlgorithm = iota
	// tokenBucket holds up to N tokens, refilled continuously at N per window; each
	// request takes one. Allows bursts up to N, then a steady N per window.
	tokenBucket
	// slidingWindow keeps the time of each counted request and allows one more when
	// fewer than N fall within the last window: exact, no boundary burst, but one
	// timestamp per counted request of the window is stored per key.
	slidingWindow
)

var rateAlgorithms = map[string]rateAlgorithm{"fixed_window": fixedWindow, "token_bucket": tokenBucket, "sliding_window": slidingWindow}

func (a rateAlgorithm) String() string {
	switch a {
	case tokenBucket:
		return "token_bucket"
	case slidingWindow:
		return "sliding_window"
	}
	return "fixed_window"
}

// rateCheck is one dimension of one request: which counter, and its limit. The counter
// is (Dimension, Scope, Identity, Limit.Window); each backend derives its own key from
// them (the memory backend a struct, no allocation; Redis a string, see rateKey).
type rateCheck struct {
	Dimension string // "user", "tenant" or "tool"
	Scope     string // the tenant the counter belongs to ("" without a tenant)
	Identity  string // the user id, tenant id or tool name
	Limit     rate
}

// rateVerdict is a backend's answer for all the checks of one request.
type rateVerdict struct {
	Allowed bool
	// Denied is the index of the check that refused the request (the one that frees up
	// last, so Retry-After is honest), or -1 when allowed.
	Denied int
	// RetryAfter is how long until the denied dimension has room again.
	RetryAfter time.Duration
	// Remaining is the smallest number of requests left over the checks after this one
	// (allowed requests only), and Reset how long until that dimension is fully reset.
	Remaining int64
	Reset     time.Duration
}

// rateStore is a backend. take is all-or-nothing: it checks every limit and consumes one
// unit from each only when all of them allow the request, atomically with respect to
// other callers (of this process for memory, of every replica for Redis), so a request
// refused by its tenant's limit does not also use up its user's quota.
type rateStore interface {
	take(ctx context.Context, checks []rateCheck) (rateVerdict, error)
	close() error
	name() string
}

// errRateBackend wraps backend failures (Redis unreachable, script error).
type errRateBackend struct{ err error }

func (e *errRateBackend) Error() string { return fmt.Sprintf("rate limiter backend: %v", e.err) }
func (e *errRateBackend) Unwrap() error { return e.err }
