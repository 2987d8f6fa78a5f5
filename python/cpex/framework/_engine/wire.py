"""The wire to the Go core: the only caller of the native extension (docs/protocol.md).

Every function of the protocol is an attribute of this module, bound to the extension's
``pybind_<Name>`` callable on first use (one attribute lookup per crossing, no Python
frame in between: the per-plugin path crosses several times per call). Binding checks the
protocol version, so a driver never misreads an extension of another version. The
documents that cross are typed below: the facts and outcomes Python reports, and the
steps the core answers.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any, Callable, Literal, Optional, TypedDict, Union

import orjson

from cpex import _core

#: The protocol this driver speaks; the extension answers its own in ``Protocol()``.
PROTOCOL_VERSION = 6


class ProtocolMismatchError(_core.CoreUnavailableError):
    """The extension speaks another protocol version than this package (a stale build)."""


# ------------------------------------------------------------------ documents
# Facts and outcomes go up (Python reports what happened), steps come down (the core
# decides). The field names are the protocol's (docs/protocol.md).

Status = Literal["ok", "timeout", "traise", "error", "perror", "vexc"]
ReturnedKind = Literal["none", "same", "payload", "foreign"]
RaiseKind = Literal["size", "error", "timeout", "violation", "plugin_timeout"]


class Violation(TypedDict):
    reason: Any
    code: Any
    description: Any


class Outcome(TypedDict, total=False):
    """What one plugin call produced (RunReport, the last of RunReportPlain, ExecutorFafDone)."""

    i: int
    st: Status
    cont: bool
    ret: ReturnedKind  # the returned modified payload, against the plugin's input
    cur: bool  # ...is the run's current payload object itself
    chg: list[str]  # ...its changed top-level fields (when the step asked: "diff")
    ext: Literal[0, 1, 2]
    viol: Optional[Violation]
    retry: int
    dur: int
    str: str  # the raised exception's str() and repr(): the core picks one
    repr: str


class RunFacts(TypedDict):
    """The facts of a hook call (RunStart)."""

    rid: str
    server_id: Optional[str]
    tenant_id: Optional[str]
    content_type: Optional[str]
    user: Any
    match: Optional[str]
    size: Optional[list[Any]]
    pool: int
    vexc: bool
    trace: bool
    ext: bool


class Plan(TypedDict):
    """PlanGet's answer (the driver adds ``_policy``, the policy object it was built for)."""

    plan: int
    match: Optional[str]
    size: list[list[str]]
    isolate: bool
    drop: str  # the metadata key a merge of a result's metadata drops
    flush: bool  # present when true: empty the plan cache (the core emptied its own)


class Effects(TypedDict):
    """What the Go plugins of a go step did (the answer to RunGo)."""

    payload: bool  # they changed the payload: its JSON text is the answer's payload frame
    meta: Optional[dict[str, Any]]
    ctx: list[int]  # indices of the plugins that ran (their contexts are built)


class EffectsState(Effects, total=False):
    """The context state the Go plugins changed (each only when it has something)."""

    gs: dict[str, Any]  # GlobalContext.state keys set to another value
    gm: dict[str, Any]  # GlobalContext.metadata keys set to another value
    local: list[list[Any]]  # [plan index, the plugin's whole new local state]


class _Answer(TypedDict, total=False):
    # fields any step may carry after a report
    run: int
    commit: bool
    commit_ext: bool
    accept: list[str]  # commit the input with these fields of the returned object
    logs: list[list[str]]
    effects: EffectsState
    chain_span: dict[str, Any]


class CallStep(_Answer, total=False):
    op: Literal["call"]
    ref: int
    i: int
    timeout: float
    merge: bool
    meta: bool
    diff: bool
    span: bool
    drop: str  # single runs only (no plan)
    next: list[dict[str, Any]]


class GoStep(_Answer, total=False):
    op: Literal["go"]
    refs: list[int]
    i: list[int]
    original: bool
    ext: list[int]  # the plugins of the step that read extensions (only when some do)
    # payload JSON length from which the driver uses RunGoStart (off the loop)
    # ("async" is a keyword: read it with step["async"])


