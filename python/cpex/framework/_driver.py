"""The Python half of a hook run: carry out the Go core's steps (docs/protocol.md).

Python drives, Go decides. The core plans the run (filtering, ordering, phases) and,
after each reported outcome, says what happens next and what to do with that outcome.
This module only does what needs Python objects: await plugin coroutines on the
caller's loop, build contexts, isolate payloads, diff a returned payload against the
policy fields the core names, merge dicts, and build the result objects. It holds no
rule of the executor: every branch below follows a field of a core step.
"""

from __future__ import annotations

import asyncio
import contextvars
import json
import logging
import time
import types
import weakref
from collections import deque
from collections.abc import Iterable, Iterator, MutableSet
from typing import Any, Optional

import orjson
from pydantic import BaseModel, RootModel

from cpex.framework import _gowait
from cpex.framework._engine import wire
from cpex.framework.errors import PluginError, PluginViolationError
from cpex.framework.extensions import Extensions
from cpex.framework.extensions.tiers import filter_extensions
from cpex.framework.hooks.policies import DefaultHookPolicy, HookPayloadPolicy, changed_fields
from cpex.framework.memory import _safe_deepcopy, wrap_payload_for_isolation
from cpex.framework.models import (
    ControlExecutionRecord,
    ControlExecutionStatus,
    GlobalContext,
    PluginContext,
    PluginContextTable,
    PluginErrorModel,
    PluginMode,
    PluginPayload,
    PluginResult,
    PluginViolation,
)
from cpex.framework.observability import ObservabilityProvider, current_trace_id

logger = logging.getLogger("cpex.framework.manager")

_INT64_MIN, _INT64_MAX = -(2**63), 2**63 - 1


def _loads(text: str) -> Any:
    """The core's JSON answer. orjson refuses the lone-surrogate escapes that the core
    sends back for strings that held them (a plugin name, a violation text: see
    pybind/wtf8.go); the standard library turns them into the very same strings."""
    try:
        return _orjson_loads(text)
    except orjson.JSONDecodeError:
        return json.loads(text)


_orjson_loads = orjson.loads


def _dumps(obj: Any, default: Any = None) -> str:
    try:
        return orjson.dumps(obj, default=default).decode()
    except TypeError:  # orjson.JSONEncodeError: e.g. a lone surrogate in a name or id
        return _escaped_dumps(obj, default)


def _escaped_dumps(obj: Any, default: Any = None) -> str:
    """JSON text for what orjson refuses: strings with lone surrogates ("\\ud800", which
    ``json.loads`` makes from client input) are written as ``\\ud800`` escapes (all text
    stays ASCII, so it crosses to Go unchanged), ints beyond 64 bits exactly, and nesting
    as deep as the interpreter's recursion limit allows (orjson stops at 255 levels).
    Raises ValueError (a circular reference, NaN) or RecursionError."""
    return json.dumps(obj, ensure_ascii=True, separators=(",", ":"), allow_nan=False, default=default)


def _clamp64(n: int) -> int:
    """A Python int in the int64 range the core reads (docs/semantics.md, "Odd values")."""
    return _INT64_MIN if n < _INT64_MIN else _INT64_MAX if n > _INT64_MAX else n


def _isolated_copy(payload: Any) -> Any:
    """A copy-on-write copy of a model payload; a deep copy of anything else (a dict that an
    earlier plugin returned as the payload of a cross-type hook)."""
    if isinstance(payload, BaseModel):
        return wrap_payload_for_isolation(payload)
    return _safe_deepcopy(payload)


class PayloadEncodeError(ValueError):
    """A payload that cannot be written as JSON for Go plugins (a circular reference, or
    nesting deeper than the interpreter's recursion limit); ``field`` is the top-level
    field that holds the value, when the payload has fields. In a run these are facts
    for the core, which decides the error (RunGoUnreadable)."""

    def __init__(self, field: Optional[str], cause: BaseException) -> None:
        self.field = field
        self.cause = cause
        super().__init__(f"{field!r}: {type(cause).__name__}: {cause}")

    def facts(self) -> dict[str, Any]:
        # json.dumps reports a cycle as "Circular reference detected"
        return {"field": self.field, "circular": "ircular" in str(self.cause),
                "cause": f"{type(self.cause).__name__}: {self.cause}"}


def payload_json(payload: Any) -> str:
    """A payload as the JSON text Go plugins read (``model_dump(mode="json")`` field names).

    Values JSON cannot hold (arbitrary objects, bytes that are not UTF-8) are sent as
    their ``repr``: a Go plugin can still scan them, and a payload it rewrites comes back
    with those values as strings. Lone surrogates travel as JSON ``\\uXXXX`` escapes, which
    Go plugins read as U+FFFD (docs/semantics.md). Raises PayloadEncodeError.
    """
    if isinstance(payload, BaseModel):
        try:
            return payload.model_dump_json(fallback=repr)
        except Exception:  # noqa: BLE001 - invalid UTF-8 bytes, surrogates, deep nesting, cycles
            pass
        try:  # JSON-typed values (dates as ISO text, ...), surrogates kept as they are
            data = payload.model_dump(mode="json", fallback=repr)
        except Exception:  # noqa: BLE001 - e.g. invalid UTF-8 bytes
            try:
                data = payload.model_dump()
            except Exception as exc:  # noqa: BLE001
                raise PayloadEncodeError(None, exc) from exc
    else:  # a dict returned by an earlier plugin
        data = payload
    try:
        return orjson.dumps(data, default=repr, option=orjson.OPT_NON_STR_KEYS).decode()
    except Exception:  # noqa: BLE001 - see _escaped_dumps
        pass
    try:
        return _escaped_dumps(_str_keys(data), default=_json_default)
    except (ValueError, TypeError, RecursionError) as exc:
        raise PayloadEncodeError(_failing_field(data), exc) from exc


def _json_default(value: Any) -> Any:
    # dates and times as orjson writes them, anything else as its repr (see payload_json)
    iso = getattr(value, "isoformat", None)
    return iso() if callable(iso) else repr(value)


def _str_keys(data: Any) -> Any:
    # the top-level keys as OPT_NON_STR_KEYS writes them (the fallback is rare: no deep walk)
    if isinstance(data, dict) and not all(type(k) is str for k in data):
        return {str(k): v for k, v in data.items()}
    return data


def _failing_field(data: Any) -> Optional[str]:
    """The first top-level field whose value cannot be encoded (for the error message)."""
    if isinstance(data, dict):
        for key, value in data.items():
            try:
                _escaped_dumps(value, default=_json_default)
            except (ValueError, TypeError, RecursionError):
                return str(key)
    return None


