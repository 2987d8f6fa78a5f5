package pybind

import (
	"fmt"
	"runtime"
	"strings"
	"sync"
	"unsafe"
)

// Big payloads cross by address on the off-loop path (RunGoStart, RunGoFrame*), not as
// gopy strings: gopy copies a string argument into the Go heap on the caller's thread
// (for 1 MB, 0.1–0.2 ms of the event loop's thread, and the allocation that starts or
// assists a Go collection: the 1–5 ms worst stalls of bench/loopstall.py), and copies a
// returned string twice more there (C.CString, then the str). Here the goroutine makes
// the one copy of the payload, and Python copies the new payload out of Go memory once.

// maxBorrow bounds the length of a borrowed buffer (a Python bytes object: its size fits
// an int, and the core's payloads are far smaller).
const maxBorrow = 1 << 40

// borrowed is a read-only view of n bytes at addr that the caller owns: a Python bytes
// object (immutable), which the driver keeps alive until the Go work signalled its fd
// (python/cpex/framework/_gowait.py keeps a reference until the byte is read).
type borrowed struct {
	addr uintptr
	n    int
}

func borrow(fn string, addr, n int) (borrowed, error) {
	if n < 0 || n > maxBorrow {
		return borrowed{}, fmt.Errorf("%s: n: want a length from 0 to %d, got %d", fn, int64(maxBorrow), n)
	}
	if addr == 0 && n > 0 {
		return borrowed{}, fmt.Errorf("%s: addr: 0 for %d bytes (pass the address of the payload's bytes)", fn, n)
	}
	if addr < 0 {
		return borrowed{}, fmt.Errorf("%s: addr: want an address, got %d", fn, addr)
	}
	return borrowed{addr: uintptr(addr), n: n}, nil
}

// text copies the bytes into a Go string (the payload then lives in the Go heap: the
// decoded tree's strings are substrings of it, and records may keep some after the
// caller let its buffer go). Call it once, first thing on the goroutine.
func (b borrowed) text() string {
	if b.n == 0 {
		return ""
	}
	// Reinterpreting the integer's bits, not converting a uintptr expression: the address
	// is not Go memory and no Go pointer arithmetic produced it (go vet's unsafeptr rule
	// is about the latter).
	p := *(*unsafe.Pointer)(unsafe.Pointer(&b.addr))
	return strings.Clone(unsafe.String((*byte)(p), b.n))
}

// heldFrame is the payload frame of a RunGoFinish answer, pinned (runtime.Pinner: the
// collector neither frees nor moves it) until RunGoFrameRelease or RunAbort, so Python
// can copy it from its address.
type heldFrame struct {
	text string
	pin  runtime.Pinner
}

var frames = struct {
	mu sync.Mutex
	m  map[int]*heldFrame
}{m: map[int]*heldFrame{}}

func holdFrame(run int, text string) {
	h := &heldFrame{text: text}
	h.pin.Pin(unsafe.StringData(text))
	frames.mu.Lock()
	old := frames.m[run]
	frames.m[run] = h
	frames.mu.Unlock()
	if old != nil { // never released (a driver bug): not pinned forever
		old.pin.Unpin()
	}
}

// frameHeld is the frame held for run, nil when none.
func frameHeld(run int) *heldFrame {
	frames.mu.Lock()
	defer frames.mu.Unlock()
	return frames.m[run]
}

func heldFrameOf(fn string, run int) (*heldFrame, error) {
	h := frameHeld(run)
	if h == nil {
		return nil, fmt.Errorf("%s: run %d: no payload frame is held (RunGoFinish answered none, or it was released)", fn, run)
	}
	return h, nil
}

func releaseFrame(run int) bool {
	frames.mu.Lock()
	h := frames.m[run]
	delete(frames.m, run)
	frames.mu.Unlock()
	if h == nil {
		return false
	}
	h.pin.Unpin()
	return true
}

// RunGoFrame answers the length in bytes of the payload frame RunGoFinish held for run
// (0: its answer had none).
func RunGoFrame(run int) (_ int, err error) {
	defer guard("RunGoFrame", &err)
	h := frameHeld(run)
	if h == nil {
		return 0, nil
	}
	return len(h.text), nil
}

// RunGoFrameAt answers the address of the held frame's first byte: readable for
// RunGoFrame's length until RunGoFrameRelease (or RunAbort) for the run.
func RunGoFrameAt(run int) (_ int, err error) {
	defer guard("RunGoFrameAt", &err)
	h, err := heldFrameOf("RunGoFrameAt", run)
	if err != nil {
		return 0, err
	}
	return int(uintptr(unsafe.Pointer(unsafe.StringData(h.text)))), nil
}

// RunGoFrameRelease forgets the held frame of run (its address is no longer readable);
// answers 1 if one was held.
func RunGoFrameRelease(run int) (_ int, err error) {
	defer guard("RunGoFrameRelease", &err)
	if releaseFrame(run) {
		return 1, nil
	}
	return 0, nil
}