class ConcurrentStep(_Answer, total=False):
    op: Literal["concurrent"]
    refs: list[int]
    i: list[int]
    timeout: float
    pool: int  # bound of the Python tasks, 0 for none
    span: bool


class NextStep(_Answer, total=False):
    op: Literal["next"]


class DoneStep(_Answer, total=False):
    op: Literal["done"]
    cont: bool
    viol: int
    violation: Optional[dict[str, Any]]
    retry: int
    payload: bool
    ext: bool
    decision: Optional[dict[str, str]]  # metadata entries naming the decision plugin
    faf: list[int]
    faf_timeout: float
    faf_pool: int
    faf_payload: Literal["original"]
    faf_count: bool  # metrics on: report every finished task (executor_faf_done), not only failures
    records: list[dict[str, Any]]
    cancel: bool
    chain_end: Optional[dict[str, Any]]
    single: bool
    as_is: bool


class RaiseStep(_Answer, total=False):
    op: Literal["raise"]
    kind: RaiseKind
    message: str
    i: int
    viol: int
    violation: Optional[dict[str, Any]]
    denial: dict[str, Any]  # a Go plugin's denial metadata, for a violation it raised
    records: list[dict[str, Any]]
    cancel: bool


Step = Union[CallStep, GoStep, ConcurrentStep, NextStep, DoneStep, RaiseStep]


class FafAnswer(TypedDict):
    log: list[str]  # [level, text]
    message: str
    disabled: bool


# --------------------------------------------------------------- functions

# protocol name -> extension function
_FUNCTIONS = {
    "executor_new": "ExecutorNew",
    "executor_update": "ExecutorUpdate",
    "executor_release": "ExecutorRelease",
    "executor_runtime_disabled": "ExecutorRuntimeDisabled",
    "executor_set_runtime_disabled": "ExecutorSetRuntimeDisabled",
    "executor_faf_done": "ExecutorFafDone",
    "ref_register": "RefRegister",
    "ref_release": "RefRelease",
    "go_plugin_new": "GoPluginNew",
    "go_plugin_release": "GoPluginRelease",
    "go_plugin_async": "GoPluginAsync",
    "go_plugin_invoke": "GoPluginInvoke",
    "go_plugin_single": "GoPluginSingle",
    "go_plugin_invoke_start": "GoPluginInvokeStart",
    "go_plugin_invoke_finish": "GoPluginInvokeFinish",
    "go_plugin_invoke_drop": "GoPluginInvokeDrop",
    "plan_get": "PlanGet",
    "run_start": "RunStart",
    "run_single": "RunSingle",
    "single_rule": "SingleRule",
    "run_single_report": "RunSingleReport",
    "run_single_plain": "RunSinglePlain",
    "run_report": "RunReport",
    "run_report_plain": "RunReportPlain",
    "run_chain_rule": "RunChainRule",
    "run_chain_start": "RunChainStart",
    "run_chain_end": "RunChainEnd",
    "run_go": "RunGo",
    "run_go_start": "RunGoStart",
    "run_go_finish": "RunGoFinish",
    "run_go_frame": "RunGoFrame",
    "run_go_frame_at": "RunGoFrameAt",
    "run_go_frame_release": "RunGoFrameRelease",
    "run_go_unreadable": "RunGoUnreadable",
    "run_go_context": "RunGoContext",
    "run_abort": "RunAbort",
    "policy_decide_raw": "PolicyDecide",
    "version_raw": "Version",
    "external_plugin_new": "ExternalPluginNew",
    "isolated_plugin_new": "IsolatedPluginNew",
    "isolated_venv_prepare": "IsolatedVenvPrepare",
}

