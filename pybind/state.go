package pybind

import (
	"fmt"
	"sync"

	"github.com/cpex-go/cpex/core"
	_ "github.com/cpex-go/cpex/core/builtins"         // registers the Go built-ins (kind builtin/<name>)
	_ "github.com/cpex-go/cpex/core/builtins/pdprego" // and builtin/pdp_rego, which links OPA
)

// Long-lived state lives here, keyed by int ids handed to Python (DESIGN.md: no Go
// struct crosses the boundary). One mutex guards the maps; a run has its own.
var st = state{
	executors: map[int]*executorEntry{},
	refs:      map[int]*refEntry{},
	plugins:   map[int]*goPluginEntry{},
	plans:     map[int]*planEntry{},
	runs:      map[int]*runEntry{},
}

type state struct {
	mu        sync.Mutex
	next      int
	executors map[int]*executorEntry
	refs      map[int]*refEntry
	plugins   map[int]*goPluginEntry
	plans     map[int]*planEntry
	runs      map[int]*runEntry
}

type executorEntry struct {
	id      int
	exec    *core.Executor
	plans   map[*core.Plan]int
	flushes uint64 // exec.PlanFlushes() when the host last emptied its cache
	handed  int    // plan answers given since (the host caches each one)
}

type refEntry struct {
	id    int
	ref   *core.Ref
	plans map[int]struct{} // plan ids using this ref
	cost  core.LoopCost    // of the go steps of its single runs (RunSingle)
}

type goPluginEntry struct {
	id     int
	name   string
	kind   string
	plugin core.Plugin
	cost   core.LoopCost // of its direct calls (GoPluginInvoke)
}

type planEntry struct {
	id     int
	exec   *executorEntry
	plan   *core.Plan
	refIDs []int // pybind ref id per plan index
	answer string
	costs  []core.LoopCost // of the go step that starts at each plan index
}

type runEntry struct {
	mu    sync.Mutex
	id    int
	run   *core.Run
	plan  *planEntry // nil for a single run
	refID int        // the single run's ref id
	viols map[int]*core.Violation
	// denials: the denial metadata of Go plugins' results, by index (a violation raised
	// for one of them carries it)
	denials map[int]map[string]any
	next    []core.BatchCall // scratch for a call step's "next"
	rc      runContext       // the parent of its Go plugins' contexts (runctx.go)
	goIn    *core.GoState    // the pending go step's context state (RunGoContext), nil for none
	// goLen is the length of the payload JSON of the go step being answered: a new
	// payload the answer carries is about as long (framed sizes its buffer by it).
	goLen int
}

func (s *state) newID() int {
	s.next++
	return s.next
}

func (s *state) executor(fn, field string, id int) (*executorEntry, error) {
	s.mu.Lock()
	e := s.executors[id]
	s.mu.Unlock()
	if e == nil {
		return nil, fmt.Errorf("%s: %s: unknown executor id %d", fn, field, id)
	}
	return e, nil
}

func (s *state) ref(fn, field string, id int) (*refEntry, error) {
	s.mu.Lock()
	r := s.refs[id]
	s.mu.Unlock()
	if r == nil {
		return nil, fmt.Errorf("%s: %s: unknown ref id %d", fn, field, id)
	}
	return r, nil
}

func (s *state) run(fn string, id int) (*runEntry, error) {
	s.mu.Lock()
	r := s.runs[id]
	s.mu.Unlock()
	if r == nil {
		return nil, fmt.Errorf("%s: run: unknown or finished run id %d", fn, id)
	}
	return r, nil
}

func (s *state) forgetRun(id int) {
	s.mu.Lock()
	delete(s.runs, id)
	s.mu.Unlock()
}

// guard turns a panic at the boundary into an error naming the function: a Go panic
// would take the Python host down with it.
func guard(fn string, err *error) {
	if p := recover(); p != nil {
		*err = fmt.Errorf("%s: internal error: %v", fn, p)
	}
}
