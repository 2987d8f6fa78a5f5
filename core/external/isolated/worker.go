package isolated

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os/exec"
	"regexp"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
)

// stderrKeep is how much of a worker's stderr is kept to explain its death.
const stderrKeep = 4096

// errWorkerGone: the worker exited or its stream is unusable; the message says why.
type errWorkerGone struct{ msg string }

func (e *errWorkerGone) Error() string { return e.msg }

// worker is one running worker process. Calls are multiplexed by request_id: send
// writes a whole line under wmu, then waits on its own channel with no lock held.
type worker struct {
	cmd     *exec.Cmd
	stdin   io.WriteCloser
	maxLine int // max_content_size: the longest line accepted in either direction

	wmu sync.Mutex // serialises writes of whole lines

	mu      sync.Mutex
	pending map[string]chan answer
	dead    error  // set once, when the reader stops
	noise   string // the last line that was not protocol JSON (quoted)

	done   chan struct{} // closed when the reader stops
	exited chan struct{} // closed when the process has been reaped
	stderr *tailBuffer
	seq    atomic.Uint64
	prefix string
}

var workerSeq atomic.Uint64

// startWorker runs argv (the venv's interpreter and its worker module) in dir with env.
func startWorker(argv []string, dir string, env []string, maxLine int) (*worker, error) {
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Dir, cmd.Env = dir, env
	// A grandchild holding stderr open must not keep Wait (and so stop) from returning.
	cmd.WaitDelay = 2 * time.Second
	stdin, err := cmd.StdinPipe()
	if err != nil {
		return nil, err
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	w := &worker{cmd: cmd, stdin: stdin, maxLine: maxLine, pending: map[string]chan answer{},
		done: make(chan struct{}), exited: make(chan struct{}), stderr: &tailBuffer{max: stderrKeep},
		prefix: fmt.Sprintf("w%d-", workerSeq.Add(1))}
	cmd.Stderr = w.stderr
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("starting the worker %s: %w", argv[0], err)
	}
	go w.read(stdout)
	return w, nil
}

func (w *worker) nextID() string { return w.prefix + strconv.FormatUint(w.seq.Add(1), 10) }

// requestIDTail finds the request_id of a line from its last bytes (an oversized
// answer is drained, not parsed; the worker writes request_id last).
var requestIDTail = regexp.MustCompile(`"request_id"\s*:\s*"([^"\\]{1,200})"\s*}\s*$`)

// read demultiplexes answers until the stream ends or desynchronises.
func (w *worker) read(stdout io.Reader) {
	br := bufio.NewReaderSize(stdout, 64*1024)
	var cause error
	for {
		line, over, tailBytes, err := readLine(br, w.maxLine)
		if err != nil {
			cause = fmt.Errorf("worker exited (%v)", err)
			break
		}
		if over {
			if m := requestIDTail.FindSubmatch(tailBytes); m != nil {
				w.deliver(string(m[1]), answer{id: string(m[1]), tooLarge: true})
				continue
			}
			cause = fmt.Errorf("worker sent a line longer than max_content_size (%d bytes) without a request_id", w.maxLine)
			break
		}
		line = bytes.TrimSpace(line)
		if len(line) == 0 {
			continue
		}
		a, err := decodeAnswer(line)
		if err != nil {
			// Not protocol JSON: a plugin printing to stdout (upstream's worker lets it)
			// or a broken worker. Skipped, as upstream's host does; kept to explain a
			// call that then gets no answer.
			w.mu.Lock()
			w.noise = clip(line)
			w.mu.Unlock()
			continue
		}
		if a.id == "" || !w.deliver(a.id, a) {
			continue // unknown id: a call that timed out, or the worker's "unknown" error
		}
	}
	w.stop(cause)
}

func (w *worker) deliver(id string, a answer) bool {
	w.mu.Lock()
	ch, ok := w.pending[id]
	delete(w.pending, id)
	w.mu.Unlock()
	if ok {
		ch <- a
	}
	return ok
}

// stop marks the worker dead with cause, fails every pending call and reaps it.
func (w *worker) stop(cause error) {
	w.mu.Lock()
	if w.dead != nil {
		w.mu.Unlock()
		return
	}
	_ = w.stdin.Close()
	if w.cmd.Process != nil {
		_ = w.cmd.Process.Kill()
	}
	werr := w.cmd.Wait()
	close(w.exited)
	msg := cause.Error()
	if werr != nil && !errors.Is(werr, context.Canceled) {
		msg += "; " + werr.Error()
	}
	if s := w.stderr.String(); s != "" {
		msg += "; stderr: " + tail([]byte(s), 6)
	}
	w.dead = &errWorkerGone{msg: msg}
	pending := w.pending
	w.pending = nil
	w.mu.Unlock()
	close(w.done)
	for _, ch := range pending {
		close(ch)
	}
}

