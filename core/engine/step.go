package engine

import "github.com/cpex-go/cpex/core/plugin"

// Op is what a step asks the driver to do (docs/protocol.md, "Steps"). Each Op has
// its own part of the Step, read through the accessor of the same name.
type Op uint8

// The step operations.
const (
	// OpCall: run one plugin with the timeout and report its Outcome (Step.Call).
	OpCall Op = iota + 1
	// OpConcurrent: start every plugin of a concurrent phase (bounded by its pool), report
	// each completion as it is consumed (Step.Concurrent).
	OpConcurrent
	// OpNext: keep consuming concurrent completions (no part of its own).
	OpNext
	// OpDone: the run ended with a result (Step.Done).
	OpDone
	// OpRaise: the run ended with an error (Step.Raise).
	OpRaise
	// OpGo: Go plugins come next in a run driven by a foreign host (Executor.Start): the
	// driver hands core the payload (host.ExecGo) and core runs them itself (Step.Go).
	OpGo
)

var opNames = [...]string{"", "call", "concurrent", "next", "done", "raise", "go"}

func (o Op) String() string {
	if int(o) < len(opNames) {
		return opNames[o]
	}
	return "?"
}

// RaiseKind says which error ends a run.
type RaiseKind uint8

// The errors a run can end with.
const (
	RaiseSize RaiseKind = iota + 1
	RaiseError
	RaiseTimeout
	RaiseViolation
	// RaisePluginTimeout: a single-plugin run timed out under on_error ignore/disable.
	RaisePluginTimeout
)

var raiseNames = [...]string{"", "size", "error", "timeout", "violation", "plugin_timeout"}

func (k RaiseKind) String() string {
	if int(k) < len(raiseNames) {
		return raiseNames[k]
	}
	return "?"
}

// LogEntry is a message the driver must log (logger cpex.framework.manager for Python).
type LogEntry struct {
	Level   string // debug, info, warning, error
	Message string
	// Logger names the Python logger of a message upstream emits from another module
	// (PolicyLogger); "" is the manager's logger.
	Logger string
}

// Step is one instruction of a run to its driver: a header every step has (the Op, the
// answer to the report that produced it, logs, span marks) and the part of its Op, read
// through the accessor named after the Op (Call, Concurrent, Go, Done, Raise), which
// panics for any other Op. A Run reuses one Step and writes an Op's part whole when it
// answers with that Op, so no part outlives its Op: consume a step before the next
// Report.
type Step struct {
	Op Op
	// Answer is set on steps that answer a report: then Commit says whether the
	// reported candidate payload becomes the current payload, CommitExt the same for
	// the returned modified extensions.
	Answer    bool
	Commit    bool
	CommitExt bool
	// Accept (with Commit, a reported ReturnedSameType under a policy): the candidate is
	// the input with these fields taken from the returned object; nil: the object whole.
	Accept []string
	Logs   []LogEntry
	// ChainSpan (first step of a traced run): start the hook-chain span with
	// Run.ChainSpanAttrs. ChainEnd (done): end it with Run.ChainEndAttrs.
	ChainSpan bool
	ChainEnd  bool

	call  CallStep
	conc  ConcurrentStep
	goes  GoStep
	done  DoneStep
	raise RaiseStep
}

// CallStep: run one plugin.
type CallStep struct {
	Index       int
	Timeout     float64
	TimeoutText string
	Merge       bool // merge the plugin's global state/metadata back on return
	Meta        bool // merge result metadata into the accumulator
	Apply       Apply
	Span        bool // wrap the call in a per-plugin span
	// Diff: a foreign driver reports the changed fields of a same-type returned payload
	// (Returned.Changed), because a policy will decide on them.
	Diff bool
}

// ConcurrentStep: start the plugins of the concurrent phase.
type ConcurrentStep struct {
	Indices     []int
	Pool        int // the caller's pool size (PoolBound gives the bound of the tasks)
	Timeout     float64
	TimeoutText string
	Span        bool
}

// GoStep: the Go plugins a foreign driver hands to core (host.ExecGo) on the
// current-or-original payload. It stands for the call (or concurrent step) the run
// reached, whose Go plugins core runs itself.
type GoStep struct {
	// Indices: the Go plugins that will run, in order: the consecutive Go plugins of
	// the serial phases from the awaited one on (the run may stop earlier: a block, an
	// error), or the Go plugins of the concurrent phase.
	Indices []int
	// Concurrent: the step stands for the concurrent phase; its foreign plugins follow
	// as a concurrent step once the Go ones are consumed.
	Concurrent bool
}

// SingleResult says what the result of a single-plugin run (StartSingle) is.
type SingleResult uint8

// The results of a single-plugin run.
const (
	// SingleNone: a chain run's done step.
	SingleNone SingleResult = iota
	// SinglePlugin: the plugin's own result, as it returned it.
	SinglePlugin
	// SingleEmpty: an empty default result (the plugin failed under ignore/disable).
	SingleEmpty
	// SingleNew: a new result of Continue, Payload (the plugin's modified payload),
	// Violation (its violation) and Denial (its denial metadata, for hosts that call a
	// blocker directly).
	SingleNew
)

// DoneStep: the run ended with a result.
type DoneStep struct {
	Continue bool
	// ViolationIndex: whose violation the result carries, -1 for none.
	ViolationIndex int
	Retry          int
	Payload        bool // the result carries the current payload (SingleNew: the plugin's)
	Ext            bool // the result carries the current extensions
	Decision       string
	FAF            []int // fire-and-forget plugins to spawn now
	// FAFCount: metrics are on, so the host reports every finished fire-and-forget task
	// (FireAndForgetDone), not only the failed ones.
	FAFCount bool
	Records  []plugin.ExecutionRecord
	Cancel   bool // cancel (and await) unfinished concurrent tasks first

	// Single: the result of a single-plugin run (SingleNone for a chain).
	Single    SingleResult
	Violation bool // SingleNew: carry the plugin's violation
	Denial    bool // SingleNew: carry its denial metadata
}