# --------------------------------------------------------------------------- refs


def _condition_facts(cond: Any) -> dict[str, Any]:
    def as_list(v: Any) -> Optional[list[str]]:
        return None if v is None else [str(x) for x in v]

    return {
        "server_ids": as_list(cond.server_ids),
        "tenant_ids": as_list(cond.tenant_ids),
        "tools": as_list(cond.tools),
        "prompts": as_list(cond.prompts),
        "resources": as_list(cond.resources),
        "agents": as_list(cond.agents),
        "user_patterns": as_list(cond.user_patterns),
        "content_types": as_list(cond.content_types),
    }


def _release_ref(ref_id: int) -> None:
    if wire.started():
        try:
            wire.ref_release(ref_id)
        except Exception:  # the core may already be gone at interpreter exit
            pass


def core_ref_id(plugin_ref: Any) -> int:
    """The core's id for a PluginRef, registering its trusted identity on first use."""
    rid: int = plugin_ref._core_id
    if rid:
        return rid
    trusted = plugin_ref.trusted_config
    info = {
        "uuid": plugin_ref.uuid,
        "name": plugin_ref.name,
        "kind": trusted.kind,
        "mode": str(plugin_ref.mode),
        # a Python int: beyond int64 it sorts at the nearest bound (docs/semantics.md)
        "priority": _clamp64(plugin_ref.priority) if isinstance(plugin_ref.priority, int) else plugin_ref.priority,
        "on_error": str(plugin_ref.on_error),
        "conditions": [_condition_facts(c) for c in (plugin_ref.conditions or [])],
        "config": config_key_names(trusted.config),
        "go": getattr(plugin_ref.plugin, "_go_plugin_id", 0),
    }
    rid = wire.ref_register(_dumps(info))
    plugin_ref._core_id = rid
    fin = weakref.finalize(plugin_ref, _release_ref, rid)
    fin.atexit = False
    return rid


def config_key_names(config: Any) -> list[str]:
    """Names of the trusted config's keys, in order (the core truncates and bounds them)."""
    return [str(k) for k in config] if isinstance(config, dict) else []


# ------------------------------------------------------------------- errors


class PluginTimeoutError(Exception):
    """A plugin exceeded the manager's timeout (surfaces only from invoke_hook_for_plugin)."""


class PayloadSizeError(ValueError):
    """The payload is larger than MAX_PAYLOAD_SIZE; raised before any plugin runs."""


# Both belong to the public manager module (spec §10.1); they are defined here so that
# the driver can raise them without an import cycle.
PluginTimeoutError.__module__ = "cpex.framework.manager"
PayloadSizeError.__module__ = "cpex.framework.manager"

_LOG_LEVELS = {"debug": logging.DEBUG, "info": logging.INFO, "warning": logging.WARNING, "error": logging.ERROR}
# A returned payload's facts (outcome "ret", "cur", "chg"): its kind, whether it is the
# current payload object itself, the changed top-level fields when the core asked.
_Ret = tuple[str, bool, Optional[list[str]]]
_FOREIGN: _Ret = ("foreign", False, None)


def _emit_logs(step: dict[str, Any]) -> None:
    for level, message in step["logs"]:
        logger.log(_LOG_LEVELS.get(level, logging.WARNING), message)



# The executor's timeout while the driver itself calls a plugin's hook coroutine outside
# a core ``go`` step (invoke_hook_for_plugin, fire-and-forget). A Go plugin's coroutine
# (_goplugin) passes it to GoPluginInvoke, so the core does not apply its 30 s default.
go_invoke_timeout: contextvars.ContextVar[Optional[float]] = contextvars.ContextVar(
    "cpex_go_invoke_timeout", default=None
)


def _construct(cls: type[Any], values: dict[str, Any], fields_set: Optional[set[str]] = None) -> Any:
    """An instance of a pydantic model from values that are already valid, without validation.

    What ``model_construct`` does for models without private attributes or extras, at a
    fraction of its cost (it is on the per-plugin path). ``values`` must hold every field,
    in field order; ``fields_set`` defaults to all of them (what passing them all to the
    constructor gives).
    """
    obj = _new(cls)
    _set_dict(obj, values)
    _set_fields_set(obj, set(values) if fields_set is None else fields_set)
    _set_extra(obj, None)
    _set_private(obj, None)
    return obj


# BaseModel's slot descriptors, called directly: cheaper than object.__setattr__ by name
# (no attribute lookup through the model's MRO on every call).
_new = object.__new__
_set_dict = BaseModel.__dict__["__dict__"].__set__
_set_fields_set = BaseModel.__dict__["__pydantic_fields_set__"].__set__
_set_extra = BaseModel.__dict__["__pydantic_extra__"].__set__
_set_private = BaseModel.__dict__["__pydantic_private__"].__set__


def _check_constructible(*classes: type[Any]) -> None:
    # _construct skips private-attribute and extra bookkeeping: refuse models that need it.
    for cls in classes:
        if cls.__private_attributes__ or cls.model_config.get("extra") == "allow":
            raise TypeError(f"cpex: {cls.__name__} cannot be built with _construct")


_check_constructible(ControlExecutionRecord, GlobalContext, PluginContext, PluginResult)


def empty_chain_result() -> PluginResult:
    """``PluginResult(modified_payload=None)`` (what a hook with no plugins returns), built
    without validation: it is the whole cost of a call nobody registered for. Each call
    gets its own mutable dict and lists."""
    values = _EMPTY_RESULT.copy()  # a copy and three stores beat a ten-key literal
    values["metadata"] = {}
    values["background_tasks"] = []
    values["executions"] = []
    return _construct(PluginResult, values, {"modified_payload"})


_EMPTY_RESULT: dict[str, Any] = {
    "continue_processing": True,
    "modified_payload": None,
    "modified_extensions": None,
    "violation": None,
    "metadata": None,  # fresh per result
    "denial_metadata": None,
    "background_tasks": None,  # fresh per result
    "http_headers": None,
    "retry_delay_ms": 0,
    "executions": None,  # fresh per result
}


def _check_empty_chain_result() -> None:
    # A field added to PluginResult must be added above too: fail at import, not silently.
    real: PluginResult[Any] = PluginResult(modified_payload=None)
    cheap = empty_chain_result()
    if list(cheap.__dict__) != list(PluginResult.model_fields) or cheap.__dict__ != real.__dict__:
        raise TypeError("cpex: empty_chain_result() no longer matches PluginResult(modified_payload=None)")


