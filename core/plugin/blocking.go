package plugin

// Blocking is implemented by Go plugins whose Invoke may wait on I/O (a network round
// trip, e.g. builtin/rate_limiter with its Redis backend). A foreign driver that awaits
// Go work on an event loop runs the go steps of such plugins off the loop
// (docs/protocol.md, "async" go steps), whatever the payload's size.
type Blocking interface {
	// Blocking reports whether this instance, as configured, may wait on I/O.
	Blocking() bool
}

// IsBlocking reports whether p declares itself I/O-bound.
func IsBlocking(p Plugin) bool {
	b, ok := p.(Blocking)
	return ok && b.Blocking()
}