// RaiseStep: the run ended with the error of Kind with Message, naming the plugin at
// Index (-1: none).
type RaiseStep struct {
	Kind    RaiseKind
	Index   int
	Message string
	// Own: re-raise the exception the plugin raised itself instead; Cause: chain the
	// plugin's exception as the cause of the new one.
	Own     bool
	Cause   bool
	Records []plugin.ExecutionRecord // the records so far (violations only)
	Cancel  bool                     // cancel (and await) unfinished concurrent tasks first
}

// Call is the part of an OpCall step.
func (s *Step) Call() *CallStep { s.must(OpCall); return &s.call }

// Concurrent is the part of an OpConcurrent step.
func (s *Step) Concurrent() *ConcurrentStep { s.must(OpConcurrent); return &s.conc }

// Go is the part of an OpGo step.
func (s *Step) Go() *GoStep { s.must(OpGo); return &s.goes }

// Done is the part of an OpDone step.
func (s *Step) Done() *DoneStep { s.must(OpDone); return &s.done }

// Raise is the part of an OpRaise step.
func (s *Step) Raise() *RaiseStep { s.must(OpRaise); return &s.raise }

func (s *Step) must(op Op) {
	if s.Op != op {
		panic(&StepOpError{Want: op, Got: s.Op})
	}
}

// Cancels reports whether a run's final step cancels the unfinished concurrent tasks.
func Cancels(s *Step) bool {
	switch s.Op {
	case OpDone:
		return s.done.Cancel
	case OpRaise:
		return s.raise.Cancel
	}
	return false
}

// StepOpError is the panic of a step part read under another Op: a driver bug.
type StepOpError struct{ Want, Got Op }

func (e *StepOpError) Error() string {
	return "core: the " + e.Want.String() + " part of a " + e.Got.String() + " step"
}

// OutcomeStatus is how a plugin call ended.
type OutcomeStatus uint8

// The outcomes of a plugin call (docs/protocol.md "st").
const (
	// StatusOK: the hook returned a result.
	OutcomeOK OutcomeStatus = iota
	// OutcomeTimeout: it exceeded the timeout.
	OutcomeTimeout
	// OutcomeError: it raised (or returned) an ordinary error, or panicked.
	OutcomeError
	// OutcomePluginError: it raised a PluginError (re-raised unchanged under fail).
	OutcomePluginError
	// OutcomeViolationError: it raised a PluginViolationError (escapes as is).
	OutcomeViolationError
	// OutcomeTimeoutRaised: the plugin raised a TimeoutError itself (e.g. its own
	// asyncio.wait_for) before the executor's deadline. Run treats it as OutcomeTimeout:
	// upstream catches asyncio.TimeoutError around the call, whoever raised it.
	OutcomeTimeoutRaised

	outcomeLast = OutcomeTimeoutRaised // the highest valid status (range checks)
)

// asExecutorTimeout answers o, or a copy of it with OutcomeTimeout when the plugin
// raised a TimeoutError itself: the one place that decides what such a timeout means.
func asExecutorTimeout(o *Outcome) *Outcome {
	if o.Status != OutcomeTimeoutRaised {
		return o
	}
	c := *o
	c.Status = OutcomeTimeout
	return &c
}

// Mod classifies a returned modified payload (docs/protocol.md "mod").
type Mod uint8

// The five classes.
const (
	ModNone Mod = iota
	// ModCandidate: a candidate payload was computed.
	ModCandidate
	// ModRejected: the policy diff accepted nothing.
	ModRejected
	// ModOtherType: another payload type, accepted whole as the candidate.
	ModOtherType
	// ModIgnored: a modification that yields no candidate.
	ModIgnored
	// ModSame: the candidate is the very object already current (or the original when
	// nothing is current): accepted, but the payload did not change.
	ModSame
)

// ExtChange classifies returned modified extensions (docs/protocol.md "ext").
type ExtChange uint8

// The three classes.
const (
	ExtNone ExtChange = iota
	ExtSame
	ExtOther
)

// ViolationFacts are the parts of a violation the executor needs (records, messages).
type ViolationFacts struct {
	Reason      string
	Code        string
	Description string
}

// Outcome is what a driver reports after a plugin call.
type Outcome struct {
	Index    int
	Status   OutcomeStatus
	Continue bool
	// Mod: set by the Go host (which builds its candidate itself); a foreign driver
	// reports Ret instead and Report derives Mod from it (classifyReturned).
	Mod Mod
	Ret Returned
	Ext ExtChange
	// HasViolation: the result (or the raised violation error) carried a violation.
	HasViolation bool
	Violation    ViolationFacts
	Retry        int
	DurationNs   int64
	// Message: the error's text (for a foreign driver, ExceptionText of its two texts).
	Message string

	// Err is the Go plugin's own error, kept by the Go host for the error it returns
	// (an error it raised itself escapes as is); the rules never read it.
	Err error
}

// hasCandidate reports whether the outcome computed a candidate payload.
func (o *Outcome) hasCandidate() bool {
	return o.Mod == ModCandidate || o.Mod == ModOtherType || o.Mod == ModSame
}

// ExceptionText picks the text of a foreign plugin's exception that the executor
// quotes (records, logs, the PluginError message): the exception's own message (str)
// for the framework's errors, which carry one meant for the caller, and its repr for
// any other exception, whose class name is the useful part (spec §11.4).
func ExceptionText(st OutcomeStatus, str, repr string) string {
	if st == OutcomePluginError || st == OutcomeViolationError {
		return str
	}
	return repr
}
