package core

// The public names of the executor's rules (core/engine): plans, runs and their steps,
// policies, conditions, hook types, importable as core.X as documented
// (README, examples, built-ins, pybind): aliases and one-line forwarders only, the
// behaviour and its documentation live in the package. TestFacadeIsComplete fails when
// the package exports a name this file lacks.

import (
	"github.com/cpex-go/cpex/core/config"
	"github.com/cpex-go/cpex/core/engine"
	"github.com/cpex-go/cpex/core/plugin"
)

type (
	BatchCall      = engine.BatchCall
	Facts          = engine.Facts
	Executor       = engine.Executor
	HookType       = engine.HookType
	LoopCost       = engine.LoopCost
	Phase          = engine.Phase
	Plan           = engine.Plan
	DefaultPolicy  = engine.DefaultPolicy
	HookPolicy     = engine.HookPolicy
	Apply          = engine.Apply
	Ref            = engine.Ref
	RefSpec        = engine.RefSpec
	Run            = engine.Run
	Op             = engine.Op
	RaiseKind      = engine.RaiseKind
	LogEntry       = engine.LogEntry
	Step           = engine.Step
	CallStep       = engine.CallStep
	ConcurrentStep = engine.ConcurrentStep
	GoStep         = engine.GoStep
	SingleResult   = engine.SingleResult
	DoneStep       = engine.DoneStep
	RaiseStep      = engine.RaiseStep
	StepOpError    = engine.StepOpError
	OutcomeStatus  = engine.OutcomeStatus
	Mod            = engine.Mod
	ExtChange      = engine.ExtChange
	ViolationFacts = engine.ViolationFacts
	Outcome        = engine.Outcome
	FafVerdict     = engine.FafVerdict
	ReturnedKind   = engine.ReturnedKind
	Returned       = engine.Returned
	PolicyVerdict  = engine.PolicyVerdict
)

const (
	MaxCachedPlans              = engine.MaxCachedPlans
	HookToolPreInvoke           = engine.HookToolPreInvoke
	HookToolPostInvoke          = engine.HookToolPostInvoke
	HookPromptPreFetch          = engine.HookPromptPreFetch
	HookPromptPostFetch         = engine.HookPromptPostFetch
	HookResourcePreFetch        = engine.HookResourcePreFetch
	HookResourcePostFetch       = engine.HookResourcePostFetch
	HookAgentPreInvoke          = engine.HookAgentPreInvoke
	HookAgentPostInvoke         = engine.HookAgentPostInvoke
	HookHTTPPreRequest          = engine.HookHTTPPreRequest
	HookHTTPPostRequest         = engine.HookHTTPPostRequest
	HookHTTPAuthResolveUser     = engine.HookHTTPAuthResolveUser
	HookHTTPAuthCheckPermission = engine.HookHTTPAuthCheckPermission
	HookIdentityResolve         = engine.HookIdentityResolve
	HookTokenDelegate           = engine.HookTokenDelegate
	MatchTools                  = engine.MatchTools
	MatchPrompts                = engine.MatchPrompts
	MatchResources              = engine.MatchResources
	MatchAgents                 = engine.MatchAgents
	LoopStallBudget             = engine.LoopStallBudget
	PriorNsPerByte              = engine.PriorNsPerByte
	PhaseSequential             = engine.PhaseSequential
	PhaseTransform              = engine.PhaseTransform
	PhaseAudit                  = engine.PhaseAudit
	PhaseConcurrent             = engine.PhaseConcurrent
	PhaseFireAndForget          = engine.PhaseFireAndForget
	PolicyAllow                 = engine.PolicyAllow
	PolicyDeny                  = engine.PolicyDeny
	ApplyAny                    = engine.ApplyAny
	ApplyPolicy                 = engine.ApplyPolicy
	ApplyNone                   = engine.ApplyNone
	OpCall                      = engine.OpCall
	OpConcurrent                = engine.OpConcurrent
	OpNext                      = engine.OpNext
	OpDone                      = engine.OpDone
	OpRaise                     = engine.OpRaise
	OpGo                        = engine.OpGo
	RaiseSize                   = engine.RaiseSize
	RaiseError                  = engine.RaiseError
	RaiseTimeout                = engine.RaiseTimeout
	RaiseViolation              = engine.RaiseViolation
	RaisePluginTimeout          = engine.RaisePluginTimeout
	SingleNone                  = engine.SingleNone
	SinglePlugin                = engine.SinglePlugin
	SingleEmpty                 = engine.SingleEmpty
	SingleNew                   = engine.SingleNew
	OutcomeOK                   = engine.OutcomeOK
	OutcomeTimeout              = engine.OutcomeTimeout
	OutcomeError                = engine.OutcomeError
	OutcomePluginError          = engine.OutcomePluginError
	OutcomeViolationError       = engine.OutcomeViolationError
	OutcomeTimeoutRaised        = engine.OutcomeTimeoutRaised
	ModNone                     = engine.ModNone
	ModCandidate                = engine.ModCandidate
	ModRejected                 = engine.ModRejected
	ModOtherType                = engine.ModOtherType
	ModIgnored                  = engine.ModIgnored
	ModSame                     = engine.ModSame
	ExtNone                     = engine.ExtNone
	ExtSame                     = engine.ExtSame
	ExtOther                    = engine.ExtOther
	ReturnedNone                = engine.ReturnedNone
	ReturnedSameType            = engine.ReturnedSameType
	ReturnedOtherPayload        = engine.ReturnedOtherPayload
	ReturnedForeign             = engine.ReturnedForeign
	PolicyLogger                = engine.PolicyLogger
)