_check_empty_chain_result()
_GLOBAL_CONTEXT_FIELDS = tuple(GlobalContext.model_fields)
# Every context snapshot has all of GlobalContext's fields set, and assigning a field only
# adds its (already present) name: the snapshots share this one full set rather than each
# holding a 700-byte copy, ten per call in flight (issue 10, item 11; test_memory_conc.py).
_GLOBAL_CONTEXT_SET = set(_GLOBAL_CONTEXT_FIELDS)
_PLUGIN_CONTEXT_SET = {"global_context"}


_MODES = {m.value: m for m in PluginMode}
_STATUSES = {st.value: st for st in ControlExecutionStatus}


def _records(raw: list[dict[str, Any]]) -> list[ControlExecutionRecord]:
    """Record objects from the core's JSON (complete and valid: no validation needed)."""
    out: list[ControlExecutionRecord] = []
    append = out.append
    for rec in raw:
        rec["mode"] = _MODES[rec["mode"]]
        rec["status"] = _STATUSES[rec["status"]]
        # _construct inlined; every field is given (the core sends them all): all are "set"
        obj = _new(ControlExecutionRecord)
        _set_dict(obj, rec)
        _set_fields_set(obj, _RECORD_FIELDS.copy())
        _set_extra(obj, None)
        _set_private(obj, None)
        append(obj)
    return out


_RECORD_FIELDS = set(ControlExecutionRecord.model_fields)


class _RuntimeDisabledView(MutableSet[str]):
    """The executor's runtime-disabled names, live from the core: every read asks the core
    and every mutation (add, discard, remove, pop, clear, update, |=, -=, &=, ^=, ...)
    writes through, so no copy can go stale or be changed alone."""

    __slots__ = ("_executor",)

    def __init__(self, executor: CoreExecutor) -> None:
        self._executor = executor

    @classmethod
    def _from_iterable(cls, it: Iterable[str]) -> set[str]:  # type: ignore[override]
        # the result of view | x, view - x, ... is a plain set (a snapshot), not a view
        return set(it)

    def _names(self) -> list[str]:
        names: list[str] = _loads(wire.executor_runtime_disabled(self._executor._core()))
        return names

    def _op(self, op: str, name: str = "") -> None:
        wire.executor_set_runtime_disabled(self._executor._core(), op, name)

    def __contains__(self, name: object) -> bool:
        return name in self._names()

    def __iter__(self) -> Iterator[str]:
        return iter(self._names())

    def __len__(self) -> int:
        return len(self._names())

    def __repr__(self) -> str:
        return f"{type(self).__name__}({set(self._names())!r})"

    def add(self, name: str) -> None:
        self._op("add", str(name))

    def discard(self, name: str) -> None:
        self._op("discard", str(name))

    def clear(self) -> None:
        self._op("clear")

    def copy(self) -> set[str]:
        """A plain set of the names now (not a view)."""
        return set(self._names())

    def update(self, *others: Iterable[str]) -> None:
        for other in others:
            for name in list(other):
                self.add(name)

    def difference_update(self, *others: Iterable[Any]) -> None:
        for other in others:
            for name in list(other):
                self.discard(name)

    def intersection_update(self, *others: Iterable[Any]) -> None:
        keep = set(self._names()).intersection(*others)
        for name in self._names():
            if name not in keep:
                self.discard(name)

    def symmetric_difference_update(self, other: Iterable[str]) -> None:
        now = set(self._names())
        for name in set(other):
            if name in now:
                self.discard(name)
            else:
                self.add(name)


def _release_executor(exec_id: int) -> None:
    if wire.started():
        try:
            wire.executor_release(exec_id)
        except Exception:
            pass


# ------------------------------------------------------------------ executor


class CoreExecutor:
    """State of one executor: its core handle, options and plan cache."""

    def __init__(
        self,
        *,
        timeout: float,
        hook_policies: dict[str, HookPayloadPolicy],
        default_hook_policy: DefaultHookPolicy,
        observability: Optional[ObservabilityProvider],
    ) -> None:
        self._timeout = timeout
        self._default_hook_policy = default_hook_policy
        self.hook_policies = hook_policies
        self.observability = observability
        self._exec_id = 0
        self._plans: dict[tuple[Any, ...], dict[str, Any]] = {}

    # Options live in the core too; a change is pushed at once when the core has started.
    @property
    def timeout(self) -> float:
        return self._timeout

    @timeout.setter
    def timeout(self, value: float) -> None:
        self._timeout = value
        self._push_options()

    @property
    def default_hook_policy(self) -> DefaultHookPolicy:
        return self._default_hook_policy

    @default_hook_policy.setter
    def default_hook_policy(self, value: DefaultHookPolicy) -> None:
        self._default_hook_policy = DefaultHookPolicy(value)
        self._plans.clear()
        self._push_options()

    @property
    def _runtime_disabled(self) -> MutableSet[str]:
        """The core's runtime-disabled names, as a set whose mutations write through."""
        return _RuntimeDisabledView(self)

    @_runtime_disabled.setter
    def _runtime_disabled(self, names: Iterable[str]) -> None:
        wanted = list(names)  # first: names may be this very view (``view |= x`` assigns it back)
        view = _RuntimeDisabledView(self)
        view.clear()
        view.update(wanted)

    def _options(self) -> str:
        return _dumps({"timeout": self._timeout, "default_policy": str(self._default_hook_policy.value)})

    def _push_options(self) -> None:
        if self._exec_id:
            wire.executor_update(self._exec_id, self._options())

    def _core(self) -> int:
        if not self._exec_id:
            self._exec_id = wire.executor_new(self._options())
            fin = weakref.finalize(self, _release_executor, self._exec_id)
            fin.atexit = False
        return self._exec_id

    def _plan(self, hook: str, hook_refs: list[Any]) -> dict[str, Any]:
        # the registered id when there is one (a plain attribute read), else register it
        ids = tuple([h.plugin_ref._core_id or core_ref_id(h.plugin_ref) for h in hook_refs])
        policy = self.hook_policies.get(hook) if self.hook_policies else None
        key = (hook, ids, id(policy))
        plan = self._plans.get(key)
        if plan is None or plan["_policy"] is not policy:
            fields = "null" if policy is None else _dumps(sorted(policy.writable_fields))
            plan = _loads(wire.plan_get(self._core(), hook, ",".join(map(str, ids)), fields))
            plan["_policy"] = policy
            if plan.get("flush"):
                # the core emptied its plan cache (its one bound, core.MaxCachedPlans) and
                # forgot the plans it handed out: so does this one
                self._plans.clear()
            self._plans[key] = plan
        return plan

    def _trace_id(self) -> Optional[str]:
        # spans only when a provider is set and the trace id is truthy (spec §20)
        return (current_trace_id.get() or None) if self.observability else None

    async def _run(
        self,
        hook_refs: list[Any],
        payload: PluginPayload,
        global_context: GlobalContext,
        hook: str,
        local_contexts: Optional[PluginContextTable],
        vexc: bool,
        extensions: Optional[Extensions],
        pool: int,
    ) -> tuple[PluginResult, Optional[PluginContextTable]]:
        plan = self._plan(hook, hook_refs)
        trace_id = self._trace_id()
        facts = _facts(plan, payload, global_context, pool, vexc, trace_id is not None, extensions is not None)
        # Upstream names the hook in "<hook> blocked by plugin ..." by formatting the
        # HookRef's name: a ref built with a str-enum member reads "PromptHookType.X".
        htext = f"{hook_refs[0].name}"
        if htext != hook:
            facts["htext"] = htext
        run = _Run(self, hook_refs, payload, global_context, hook, local_contexts, extensions, plan, trace_id, pool)
        step = _loads(wire.run_start(plan["plan"], _dumps(facts)))
        run.id = step["run"]
        try:
            return await run.drive(step)
        finally:
            if not run.finished:
                wire.run_abort(run.id)

    async def _run_single(
        self,
        hook_ref: Any,
        payload: PluginPayload,
        local_context: PluginContext,
        vexc: bool,
        global_context: Optional[GlobalContext],
        combined_metadata: Optional[dict[str, Any]],
        extensions: Optional[Extensions],
    ) -> PluginResult:
        trace_id = self._trace_id()
        facts = {"vexc": vexc, "merge": global_context is not None, "meta": combined_metadata is not None,
                 "trace": trace_id is not None,
                 # only the violation message reads it; upstream formats the HookRef's name
                 # (an f-string: a str-enum member reads "PromptHookType.PROMPT_PRE_FETCH")
                 "hook": f"{hook_ref.name}"}
        step = _loads(wire.run_single(self._core(), core_ref_id(hook_ref.plugin_ref), _dumps(facts)))
        run = _Run(self, [hook_ref], payload, global_context, "", None, extensions, None, trace_id, 0)
        run.id = step["run"]
        run.drop = step.get("drop", "")
        run.combined = combined_metadata if combined_metadata is not None else {}
        run.single_meta = combined_metadata
        run.single_context = local_context
        token = go_invoke_timeout.set(self._timeout)
        try:
            result = await run.drive(step)
        finally:
            go_invoke_timeout.reset(token)
            if not run.finished:
                wire.run_abort(run.id)
        return result[0]


