package pybind

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/cpex-go/cpex/core"
	"github.com/cpex-go/cpex/internal/wirejson"
)

// Long or I/O-bound Go work completes off the caller's event loop (DESIGN.md, "The
// boundary"): a *Start function checks its input, starts the work on a goroutine and
// returns at once; the goroutine keeps the answer and writes one byte to a pipe the
// caller watches (asyncio's loop.add_reader); the caller then takes the answer with the
// matching *Finish. There are no Go→Python callbacks.

// goJob is started Go work; answer and err are written before done is closed.
type goJob struct {
	done   chan struct{}
	answer string
	err    error
	cancel context.CancelFunc // ends the work's context when its caller gives up (nil: a run's, see runContext)
}

// jobs holds started work by id (a run id, or a GoPluginInvokeStart id) until its Finish
// takes it, or RunAbort / an abandoned caller drops it.
var jobs = struct {
	mu sync.Mutex
	m  map[int]*goJob
}{m: map[int]*goJob{}}

// newJob registers work for id, writing to a duplicate of fd (so the caller may close its
// pipe at any time: a late byte then goes nowhere, never to a reused descriptor).
// cancel (may be nil) is the job's: dropJob calls it.
func newJob(fn string, id, fd int, cancel context.CancelFunc) (*goJob, int, error) {
	if fd < 0 {
		return nil, -1, fmt.Errorf("%s: fd: want the write end of a pipe, got %d", fn, fd)
	}
	wfd, err := syscall.Dup(fd)
	if err != nil {
		return nil, -1, fmt.Errorf("%s: fd %d: %w", fn, fd, err)
	}
	flags, _, errno := syscall.Syscall(syscall.SYS_FCNTL, uintptr(wfd), syscall.F_GETFL, 0)
	if errno != 0 || flags&syscall.O_ACCMODE == syscall.O_RDONLY {
		_ = syscall.Close(wfd)
		if errno != 0 {
			return nil, -1, fmt.Errorf("%s: fd %d: %w", fn, fd, errno)
		}
		return nil, -1, fmt.Errorf("%s: fd %d: not open for writing (pass the pipe's write end)", fn, fd)
	}
	j := &goJob{done: make(chan struct{}), cancel: cancel}
	jobs.mu.Lock()
	defer jobs.mu.Unlock()
	if _, busy := jobs.m[id]; busy {
		_ = syscall.Close(wfd)
		return nil, -1, fmt.Errorf("%s: %d: earlier work is still pending (call its Finish first)", fn, id)
	}
	jobs.m[id] = j
	return j, wfd, nil
}

// launch runs work on a goroutine; a panic becomes the job's error.
func (j *goJob) launch(fn string, wfd int, work func() (string, error)) {
	go func() {
		defer func() { _ = syscall.Close(wfd) }()
		func() {
			defer func() {
				if p := recover(); p != nil {
					j.err = fmt.Errorf("%s: internal error: %v", fn, p)
				}
			}()
			j.answer, j.err = work()
		}()
		close(j.done)
		for {
			// EAGAIN: the pipe already holds a byte, the reader wakes anyway; EPIPE: the
			// caller closed its pipe (its loop ended), nobody waits.
			if _, err := syscall.Write(wfd, []byte{1}); err != syscall.EINTR {
				return
			}
		}
	}()
}

// jobPending reports whether work started for id was not yet finished or dropped.
func jobPending(id int) bool {
	jobs.mu.Lock()
	_, ok := jobs.m[id]
	jobs.mu.Unlock()
	return ok
}

// dropJob forgets the work of id (its answer is dropped once it completes).
func dropJob(id int) bool {
	jobs.mu.Lock()
	j, ok := jobs.m[id]
	delete(jobs.m, id)
	jobs.mu.Unlock()
	if ok && j.cancel != nil {
		j.cancel() // the caller gave up: its Go work in flight stops
	}
	return ok
}

func finishJob(fn, what string, id int) (string, error) {
	jobs.mu.Lock()
	defer jobs.mu.Unlock()
	j := jobs.m[id]
	if j == nil {
		return "", fmt.Errorf("%s: %s %d: no started Go work (never started, already finished or aborted)", fn, what, id)
	}
	select {
	case <-j.done:
	default:
		return "", fmt.Errorf("%s: %s %d: the Go work is still running (wait until the fd is readable)", fn, what, id)
	}
	delete(jobs.m, id)
	return j.answer, j.err
}