// alive: the reader still runs.
func (w *worker) alive() bool {
	select {
	case <-w.done:
		return false
	default:
		return true
	}
}

func (w *worker) deadErr() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.dead
}

// call sends one task (line built by mk from its request id) and waits for its answer
// until ctx ends.
func (w *worker) call(ctx context.Context, mk func(id string) ([]byte, error)) (answer, error) {
	id := w.nextID()
	line, err := mk(id)
	if err != nil {
		return answer{}, err
	}
	if w.maxLine > 0 && len(line) > w.maxLine {
		return answer{}, &errTooLarge{size: len(line), max: w.maxLine}
	}
	ch := make(chan answer, 1)
	w.mu.Lock()
	if w.dead != nil {
		w.mu.Unlock()
		return answer{}, w.dead
	}
	w.pending[id] = ch
	w.mu.Unlock()
	w.wmu.Lock()
	_, err = w.stdin.Write(append(line, '\n'))
	w.wmu.Unlock()
	if err != nil {
		w.forget(id)
		<-w.waitDone(50 * time.Millisecond)
		if d := w.deadErr(); d != nil {
			return answer{}, d
		}
		return answer{}, &errWorkerGone{msg: fmt.Sprintf("writing to the worker: %v", err)}
	}
	select {
	case a, ok := <-ch:
		if !ok {
			return answer{}, w.deadErr()
		}
		return a, nil
	case <-ctx.Done():
		w.forget(id)
		return answer{}, ctx.Err()
	}
}

// waitDone gives the reader a moment to record why a write failed (the process died).
func (w *worker) waitDone(d time.Duration) <-chan struct{} {
	out := make(chan struct{})
	go func() {
		select {
		case <-w.done:
		case <-time.After(d):
		}
		close(out)
	}()
	return out
}

// lastNoise is the last non-protocol line the worker wrote ("" if none).
func (w *worker) lastNoise() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.noise
}

func (w *worker) forget(id string) {
	w.mu.Lock()
	if w.pending != nil {
		delete(w.pending, id)
	}
	w.mu.Unlock()
}

// shutdown asks the worker to stop (the shutdown task, then closed stdin) and kills it
// if it has not exited within grace.
func (w *worker) shutdown(grace time.Duration) {
	if w.alive() {
		// The shutdown task, then EOF: either makes a worker exit; its answer is not
		// awaited (a silent worker must not hold shutdown up for long).
		if line, err := marshal(controlTask{TaskType: taskShutdown, RequestID: w.nextID()}); err == nil {
			w.wmu.Lock()
			_, _ = w.stdin.Write(append(line, '\n'))
			_ = w.stdin.Close()
			w.wmu.Unlock()
		}
		select {
		case <-w.done:
		case <-time.After(grace):
		}
	}
	w.stop(errors.New("worker shut down"))
}

type errTooLarge struct{ size, max int }

func (e *errTooLarge) Error() string {
	return fmt.Sprintf("task of %d bytes exceeds max_content_size (%d)", e.size, e.max)
}

// readLine reads one line of at most max bytes (0: unbounded). A longer line is
// drained and reported as over, with its last bytes (to recover its request_id).
func readLine(br *bufio.Reader, max int) (line []byte, over bool, last []byte, err error) {
	var buf []byte
	for {
		chunk, isPrefix, err := br.ReadLine()
		if err != nil {
			if len(buf) > 0 && err == io.EOF {
				return buf, false, nil, nil
			}
			return nil, false, nil, err
		}
		if over {
			last = appendTail(last, chunk, 512)
		} else {
			buf = append(buf, chunk...)
			if max > 0 && len(buf) > max {
				over = true
				last = appendTail(nil, buf, 512)
				buf = nil
			}
		}
		if !isPrefix {
			if over {
				return nil, true, last, nil
			}
			return buf, false, nil, nil
		}
	}
}

func appendTail(dst, src []byte, n int) []byte {
	dst = append(dst, src...)
	if len(dst) > n {
		dst = append([]byte(nil), dst[len(dst)-n:]...)
	}
	return dst
}

// tailBuffer keeps the last max bytes written to it.
type tailBuffer struct {
	mu  sync.Mutex
	max int
	b   []byte
}

func (t *tailBuffer) Write(p []byte) (int, error) {
	t.mu.Lock()
	t.b = appendTail(t.b, p, t.max)
	t.mu.Unlock()
	return len(p), nil
}

func (t *tailBuffer) String() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	return string(t.b)
}