if TYPE_CHECKING:  # the bound callables' signatures (docs/protocol.md, "Functions")
    executor_new: Callable[[str], int]
    executor_update: Callable[[int, str], int]
    executor_release: Callable[[int], int]
    executor_runtime_disabled: Callable[[int], str]
    executor_set_runtime_disabled: Callable[[int, str, str], int]
    executor_faf_done: Callable[[int, int, str, str], str]
    ref_register: Callable[[str], int]
    ref_release: Callable[[int], int]
    go_plugin_new: Callable[[str], int]
    go_plugin_release: Callable[[int], int]
    go_plugin_async: Callable[[int], int]
    go_plugin_invoke: Callable[[int, str, str, str], str]
    go_plugin_single: Callable[[int, int, str, str, str], str]
    go_plugin_invoke_start: Callable[[int, str, str, str, int], int]
    go_plugin_invoke_finish: Callable[[int], str]
    go_plugin_invoke_drop: Callable[[int], int]
    plan_get: Callable[[int, str, str, str], str]
    run_start: Callable[[int, str], str]
    run_single: Callable[[int, int, str], str]
    single_rule: Callable[[int, int, str], str]
    run_single_report: Callable[[int, str], str]
    run_single_plain: Callable[[int, int], str]
    run_report: Callable[[int, str], str]
    run_report_plain: Callable[[int, str, str], str]
    run_chain_rule: Callable[[int, str], str]
    run_chain_start: Callable[[int, str, int], str]
    run_chain_end: Callable[[int, int, str], str]
    run_go: Callable[[int, str], str]
    run_go_start: Callable[[int, int, int, int], int]
    run_go_finish: Callable[[int], str]
    run_go_frame: Callable[[int], int]
    run_go_frame_at: Callable[[int], int]
    run_go_frame_release: Callable[[int], int]
    run_go_unreadable: Callable[[int, str], str]
    run_go_context: Callable[[int, str], int]
    run_abort: Callable[[int], int]
    policy_decide_raw: Callable[[str, str], str]
    version_raw: Callable[[], str]
    external_plugin_new: Callable[[str, str], str]
    isolated_plugin_new: Callable[[str, str], str]
    isolated_venv_prepare: Callable[[str], str]


def _bind() -> None:
    """Binds every protocol function to the extension, after checking its version."""
    nat = _core.native()
    info = orjson.loads(nat.pybind_Protocol())
    if info.get("version") != PROTOCOL_VERSION:
        raise ProtocolMismatchError(
            f"cpex: the native extension speaks protocol {info.get('version')!r}, this package "
            f"{PROTOCOL_VERSION}: rebuild it (make build) or reinstall the wheel"
        )
    g = globals()
    g["decision_key"] = info["decision_key"]
    for name, func in _FUNCTIONS.items():
        g[name] = getattr(nat, "pybind_" + func)


def __getattr__(name: str) -> Any:
    # first use of a protocol function (or after a fork): bind them all
    if name in _FUNCTIONS or name == "decision_key":
        _bind()
        return globals()[name]
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def _unbind() -> None:
    # a forked child must not call the parent's Go runtime: the next call goes through
    # _core.native() again, which refuses (cpex._core)
    g = globals()
    for name in (*_FUNCTIONS, "decision_key"):
        g.pop(name, None)


os.register_at_fork(after_in_child=_unbind)


def _fn(name: str) -> Any:
    # a protocol function from inside this module (module __getattr__ serves outside reads)
    fn = globals().get(name)
    if fn is None:
        _bind()
        fn = globals()[name]
    return fn


def split_frames(answer: str) -> tuple[str, Optional[str]]:
    """An answer's JSON header and its payload frame, None when it has none
    (docs/protocol.md, "Framing"): the header never holds a raw newline, so the first
    one ends it, and the payload JSON that follows is read as it is, without a second
    unescaping."""
    head, _, frame = answer.partition("\n")
    return head, (frame or None)


def started() -> bool:
    """Whether this process has started the Go core (releases are skipped otherwise)."""
    return _core.started()


def policy_decide(changed: list[str], writable: list[str]) -> tuple[list[str], Optional[str]]:
    """The core's policy decision (core.PolicyDecision): the accepted fields and the
    warning for the dropped ones (spec §15)."""
    answer = orjson.loads(_fn("policy_decide_raw")(orjson.dumps(changed).decode(), orjson.dumps(writable).decode()))
    return answer["accept"], answer["warning"]


