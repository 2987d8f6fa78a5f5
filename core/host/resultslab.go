package host

import "sync"

// newResult returns a zero HookResult of the caller's own, carved out of a chunk of
// resultChunkLen results: one allocation per chunk instead of one per call. A call of a
// hook with no plugin allocates nothing else, and that allocation was two thirds of its
// cost. Every result is a distinct value nobody else holds (the caller may keep and
// change it); a chunk is held by one goroutine at a time (taken from a sync.Pool, put
// back while it has results left), so its index needs no atomics. The price: a result
// the caller keeps keeps its chunk (resultChunkLen × 80 bytes) alive.
func newResult() *HookResult {
	c, _ := resultChunks.Get().(*resultChunk)
	if c == nil {
		c = new(resultChunk)
	}
	r := &c.rs[c.next]
	c.next++
	if c.next < resultChunkLen {
		resultChunks.Put(c)
	}
	return r
}

// resultChunkLen: 16 results are 1280 bytes, one size class of the allocator.
const resultChunkLen = 16

type resultChunk struct {
	rs   [resultChunkLen]HookResult
	next int
}

var resultChunks sync.Pool