var (
	ErrRunFinished = engine.ErrRunFinished
	ErrBadOutcome  = engine.ErrBadOutcome
)

// MatchConditions: engine.MatchConditions.
func MatchConditions(conds []config.PluginCondition, hook string, payload *plugin.Payload, g *plugin.GlobalContext) bool {
	return engine.MatchConditions(conds, hook, payload, g)
}

// NewExecutor: engine.NewExecutor.
func NewExecutor(timeoutSecs float64, def DefaultPolicy) *Executor {
	return engine.NewExecutor(timeoutSecs, def)
}

// RegisterHookType: engine.RegisterHookType.
func RegisterHookType(h HookType) error { return engine.RegisterHookType(h) }

// LookupHookType: engine.LookupHookType.
func LookupHookType(hook string) (HookType, bool) { return engine.LookupHookType(hook) }

// HookTypes: engine.HookTypes.
func HookTypes() []string { return engine.HookTypes() }

// NewPlan: engine.NewPlan.
func NewPlan(hook string, refs []*Ref, fields []string, hasPolicy bool, deny bool) *Plan {
	return engine.NewPlan(hook, refs, fields, hasPolicy, deny)
}

// ParseDefaultPolicy: engine.ParseDefaultPolicy.
func ParseDefaultPolicy(s string) (DefaultPolicy, error) { return engine.ParseDefaultPolicy(s) }

// NewRef: engine.NewRef.
func NewRef(s RefSpec) *Ref { return engine.NewRef(s) }

// RefFromConfig: engine.RefFromConfig.
func RefFromConfig(pc *config.PluginConfig, p plugin.Plugin) *Ref { return engine.RefFromConfig(pc, p) }

// NewUUID: engine.NewUUID.
func NewUUID() string { return engine.NewUUID() }

// Truncate: engine.Truncate.
func Truncate(s string, max int) string { return engine.Truncate(s, max) }

// Cancels: engine.Cancels.
func Cancels(s *Step) bool { return engine.Cancels(s) }

// ExceptionText: engine.ExceptionText.
func ExceptionText(st OutcomeStatus, str, repr string) string {
	return engine.ExceptionText(st, str, repr)
}

// PoolBound: engine.PoolBound.
func PoolBound(pool, n int) int { return engine.PoolBound(pool, n) }

// ParseReturnedKind: engine.ParseReturnedKind.
func ParseReturnedKind(s string) (ReturnedKind, bool) { return engine.ParseReturnedKind(s) }

// PolicyDecision: engine.PolicyDecision.
func PolicyDecision(hook string, changed []string, writable func(string) bool) PolicyVerdict {
	return engine.PolicyDecision(hook, changed, writable)
}

// WritableIn: engine.WritableIn.
func WritableIn(fields []string) func(string) bool { return engine.WritableIn(fields) }
