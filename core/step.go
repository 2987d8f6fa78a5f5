package core

// Op is what a step asks the driver to do (docs/protocol.md, "Steps").
type Op uint8

// The step operations.
const (
	// OpCall: run one plugin (Index) with the timeout and report its Outcome.
	OpCall Op = iota + 1
	// OpConcurrent: start every plugin of Indices (bounded by Pool), report each
	// completion as it is consumed.
	OpConcurrent
	// OpNext: keep consuming concurrent completions.
	OpNext
	// OpDone: the run ended with a result.
	OpDone
	// OpRaise: the run ended with an error.
	OpRaise
)

var opNames = [...]string{"", "call", "concurrent", "next", "done", "raise"}

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

// Step is one instruction of a run to its driver. A Run reuses one Step: consume it
// before the next Report.
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

	// OpCall
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

	// OpConcurrent
	Indices []int
	Pool    int

	// OpDone
	Continue bool
	// ViolationIndex: whose violation the result carries, -1 for none.
	ViolationIndex int
	Retry          int
	Payload        bool // the result carries the current payload
	Ext            bool // the result carries the current extensions
	Decision       string
	FAF            []int // fire-and-forget plugins to spawn now
	Records        []ExecutionRecord
	Cancel         bool // cancel (and await) unfinished concurrent tasks first

	// OpDone of a single-plugin run: the result is the plugin's own (AsIs), an empty
	// default one (SingleEmpty: the plugin failed under ignore/disable), or a new one of
	// Continue, Payload (the plugin's modified payload), SingleViolation (its violation)
	// and SingleDenial (its denial metadata, for hosts that call a blocker directly).
	Single          bool
	AsIs            bool
	SingleEmpty     bool
	SingleViolation bool
	SingleDenial    bool

	// OpRaise: the error of Kind with Message, naming the plugin at Index; Own: re-raise
	// the exception the plugin raised itself instead; Cause: chain the plugin's exception
	// as the cause of the new one.
	Kind    RaiseKind
	Message string
	Own     bool
	Cause   bool
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

	err error // the Go plugin's own error (Go drivers only)
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