def hook_type_register_on(native: Any, hook_type: str, other_result: bool) -> None:
    """HookTypeRegister on the extension module given: the hook registry pushes its types
    while the core starts (cpex._core.on_start), before this module can bind."""
    native.pybind_HookTypeRegister(hook_type, other_result)


def version() -> dict[str, Any]:
    """Versions of the Go core and of the Go toolchain that built it."""
    result: dict[str, Any] = orjson.loads(_fn("version_raw")())
    return result


# --------------------------------------------------------------- metrics
# Per-plugin metrics (docs/protocol.md, "Metrics"): the core counts, one crossing per
# scrape reads every series. Kept in a section of its own: the only callers are the
# executor (on/off) and cpex.framework.metrics (the prometheus_client collector).

_FUNCTIONS.update({"executor_metrics_raw": "ExecutorMetrics", "metrics_snapshot_raw": "MetricsSnapshot"})

if TYPE_CHECKING:
    executor_metrics_raw: Callable[[int, int], int]
    metrics_snapshot_raw: Callable[[], str]


class HistogramSnapshot(TypedDict):
    buckets: list[int]  # cumulative, one per bound (without +Inf)
    count: int  # the +Inf bucket
    sum: float


class PluginSeries(TypedDict):
    plugin: str
    hook: str
    calls: list[int]  # one count per outcome, in MetricsSnapshot["outcomes"] order
    duration: HistogramSnapshot  # seconds


class HookSeries(TypedDict):
    hook: str
    duration: HistogramSnapshot  # seconds
    chain: HistogramSnapshot  # plugins executed


class MetricsSnapshot(TypedDict):
    outcomes: list[str]
    duration_bounds: list[float]
    chain_bounds: list[float]
    plugins: list[PluginSeries]
    hooks: list[HookSeries]


def executor_metrics(exec_id: int, on: bool) -> None:
    """Turns counting on or off for the executor's later runs."""
    _fn("executor_metrics_raw")(exec_id, 1 if on else 0)


def metrics_snapshot() -> MetricsSnapshot:
    """Every series of the process (all executors with metrics on count into one)."""
    snap: MetricsSnapshot = orjson.loads(_fn("metrics_snapshot_raw")())
    return snap


# ------------------------------------------------ the MCP plugin server (issue 14)
# The external plugin server runtime (cpex.framework.external.mcp.server): Go serves MCP
# and queues invoke_hook calls; the runtime's event loop watches a pipe whose write end
# Go was given, then takes the calls and answers them (docs/protocol.md, "MCP plugin
# server"). Bound per call: a server crosses once per batch of calls, not per plugin.


def mcp_server_start(opts: dict[str, Any], fd: int) -> dict[str, Any]:
    """MCPServerStart: serve the plugins of ``opts["configs"]``; wake ``fd`` when calls
    wait or the server ends. Answers ``{"id", "addr", "health_addr"}``."""
    answer: dict[str, Any] = orjson.loads(_core.native().pybind_MCPServerStart(orjson.dumps(opts).decode(), fd))
    return answer


def mcp_server_take(server_id: int) -> dict[str, Any]:
    """MCPServerTake: ``{"calls": [{"id", "hook_type", "plugin_name", "payload",
    "context"}], "ended": bool, "error": str}``."""
    answer: dict[str, Any] = orjson.loads(_core.native().pybind_MCPServerTake(server_id))
    return answer


def mcp_server_answer(server_id: int, call_id: int, reply: str) -> bool:
    """MCPServerAnswer: the reply JSON of one taken call; False when nobody waits any more."""
    return bool(_core.native().pybind_MCPServerAnswer(server_id, call_id, reply))


def mcp_server_stop(server_id: int) -> None:
    """MCPServerStop: stop serving; calls still waiting get an error model."""
    _core.native().pybind_MCPServerStop(server_id)


def mcp_server_metrics(server_id: int) -> str:
    """MCPServerMetrics: the server's Prometheus text exposition."""
    text: str = _core.native().pybind_MCPServerMetrics(server_id)
    return text