// RunGoStart answers a go step like RunGo, off the caller's thread: it checks the run,
// starts the payload's copy, its check and the Go plugins on a goroutine and returns run
// (the caller's thread does only what costs no more for a large payload than for a small
// one). The payload is the n bytes at addr (gobuf.go): the caller keeps them alive and
// unchanged until the byte is written. When the work is done one byte is written to fd
// (the write end of a non-blocking pipe) and RunGoFinish answers. RunAbort meanwhile
// drops the answer and cancels the Go work's context.
func RunGoStart(run int, addr int, n int, fd int) (_ int, err error) {
	defer guard("RunGoStart", &err)
	in, err := borrow("RunGoStart", addr, n)
	if err != nil {
		return 0, err
	}
	re, err := goStepInput("RunGoStart", run, "", false)
	if err != nil {
		return 0, err
	}
	j, wfd, err := newJob("RunGoStart", run, fd, nil)
	if err != nil {
		return 0, err
	}
	re.mu.Lock() // handed to the goroutine: the run is busy until the Go work ends
	g := re.run.PendingGo()
	if g == nil {
		re.mu.Unlock()
		dropJob(run)
		_ = syscall.Close(wfd)
		return 0, fmt.Errorf("RunGoStart: run %d: no go step is pending", run)
	}
	j.launch("RunGoStart", wfd, func() (string, error) {
		defer re.mu.Unlock()
		payload := in.text() // first: the caller's bytes are only lent until the byte
		if err := checkJSON("RunGoFinish", run, payload); err != nil {
			return "", err // refused: the go step is still pending, as after a refused RunGo
		}
		return re.execGo("RunGoFinish", g, payload, -1)
	})
	return run, nil
}

// RunGoFinish answers the step that follows the go step started by RunGoStart, once its
// fd became readable: RunGo's answer without its payload frame (the header line). A
// frame is held for RunGoFrame, RunGoFrameAt and RunGoFrameRelease (gobuf.go).
func RunGoFinish(run int) (_ string, err error) {
	defer guard("RunGoFinish", &err)
	answer, err := finishJob("RunGoFinish", "run", run)
	if err != nil {
		return "", err
	}
	head, frame, _ := strings.Cut(answer, "\n")
	if frame != "" {
		holdFrame(run, frame)
	} else {
		releaseFrame(run)
	}
	return head, nil
}

// GoPluginAsync answers the payload JSON length from which Python calls the Go plugin id
// through GoPluginInvokeStart (offloop.go): 0 when it declares itself I/O-bound. It
// follows the plugin's measured cost: ask again before each call.
func GoPluginAsync(id int) (_ int, err error) {
	defer guard("GoPluginAsync", &err)
	st.mu.Lock()
	p := st.plugins[id]
	st.mu.Unlock()
	if p == nil {
		return 0, fmt.Errorf("GoPluginAsync: id: unknown Go plugin id %d", id)
	}
	return offLoopFrom(&p.cost, 1, core.IsBlocking(p.plugin)), nil
}

// GoPluginInvokeStart starts GoPluginInvoke on a goroutine; answers a job id for
// GoPluginInvokeFinish, which is callable once fd became readable.
func GoPluginInvokeStart(id int, hook string, payload string, facts string, fd int) (_ int, err error) {
	defer guard("GoPluginInvokeStart", &err)
	p, _, pc, timeout, err := goInvokeInput("GoPluginInvokeStart", id, payload, facts, false)
	if err != nil {
		return 0, err
	}
	st.mu.Lock()
	job := st.newID()
	st.mu.Unlock()
	ctx, cancel := context.WithCancel(context.Background())
	j, wfd, err := newJob("GoPluginInvokeStart", job, fd, cancel)
	if err != nil {
		cancel()
		return 0, err
	}
	j.launch("GoPluginInvokeStart", wfd, func() (string, error) {
		defer cancel()
		if !wirejson.ValidText(payload) {
			return "", fmt.Errorf("GoPluginInvokeFinish: payload: invalid JSON %s", clip(payload))
		}
		start := time.Now()
		defer func() { p.cost.Observe(len(payload), int64(time.Since(start))) }()
		return goInvoke(ctx, "GoPluginInvokeFinish", p, hook, payload, pc, timeout)
	})
	return job, nil
}

// GoPluginInvokeFinish answers what GoPluginInvoke would have for the job.
func GoPluginInvokeFinish(job int) (_ string, err error) {
	defer guard("GoPluginInvokeFinish", &err)
	return finishJob("GoPluginInvokeFinish", "job", job)
}

// GoPluginInvokeDrop forgets a job whose caller gave up (its answer is dropped, its Go
// plugin's context is cancelled); answers 1 if it was pending.
func GoPluginInvokeDrop(job int) (_ int, err error) {
	defer guard("GoPluginInvokeDrop", &err)
	if dropJob(job) {
		return 1, nil
	}
	return 0, nil
}
