package pybind

import (
	"os"
	"strings"
	"sync"
	"testing"
	"unsafe"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// lent keeps the payload buffers the tests lend to RunGoStart alive (the driver keeps
// its bytes until the done byte; a test process simply keeps them all).
var lent struct {
	mu   sync.Mutex
	bufs [][]byte
}

func lend(payload string) (addr, n int) {
	b := []byte(payload)
	lent.mu.Lock()
	lent.bufs = append(lent.bufs, b)
	lent.mu.Unlock()
	if len(b) == 0 {
		return 0, 0
	}
	return int(uintptr(unsafe.Pointer(&b[0]))), len(b)
}

// goStart is RunGoStart with a payload given as text, as the driver lends its bytes.
func goStart(run int, payload string, fd int) (int, error) {
	addr, n := lend(payload)
	return RunGoStart(run, addr, n, fd)
}

// goFinish is RunGoFinish's answer with its held frame read back from its address, as
// the driver reads it: RunGo's whole answer.
func goFinish(run int) (string, error) {
	head, err := RunGoFinish(run)
	if err != nil {
		return head, err
	}
	n, err := RunGoFrame(run)
	if err != nil || n == 0 {
		return head, err
	}
	at, err := RunGoFrameAt(run)
	if err != nil {
		return "", err
	}
	frame := strings.Clone(unsafe.String((*byte)(*(*unsafe.Pointer)(unsafe.Pointer(&at))), n))
	if k, _ := RunGoFrameRelease(run); k != 1 {
		panic("goFinish: the frame was not held")
	}
	return head + "\n" + frame, nil
}

func TestBorrowRefusesBadBuffers(t *testing.T) {
	for _, tc := range []struct {
		name    string
		addr, n int
		want    []string
	}{
		{"negative length", 4096, -1, []string{"RunGoStart", "n:", "-1"}},
		{"huge length", 4096, maxBorrow + 1, []string{"RunGoStart", "n:"}},
		{"null address", 0, 10, []string{"RunGoStart", "addr: 0 for 10 bytes"}},
		{"negative address", -8, 10, []string{"RunGoStart", "addr", "-8"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := borrow("RunGoStart", tc.addr, tc.n)
			require.Error(t, err)
			for _, s := range tc.want {
				assert.ErrorContains(t, err, s)
			}
		})
	}
	b, err := borrow("RunGoStart", 0, 0)
	require.NoError(t, err)
	assert.Equal(t, "", b.text(), "an empty payload reads nothing")
}

func TestBorrowedTextIsACopy(t *testing.T) {
	src := []byte(`{"name":"x","args":{"q":"é\u2028"}}`)
	b, err := borrow("RunGoStart", int(uintptr(unsafe.Pointer(&src[0]))), len(src))
	require.NoError(t, err)
	got := b.text()
	assert.Equal(t, string(src), got)
	src[2] = 'N' // the lender may reuse its buffer once the text is made
	assert.Equal(t, byte('n'), got[2])
}

func TestFramesAreHeldUntilReleased(t *testing.T) {
	const run = -424242 // no real run has a negative id
	n, err := RunGoFrame(run)
	require.NoError(t, err)
	assert.Equal(t, 0, n, "no frame held: length 0")
	_, err = RunGoFrameAt(run)
	require.ErrorContains(t, err, "RunGoFrameAt: run -424242: no payload frame is held")

	holdFrame(run, strings.Repeat("ab", 40000)+"!")
	holdFrame(run, `{"name":"new"}`) // a frame never released is replaced (and unpinned)
	n, err = RunGoFrame(run)
	require.NoError(t, err)
	assert.Equal(t, len(`{"name":"new"}`), n)
	at, err := RunGoFrameAt(run)
	require.NoError(t, err)
	assert.Equal(t, `{"name":"new"}`, unsafe.String((*byte)(*(*unsafe.Pointer)(unsafe.Pointer(&at))), n))
	k, err := RunGoFrameRelease(run)
	require.NoError(t, err)
	assert.Equal(t, 1, k)
	k, err = RunGoFrameRelease(run)
	require.NoError(t, err)
	assert.Equal(t, 0, k, "released once")
	holdFrame(run, "x")
	_, err = RunAbort(run)
	require.NoError(t, err)
	n, _ = RunGoFrame(run)
	assert.Equal(t, 0, n, "RunAbort releases a held frame")
}

// FuzzRunGoStartByAddress: a payload lent by address answers exactly what RunGo answers
// for the same text (invalid JSON included: the same refusal), and nothing stays held.
func FuzzRunGoStartByAddress(f *testing.F) {
	exec := mustExec(f)
	rr, err := GoPluginNew(`{"name":"rr","kind":"builtin/regex_replace","hooks":["tool_pre_invoke"],"config":{"words":[{"search":"crap","replace":"crud"}]}}`)
	require.NoError(f, err)
	f.Cleanup(func() { _, _ = GoPluginRelease(rr) })
	p := plan(f, exec, "tool_pre_invoke", "null", mustRef(f, "rr", "transform", "fail", 1, rr))
	for _, s := range []string{`{"name":"x","args":{"q":"crap"}}`, `{"name":"é","args":{"q":"漢字 crap \u2028"}}`, `{"a":"\ud800crap"}`, `{nope`, ``, `[]`, `"crap"`} {
		f.Add(s)
	}
	r, w, err := os.Pipe()
	require.NoError(f, err)
	f.Cleanup(func() { _ = r.Close(); _ = w.Close() })
	f.Fuzz(func(t *testing.T, payload string) {
		run, _ := goRun(t, p)
		want, wantErr := RunGo(run, payload)
		if wantErr == nil {
			run, _ = goRun(t, p)
		}
		_, err := goStart(run, payload, int(w.Fd()))
		require.NoError(t, err)
		var b [1]byte
		_, err = r.Read(b[:])
		require.NoError(t, err)
		got, gotErr := goFinish(run)
		if wantErr != nil {
			require.Error(t, gotErr)
			assert.Contains(t, gotErr.Error(), "payload: invalid JSON")
			_, _ = RunAbort(run)
		} else {
			require.NoError(t, gotErr)
			wantHead, wantFrame, _ := strings.Cut(want, "\n")
			gotHead, gotFrame, _ := strings.Cut(got, "\n")
			assert.Equal(t, wantFrame, gotFrame)
			assert.Equal(t, comparable(decode(t, wantHead)), comparable(decode(t, gotHead)))
		}
		n, _ := RunGoFrame(run)
		assert.Equal(t, 0, n)
	})
}