_INT64 = range(-(2**63), 2**63)


def _user_value(value: Any) -> Any:
    """One value of a dict user as it crosses to Go, losslessly (docs/protocol.md, facts).

    Strings, bools, None and 64-bit ints travel as JSON scalars; every other value
    (floats included: orjson would turn NaN into null) as ``{"json": text}``, its
    canonical JSON (sorted keys, exact ints of any size), which Go decodes with exact
    numbers. Go plugins identify users by these values (builtin/rate_limiter), so two
    distinct values must never arrive as one, and none may be dropped.
    """
    if value is None or isinstance(value, (str, bool)) or (type(value) is int and value in _INT64):
        return value
    try:
        text = json.dumps(value, sort_keys=True, separators=(",", ":"), allow_nan=False, default=repr)
    except (TypeError, ValueError, RecursionError):
        # mixed key types, NaN, cycles, nesting past the recursion limit: the value's repr,
        # as a JSON string, is still one key per value (Go reads a string)
        try:
            text = json.dumps(repr(value))
        except RecursionError:
            text = json.dumps(f"<{type(value).__name__}>")
    return {"json": text}


def user_fact(user: Any) -> Any:
    """GlobalContext.user as the facts carry it: a str, None, or a dict user's keys (for
    user_patterns) and every value, exactly (for Go plugins that identify the user:
    builtin/rate_limiter reads email/id/sub/username)."""
    if isinstance(user, dict):
        return {"keys": [str(k) for k in user], "values": {str(k): _user_value(v) for k, v in user.items()}}
    if user is not None and not isinstance(user, str):
        return str(user)
    return user


def _facts(
    plan: dict[str, Any], payload: Any, gc: GlobalContext, pool: int, vexc: bool, trace: bool, ext: bool
) -> dict[str, Any]:
    user = user_fact(gc.user)
    match = None
    field = plan["match"]
    if field:
        value = getattr(payload, field, None)
        if value:
            match = value if isinstance(value, str) else str(value)
    size = None
    for attr, how in plan["size"]:
        value = getattr(payload, attr, None)
        if value:
            n = sum(map(len, map(str, value.values()))) if how == "values" else len(str(value))
            size = [attr, n]
            break
    return {
        "rid": gc.request_id,
        "server_id": gc.server_id,
        "tenant_id": gc.tenant_id,
        "content_type": gc.content_type,
        "user": user,
        "match": match,
        "size": size,
        "pool": pool or 0,
        "vexc": vexc,
        "trace": trace,
        "ext": ext,
    }


# ----------------------------------------------------------------------- run


_COROUTINE = types.CoroutineType
_monotonic_ns = time.monotonic_ns


def _deadline(start_ns: int, timeout: float) -> float:
    """The loop-clock deadline of a call that started at ``start_ns`` (monotonic): armed
    only once a hook suspends, it still counts from the call's start."""
    return asyncio.get_running_loop().time() + timeout - (_monotonic_ns() - start_ns) / 1e9


class _Resumed:
    """Awaits the rest of a coroutine whose first step already ran (``yield from`` by hand).

    Used in the current task, so the hook keeps the caller's context variables, and the
    task's cancellation (a timeout) is thrown into the hook where it waits.
    """

    __slots__ = ("_coro", "_first")

    def __init__(self, coro: Any, first: Any) -> None:
        self._coro = coro
        self._first = first

    def __await__(self) -> Any:
        coro, value = self._coro, self._first
        while True:
            try:
                sent = yield value
            except GeneratorExit:
                coro.close()
                raise
            except BaseException as exc:  # noqa: BLE001 - delivered to the hook, as yield from does
                try:
                    value = coro.throw(exc)
                except StopIteration as stop:
                    return stop.value
            else:
                try:
                    value = coro.send(sent)
                except StopIteration as stop:
                    return stop.value


class _Call:
    """What one plugin call produced, kept until the core says what to do with it."""

    __slots__ = ("result", "exc", "status", "duration", "ext_in")

    def __init__(self) -> None:
        self.ext_in: Optional[Extensions] = None
        self.result: Optional[PluginResult] = None
        self.exc: Optional[BaseException] = None
        self.status = "ok"
        self.duration = 0


class _Finished:
    """The tasks of a concurrent phase in the order they finished: the done callback of
    each task. asyncio schedules a task's done callbacks when it finishes, so they run in
    completion order, also for tasks that finish in the same loop turn (the order
    asyncio.as_completed yields; its Queue costs more than this per call)."""

    __slots__ = ("tasks", "waiter")

    def __init__(self) -> None:
        self.tasks: deque[asyncio.Future[str]] = deque()
        self.waiter: Optional[asyncio.Future[None]] = None

    def __call__(self, task: asyncio.Future[str]) -> None:
        self.tasks.append(task)
        waiter = self.waiter
        if waiter is not None and not waiter.done():
            waiter.set_result(None)

    async def next(self) -> asyncio.Future[str]:
        while not self.tasks:
            self.waiter = asyncio.get_running_loop().create_future()
            await self.waiter
        return self.tasks.popleft()


class _Run:
    """One hook run: the Python objects the core's steps act on."""

    # slots: the per-plugin path reads these attributes many times per call
    __slots__ = (
        "executor", "hook_refs", "payload", "gc", "hook", "local_contexts", "extensions", "plan", "isolate",
        "policy", "trace_id", "drop", "id", "finished", "table", "combined", "current", "current_ext",
        "candidate", "candidate_base", "candidate_ext", "calls", "pending", "chain_span", "single_context", "single_meta",
        "plain",
    )

    def __init__(
        self,
        executor: CoreExecutor,
        hook_refs: list[Any],
        payload: Any,
        gc: Optional[GlobalContext],
        hook: str,
        local_contexts: Optional[PluginContextTable],
        extensions: Optional[Extensions],
        plan: Optional[dict[str, Any]],
        trace_id: Optional[str],
        pool: int,
    ) -> None:
        self.executor = executor
        self.hook_refs = hook_refs
        self.payload = payload
        self.gc = gc
        self.hook = hook
        self.local_contexts = local_contexts
        self.extensions = extensions
        self.plan = plan
        self.isolate = bool(plan and plan["isolate"])
        self.policy = plan["_policy"] if plan else None
        self.trace_id = trace_id
        self.drop: str = plan["drop"] if plan else ""  # single runs: set from their first step
        self.id = 0
        self.finished = False
        self.table: PluginContextTable = {}
        self.combined: dict[str, Any] = {}
        self.current: Any = None
        self.current_ext: Optional[Extensions] = None
        self.candidate: Any = None
        self.candidate_base: Any = None  # what accepted fields are applied to (see _committed)
        self.candidate_ext: Optional[Extensions] = None
        self.calls: dict[int, _Call] = {}
        self.pending: set[asyncio.Future[Any]] = set()
        self.chain_span: Optional[str] = None
        self.single_context: Optional[PluginContext] = None
        self.single_meta: Optional[dict[str, Any]] = None
        self.plain = False  # the last _call's outcome was plain (see _calls)

    # -- the loop

    async def drive(self, step: dict[str, Any]) -> tuple[PluginResult, Optional[PluginContextTable]]:
        while True:
            if "logs" in step:
                _emit_logs(step)
            if "commit" in step:
                if step["commit"]:
                    self.current = self._committed(step.get("accept"))
                if step.get("commit_ext"):
                    self.current_ext = self.candidate_ext
                self.candidate = self.candidate_base = self.candidate_ext = None
            if "effects" in step:
                self._effects(step["effects"])
            if "chain_span" in step:
                self.chain_span = self._span_start("plugin.hook.invoke", attributes=step["chain_span"])
            op = step["op"]
            if op == "call":
                if "next" in step:
                    step = _loads(await self._calls(step))
                else:
                    step = _loads(wire.run_report(self.id, await self._call(step)))
            elif op == "go":
                target = self.payload if step.get("original") else self._effective()
                try:
                    text = payload_json(target)
                except PayloadEncodeError as exc:
                    # the fact goes up; the core ends the run with the error it decides
                    unreadable = _loads(wire.run_go_unreadable(self.id, _dumps(exc.facts())))
                    self.finished = True
                    raise self._exception(unreadable) from exc
                step = _loads(await self._go(text, step.get("async")))
            elif op == "concurrent":
                step = await self._concurrent(step)
            elif op == "done":
                self.finished = True
                if step.get("cancel"):
                    await self._cancel_pending()
                return self._done(step)
            elif op == "raise":
                self.finished = True
                if step.get("cancel"):
                    await self._cancel_pending()
                raise self._exception(step)
            else:
                raise RuntimeError(f"cpex: unknown step from the core: {op!r}")

    async def _go(self, payload: str, off_loop_from: Optional[int]) -> str:
        """RunGo's answer; off the event loop when the core says the work is long (its
        ``async`` length, docs/protocol.md). A cancelled wait is dropped by RunAbort."""
        if off_loop_from is not None and len(payload) >= off_loop_from and _gowait.enabled:
            run_id = self.id
            answer = await _gowait.run_off_loop(
                lambda fd: wire.run_go_start(run_id, payload, fd), lambda: wire.run_go_finish(run_id)
            )
            if answer is not None:
                return answer
        return wire.run_go(self.id, payload)

    def _effective(self) -> Any:
        return self.current if self.current is not None else self.payload

    def _isolated(self, target: Any) -> Any:
        if self.isolate or isinstance(target, RootModel):
            if isinstance(target, BaseModel):
                return wrap_payload_for_isolation(target)
            return _safe_deepcopy(target)  # see _isolated_copy
        return target

    # -- contexts (§13.2)

    def _context(self, i: int, reuse: bool = True) -> PluginContext:
        if self.single_context is not None:
            return self.single_context
        gc = self.gc
        assert gc is not None
        ref = self.hook_refs[i].plugin_ref
        key = gc.request_id + ref.uuid
        # Upstream builds this snapshot with GlobalContext(..., state=copyonwrite(state)),
        # whose validation turns every dict field into a plain shallow copy: that is what a
        # plugin observes (and may write; the writes reach the caller only by the merge).
        if type(gc) is GlobalContext:
            values = gc.__dict__.copy()  # exactly GlobalContext's fields, in order
        else:  # a subclass: the snapshot is a plain GlobalContext of its declared fields
            values = {name: getattr(gc, name) for name in _GLOBAL_CONTEXT_FIELDS}
        user = values["user"]
        if isinstance(user, dict):
            values["user"] = dict(user)
        values["state"] = dict(values["state"])
        values["metadata"] = dict(values["metadata"])
        # _construct inlined (twice per plugin call)
        snapshot = _new(GlobalContext)
        _set_dict(snapshot, values)
        _set_fields_set(snapshot, _GLOBAL_CONTEXT_SET)  # shared (see its definition)
        _set_extra(snapshot, None)
        _set_private(snapshot, None)
        ctx = self.local_contexts.get(key) if (reuse and self.local_contexts) else None
        if ctx is not None:
            ctx.global_context = snapshot
        else:
            ctx = _new(PluginContext)
            _set_dict(ctx, {"state": {}, "global_context": snapshot, "metadata": {}})
            _set_fields_set(ctx, _PLUGIN_CONTEXT_SET.copy())
            _set_extra(ctx, None)
            _set_private(ctx, None)
        self.table[key] = ctx
        return ctx

    # -- one plugin call

    async def _invoke(
        self, i: int, inp: Any, ctx: PluginContext, timeout: float, span: bool, use_result: bool = True
    ) -> _Call:
        """Awaits one hook with the timeout. ``use_result`` False (fire-and-forget): what the
        hook returns is never read, so a value that is not a PluginResult is no error."""
        href = self.hook_refs[i]
        ref = href.plugin_ref
        call = _Call()
        self.calls[i] = call
        span_id = self._plugin_span_start(ref, timeout) if span else None
        start = _monotonic_ns()
        cm: Optional[asyncio.Timeout] = None
        try:
            if href.accepts_extensions:
                call.ext_in = filter_extensions(self.extensions, ref.capabilities)
                coro = href.hook(inp, ctx, call.ext_in)
            else:
                coro = href.hook(inp, ctx)
            if type(coro) is _COROUTINE:
                # Most hooks return without ever suspending: run the first step directly
                # and arm the timer only if the hook suspends (a hook that never yields
                # to the loop cannot be timed out by asyncio anyway).
                try:
                    first = coro.send(None)
                except StopIteration as stop:
                    result = stop.value
                else:
                    cm = asyncio.timeout_at(_deadline(start, timeout))
                    async with cm:
                        result = await _Resumed(coro, first)
            else:  # another awaitable (a mock, a Future...): the plain way
                cm = asyncio.timeout_at(_deadline(start, timeout))
                async with cm:
                    result = await coro
            if not isinstance(result, PluginResult):
                if not use_result:
                    result = None  # ignored, as upstream ignores a fire-and-forget return
                else:
                    # Not a result (None, a dict, ...): the first attribute the executor reads
                    # fails, and that AttributeError is the plugin's error (as upstream).
                    result.metadata  # noqa: B018
            call.result = result
        except TimeoutError as exc:
            # Our own deadline, or a TimeoutError the hook raised itself (its own wait_for):
            # the fact is reported as such and the core decides (upstream treats both as the
            # executor's timeout).
            call.exc = exc
            call.status = "timeout" if cm is not None and cm.expired() else "traise"
        except PluginViolationError as exc:
            call.exc, call.status = exc, "vexc"
        except PluginError as exc:
            call.exc, call.status = exc, "perror"
        except Exception as exc:
            call.exc, call.status = exc, "error"
        call.duration = _monotonic_ns() - start
        if span_id is not None:
            self._plugin_span_end(span_id, call)
        return call

    def _after_return(self, call: _Call, ctx: PluginContext, ref: Any, merge: bool, meta: bool) -> bool:
        """What execute_plugin does with a returned result, as the step instructs.

        A failure here (a plugin that left a non-dict in its context's state, say) is the
        plugin's error, as it is upstream where this runs inside execute_plugin's try:
        the call is turned into an ``error`` outcome and False is returned.
        """
        result = call.result
        assert result is not None
        try:
            if merge and self.gc is not None:
                self.gc.state.update(ctx.global_context.state)
                self.gc.metadata.update(ctx.global_context.metadata)
            if meta and result.metadata:
                md = result.metadata
                drop = self.drop  # the key the core sets itself (plan or single step "drop")
                if drop in md:
                    md = {k: v for k, v in md.items() if k != drop}
                self.combined.update(md)
            if result.violation is not None:
                result.violation.plugin_name = ref.name
        except Exception as exc:  # noqa: BLE001 - reported to the core as the plugin's error
            call.result, call.exc, call.status = None, exc, "error"
            return False
        return True

    def _outcome(self, i: int, call: _Call, ret: Optional[_Ret]) -> str:
        """The outcome of one call as the JSON text RunReport reads (docs/protocol.md)."""
        result = call.result
        if (
            ret is None
            and result is not None
            and result.violation is None
            and result.modified_extensions is None
            and not result.retry_delay_ms
        ):
            # the common case (allow or block, nothing else to say), formatted directly
            cont = "true" if result.continue_processing else "false"
            return (f'{{"i":{i},"st":"ok","cont":{cont},"ret":"none","ext":0,"viol":null,'
                    f'"retry":0,"dur":{call.duration}}}')
        return _dumps(self._outcome_fields(i, call, ret))

    def _outcome_fields(self, i: int, call: _Call, ret: Optional[_Ret]) -> dict[str, Any]:
        result = call.result
        if result is None:
            exc = call.exc
            viol = None
            if isinstance(exc, PluginViolationError) and exc.violation is not None:
                ev = exc.violation
                viol = {"reason": ev.reason, "code": ev.code, "description": ev.description}
            # both texts: the core picks the one it quotes (core.ExceptionText)
            return {"i": i, "st": call.status, "cont": True, "ret": "none", "ext": 0, "viol": viol,
                    "retry": 0, "dur": call.duration, "str": str(exc), "repr": repr(exc)}
        v = result.violation
        me = result.modified_extensions
        out = {
            "i": i,
            "st": "ok",
            "cont": bool(result.continue_processing),
            "ret": "none",
            # 1 = the very object that is already the run's current extensions (no change);
            # the filtered copy a plugin is handed is always a fresh object (docs/protocol.md, outcome "ext")
            "ext": 0 if me is None else (1 if me is self.current_ext else 2),
            "viol": None if v is None else {"reason": v.reason, "code": v.code, "description": v.description},
            "retry": _clamp64(result.retry_delay_ms or 0),
            "dur": call.duration,
        }
        if ret is not None:
            out["ret"], out["cur"] = ret[0], ret[1]
            if ret[2] is not None:
                out["chg"] = ret[2]
        return out

    def _returned(self, diff: bool, inp: Any, modified: Any) -> _Ret:
        """The facts of a returned modified payload (docs/protocol.md, outcome "ret"): its
        kind against the input, whether it is the current payload itself, and, when the
        core asks (``diff``), the top-level fields that differ from the input."""
        cur = modified is self.current
        if isinstance(modified, BaseModel) and isinstance(modified, type(inp)):
            return "same", cur, changed_fields(inp, modified) if diff else None
        if isinstance(modified, (PluginPayload, dict)):
            return "payload", cur, None
        return "foreign", cur, None

    def _committed(self, accept: Optional[list[str]]) -> Any:
        """What becomes the current payload when the core commits the candidate: the
        returned object itself, or (``accept``) the accepted fields of it applied to the
        payload the plugin was given (an empty RootModel mapping falls back to the input,
        as apply_policy's ``apply_to or original``)."""
        if accept is None:
            return self.candidate
        modified = self.candidate
        base = self.candidate_base
        return base.model_copy(update={name: getattr(modified, name) for name in accept})

    async def _call(self, step: dict[str, Any]) -> str:
        i = step["i"]
        ref = self.hook_refs[i].plugin_ref
        ctx = self._context(i)
        target = self.current if self.current is not None else self.payload
        inp = self._isolated(target) if self.single_context is None else target
        call = await self._invoke(i, inp, ctx, step["timeout"], bool(step.get("span")))
        ret: Optional[_Ret] = None
        if call.result is not None and self._after_return(call, ctx, ref, step["merge"], step["meta"]):
            result = call.result
            modified = result.modified_payload
            self.candidate = modified
            if modified is not None:
                ret = self._returned(step["diff"], inp, modified)
                self.candidate_base = target or inp
            self.candidate_ext = result.modified_extensions
        out = self._outcome(i, call, ret)
        # plain: the core's answer is known to be "call the next listed plugin, commit
        # nothing" (core.Outcome.Plain checks the same fields again on replay)
        r = call.result
        self.plain = (
            r is not None
            and ret is None
            and bool(r.continue_processing)
            and r.violation is None
            and r.modified_extensions is None
            and not r.retry_delay_ms
        )
        if self.plain and self.single_context is None:
            # no later step names a plain call (only a violation, an error or a single
            # run's call): let its result go now rather than when the run ends
            del self.calls[i]
        return out

    async def _calls(self, step: dict[str, Any]) -> str:
        """A call step with ``next``: go on through the listed calls while outcomes are plain.

        The first outcome that is not plain ends the batch (its plugin ran, the next did
        not); the core replays the outcomes in order and answers as for the last.
        """
        first = await self._call(step)
        if not self.plain:
            return wire.run_report(self.id, first)
        outs = [first]
        # popped one by one, so a call's step is freed once it ran (memory in flight)
        nexts = step.pop("next")
        nexts.reverse()
        while nexts:
            outs.append(await self._call(nexts.pop()))
            if not self.plain:
                break
        return wire.run_report_batch(self.id, "[" + ",".join(outs) + "]")

    # -- concurrent phase (§11.6)

    async def _concurrent(self, step: dict[str, Any]) -> dict[str, Any]:
        indices: list[int] = step["i"]
        contexts = [self._context(i) for i in indices]
        target = self._effective()
        pool = step.get("pool")
        # a bound at least as large as the phase never makes a task wait: no semaphore then
        sem = asyncio.Semaphore(pool) if pool else None  # the core's bound (0: none)
        timeout = step["timeout"]
        span = bool(step.get("span"))
        # Completions are reported in the order the tasks finished (docs/protocol.md), as
        # upstream consumes asyncio.as_completed (asyncio.wait's `done` is a set: no order).
        finished = _Finished()
        for i, ctx in zip(indices, contexts, strict=True):
            task: asyncio.Future[str] = asyncio.ensure_future(
                self._concurrent_one(i, ctx, self._isolated(target), timeout, sem, span)
            )
            task.add_done_callback(finished)
            self.pending.add(task)
        while self.pending:
            task = await finished.next()
            self.pending.discard(task)
            reply = _loads(wire.run_report(self.id, task.result()))
            if reply["op"] != "next":
                return reply
            if "logs" in reply:
                _emit_logs(reply)
        raise RuntimeError("cpex: the core did not end the concurrent phase")

    async def _concurrent_one(
        self, i: int, ctx: PluginContext, inp: Any, timeout: float, sem: Optional[asyncio.Semaphore], span: bool
    ) -> str:
        if sem is not None:
            async with sem:
                call = await self._invoke(i, inp, ctx, timeout, span)
        else:
            call = await self._invoke(i, inp, ctx, timeout, span)
        ret: Optional[_Ret] = None
        if (
            call.result is not None
            and self._after_return(call, ctx, self.hook_refs[i].plugin_ref, True, True)
            and call.result.modified_payload is not None
        ):
            ret = _FOREIGN  # a concurrent plugin's payload never applies: no facts needed
        return self._outcome(i, call, ret)

    async def _cancel_pending(self) -> None:
        pending, self.pending = self.pending, set()
        for task in pending:
            task.cancel()
        if pending:
            await asyncio.gather(*pending, return_exceptions=True)

    # -- Go plugin effects

    def _effects(self, effects: dict[str, Any]) -> None:
        new_json = effects.get("payload")
        if new_json is not None:
            kind = type(self._effective())
            if not issubclass(kind, BaseModel):
                self.current = _loads(new_json)
            else:
                try:
                    self.current = kind.model_validate_json(new_json)
                except ValueError:
                    # pydantic's JSON parser stops at ~200 levels of nesting, which
                    # Python objects (and the core) go beyond: parse, then validate
                    self.current = kind.model_validate(_loads(new_json))
        meta = effects.get("meta")
        if meta:
            self.combined.update(meta)
        for i in effects.get("ctx") or ():
            self._context(i)

    # -- fire-and-forget (§11.9)

    def _spawn(self, step: dict[str, Any], indices: list[int]) -> list[asyncio.Task[Any]]:
        """Starts the fire-and-forget tasks the done step lists, as it says: on a copy of
        the payload it names ("original": the hook's own), at most ``faf_pool`` at once."""
        timeout = step["faf_timeout"]
        pool = step["faf_pool"]
        source = self.payload if step["faf_payload"] == "original" else self._effective()
        sem = asyncio.Semaphore(pool) if pool else None
        tasks = []
        for i in indices:
            ctx = self._context(i, reuse=False)
            inp = _isolated_copy(source)
            tasks.append(asyncio.create_task(self._faf_one(i, inp, ctx, timeout, sem)))
        return tasks

    async def _faf_one(
        self, i: int, inp: Any, ctx: PluginContext, timeout: float, sem: Optional[asyncio.Semaphore]
    ) -> Optional[PluginErrorModel]:
        ref = self.hook_refs[i].plugin_ref
        go_invoke_timeout.set(timeout)  # this task's own context: no reset needed
        if sem is not None:
            async with sem:
                call = await self._invoke(i, inp, ctx, timeout, self.trace_id is not None, use_result=False)
        else:
            call = await self._invoke(i, inp, ctx, timeout, self.trace_id is not None, use_result=False)
        if call.exc is None:
            return None
        # the core applies on_error and answers the log line and the error's message
        outcome = _dumps(self._outcome_fields(i, call, None))
        try:
            answer = _loads(wire.executor_faf_failed(self.executor._core(), core_ref_id(ref), outcome))
        except Exception:
            logger.exception("cpex: could not report a fire-and-forget failure of %s to the core", ref.name)
            return PluginErrorModel(message=repr(call.exc), plugin_name=ref.name)
        level, text = answer["log"]
        logger.log(_LOG_LEVELS.get(level, logging.ERROR), text)
        return PluginErrorModel(message=answer["message"], plugin_name=ref.name)

    # -- the end of a run

    def _violation(self, step: dict[str, Any]) -> Any:
        """The violation a final step names: a Python plugin's own object, or a Go plugin's JSON."""
        idx = step.get("viol", -1)
        if isinstance(idx, int) and idx >= 0:
            call = self.calls.get(idx)
            if call is not None and call.result is not None:
                return call.result.violation
        raw = step.get("violation")
        if raw:
            name = raw.pop("plugin_name", "")
            violation = PluginViolation(**raw)
            if name:
                violation.plugin_name = name
            return violation
        return None

    def _done(self, step: dict[str, Any]) -> tuple[PluginResult, Optional[PluginContextTable]]:
        if step.get("single"):
            return self._single_done(step), None
        metadata = self.combined
        decision = step.get("decision")
        if decision:
            metadata.update(decision)
        faf = step.get("faf")
        tasks = self._spawn(step, faf) if faf else []
        result = _construct(PluginResult, {
            "continue_processing": step["cont"],
            "modified_payload": self.current if step["payload"] else None,
            "modified_extensions": self.current_ext if step["ext"] else None,
            "violation": self._violation(step),
            "metadata": metadata,
            # the chain result carries no denial metrics (only a plugin's own result does)
            "denial_metadata": None,
            "background_tasks": tasks,
            "http_headers": None,
            "retry_delay_ms": step["retry"],
            "executions": _records(step["records"]),
        })
        if self.chain_span is not None:
            self._span_end(self.chain_span, "ok", step.get("chain_end"))
        return result, self.table

    def _single_done(self, step: dict[str, Any]) -> PluginResult:
        """The result of a single-plugin run, built as the core says (docs/protocol.md)."""
        kind = step["result"]
        call = self.calls.get(0)
        result = call.result if call is not None else None
        if kind == "empty" or result is None:
            return PluginResult()
        if kind == "plugin":
            return result
        return PluginResult(
            continue_processing=step["cont"],
            modified_payload=result.modified_payload if step["payload"] else None,
            violation=result.violation if step["viol"] else None,
            # the caller's accumulator itself, None when none was given (as upstream)
            metadata=self.single_meta,
            denial_metadata=result.denial_metadata if step["denial"] else None,
        )

    def _exception(self, step: dict[str, Any]) -> BaseException:
        """The exception a raise step describes: its class (``kind``), message and plugin;
        ``own``: the plugin's own exception instead; ``cause``: chain the plugin's."""
        kind = step["kind"]
        message = step["message"]
        i = step.get("i", -1)
        call = self.calls.get(i) if i >= 0 else None
        exc = call.exc if call is not None else None
        own = exc if step.get("own") else None
        cause = exc if step.get("cause") else None
        if kind == "size":
            return PayloadSizeError(message)
        if kind == "plugin_timeout":
            timeout_exc = PluginTimeoutError(message)
            if cause is not None:
                timeout_exc.__cause__ = cause
            return timeout_exc
        name = self.hook_refs[i].plugin_ref.name if i >= 0 else ""
        if kind == "violation":
            records = _records(step.get("records") or [])
            if isinstance(own, PluginViolationError):
                err = own  # the plugin's own error: attach_denial_outcome leaves it without one
            else:
                metrics = call.result.denial_metadata if call is not None and call.result is not None else None
                err = PluginViolationError._from_framework_denial(
                    message, self._violation({"viol": i, **step}), metrics
                )
            err.executions = records
            if i >= 0:
                # the denial outcome is the blocking plugin's own (last) record
                uuid = self.hook_refs[i].plugin_ref.uuid
                for rec in reversed(records):
                    if rec.plugin_id == uuid:
                        err.attach_denial_outcome(rec)
                        break
            return err
        if own is not None:
            return own
        perr = PluginError(error=PluginErrorModel(message=message, plugin_name=name))
        if cause is not None:
            perr.__cause__ = cause  # as `raise ... from exc`
        return perr

    # -- observability (§20): the core says when; provider errors never reach the caller

    def _span_start(self, name: str, **kwargs: Any) -> Optional[str]:
        provider = self.executor.observability
        if provider is None or self.trace_id is None:
            return None
        try:
            return provider.start_span(trace_id=self.trace_id, name=name, kind="internal", **kwargs)
        except Exception:
            logger.debug("observability provider failed to start span %s", name, exc_info=True)
            return None

    def _span_end(self, span_id: Optional[str], status: str, attributes: Optional[dict[str, Any]]) -> None:
        provider = self.executor.observability
        if provider is None:
            return
        try:
            if attributes is None:
                provider.end_span(span_id=span_id, status=status)
            else:
                provider.end_span(span_id=span_id, status=status, attributes=attributes)
        except Exception:
            logger.debug("observability provider failed to end span", exc_info=True)

    def _plugin_span_start(self, ref: Any, timeout: float) -> Optional[str]:
        return self._span_start(
            f"plugin.execute.{ref.name}",
            resource_type="plugin",
            resource_name=ref.name,
            attributes={
                "plugin.name": ref.name,
                "plugin.uuid": ref.uuid,
                "plugin.mode": str(ref.mode),
                "plugin.priority": ref.priority,
                "plugin.timeout": self.executor.timeout,  # the caller's own value (int stays int)
            },
        )

    def _plugin_span_end(self, span_id: Optional[str], call: _Call) -> None:
        if call.result is None:
            # no result: the hook raised, or a fire-and-forget hook returned something else
            self._span_end(span_id, "error" if call.exc is not None else "ok", None)
            return
        self._span_end(
            span_id,
            "ok",
            {
                "plugin.had_violation": call.result.violation is not None,
                "plugin.modified_payload": call.result.modified_payload is not None,
            },
        )
