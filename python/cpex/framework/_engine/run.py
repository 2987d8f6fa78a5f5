"""One hook run: carry out the core's steps on Python objects (docs/protocol.md)."""

from __future__ import annotations

import asyncio
import ctypes
import logging
from typing import TYPE_CHECKING, Any, Optional, Union

from pydantic import BaseModel, RootModel

from cpex.framework import _gowait
from cpex.framework._engine import wire
from cpex.framework._engine.gostate import apply_local, go_context
from cpex.framework._engine.invoke import _Call, _Finished, begin, finish, go_invoke_timeout
from cpex.framework._engine.payload import PayloadEncodeError, _clamp64, _dumps, _isolated_copy, _loads, payload_json_bytes
from cpex.framework._engine.refs import core_ref_id
from cpex.framework._engine.results import (
    _GLOBAL_CONTEXT_FIELDS,
    _GLOBAL_CONTEXT_SET,
    _LOG_LEVELS,
    _PLUGIN_CONTEXT_SET,
    PayloadSizeError,
    PluginTimeoutError,
    _chain_records,
    _construct,
    _emit_logs,
    _new,
    _records,
    _set_dict,
    _set_extra,
    _set_fields_set,
    _set_private,
    record_templates,
)
from cpex.framework.errors import PluginError, PluginViolationError
from cpex.framework.extensions import Extensions
from cpex.framework.hooks.policies import changed_fields
from cpex.framework.memory import _safe_deepcopy, wrap_payload_for_isolation
from cpex.framework.models import (
    GlobalContext,
    PluginContext,
    PluginContextTable,
    PluginErrorModel,
    PluginPayload,
    PluginResult,
    PluginViolation,
)

if TYPE_CHECKING:
    from cpex.framework._engine.executor import CoreExecutor

# A returned payload's facts (outcome "ret", "cur", "chg"): its kind, whether it is the
# current payload object itself, the changed top-level fields when the core asked.
_Ret = tuple[str, bool, Optional[list[str]]]
_FOREIGN: _Ret = ("foreign", False, None)


def _is_plain(result: Optional[PluginResult], ret: Optional[_Ret]) -> bool:
    """A plain outcome: the hook returned, let processing go on, and has nothing to apply
    (``ret``: the facts of a returned payload) or say. It crosses as its index and
    duration only (RunReportPlain, RunSinglePlain); core.Outcome.Plain checks the same
    fields again when it replays one."""
    return (
        result is not None
        and ret is None
        and bool(result.continue_processing)
        and result.violation is None
        and result.modified_extensions is None
        and not result.retry_delay_ms
    )
# A completed concurrent call: its index, the call, its returned payload's facts.
_Done = tuple[int, _Call, Optional[_Ret]]

logger = logging.getLogger("cpex.framework.manager")

def _returned_kind(inp: Any, modified: Any) -> str:
    """The kind of a returned modified payload against the plugin's input (outcome "ret")."""
    if isinstance(modified, BaseModel) and isinstance(modified, type(inp)):
        return "same"
    if isinstance(modified, (PluginPayload, dict)):
        return "payload"
    return "foreign"


class ChainRule:
    """The core's standing answer for runs of one plan under one key of facts
    (RunChainRule, pybind/runchain.go): the call steps such a run starts with, and the
    records its done step carries when every outcome is plain (durations filled in)."""

    __slots__ = ("id", "calls", "records")

    def __init__(self, answer: dict[str, Any]) -> None:
        self.id: int = answer["rule"]
        nexts = answer.pop("next", [])
        # the first call step, then the calls listed after it (each a call step)
        self.calls: list[dict[str, Any]] = [answer, *nexts]
        self.records = record_templates(answer.pop("records"))
        if answer.get("op") != "call" or len(self.records) != len(self.calls):
            # the rule's path assumes what RunChainRule documents; do not take it on trust
            raise RuntimeError(f"cpex: unexpected chain rule from the core: {answer!r}")


class _Run:
    """One hook run: the Python objects the core's steps act on."""

    # slots: the per-plugin path reads these attributes many times per call
    __slots__ = (
        "executor", "hook_refs", "payload", "gc", "hook", "local_contexts", "extensions", "plan", "isolate",
        "policy", "trace_id", "drop", "id", "finished", "table", "combined", "current", "current_ext",
        "candidate", "candidate_base", "candidate_ext", "calls", "pending", "chain_span", "single_context", "single_meta",
        "plain", "plain_dur", "size_hint",
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
        # the size fact RunStart carried (sum(len(str(v))) of args): whether a go step's
        # payload JSON is likely long enough to go off the loop before it is written
        self.size_hint: Optional[int] = None
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
        self.plain_dur = 0  # ...and then its duration (ns)

    # -- the loop

    async def drive(self, step: dict[str, Any]) -> tuple[PluginResult, Optional[PluginContextTable]]:
        frame: Optional[Union[str, bytes]] = None  # the payload frame of the last go step's answer
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
                self._effects(step["effects"], frame)
            if "chain_span" in step:
                self.chain_span = self._span_start("plugin.hook.invoke", attributes=step["chain_span"])
            op = step["op"]
            if op == "call":
                if "next" in step:
                    step = _loads(await self._calls(step))
                else:
                    out = await self._call(step)
                    if out is None:  # plain: its two integers
                        step = _loads(wire.run_report_plain(self.id, f"{step['i']}:{self.plain_dur}", ""))
                    else:
                        step = _loads(wire.run_report(self.id, out))
            elif op == "go":
                target = self.payload if step.get("original") else self._effective()
                off_from = step.get("async")
                hint = self.size_hint
                early = off_from is not None and hint is not None and hint >= off_from and _gowait.enabled
                if early:
                    # Likely off the loop: the size fact and RunStart came before, the
                    # payload's JSON (~0.1-0.2 ms a megabyte) takes a loop turn of its own.
                    await asyncio.sleep(0)
                try:
                    text = payload_json_bytes(target)
                except PayloadEncodeError as exc:
                    # the fact goes up; the core ends the run with the error it decides
                    unreadable = _loads(wire.run_go_unreadable(self.id, _dumps(exc.facts())))
                    self.finished = True
                    raise self._exception(unreadable) from exc
                gc = self.gc
                # the Go plugins the core says read extensions get them
                readers = step.get("ext") if self.extensions is not None else None
                # only when there is context to send: no crossing otherwise (docs/protocol.md)
                if gc is not None and (gc.state or gc.metadata or self.local_contexts or readers):
                    doc = go_context(gc, self.local_contexts, self.hook_refs, step["i"], self.extensions, readers)
                    if doc is not None:
                        wire.run_go_context(self.id, doc)
                head, frame, off_loop = await self._go(text, off_from, early)
                step = _loads(head)
                if off_loop and frame is not None:
                    # Work long enough to leave the loop: the new payload's validation
                    # (_effects, ~0.2 ms a megabyte) takes a loop turn of its own rather
                    # than adding to the answer's decoding (bench/loopstall.py).
                    await asyncio.sleep(0)
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

    async def chain(self, rule: ChainRule) -> tuple[PluginResult, Optional[PluginContextTable]]:
        """A run RunChainStart started under ``rule``: its call steps carried out as
        _calls would, without the steps' JSON. All plain: RunChainEnd with their durations,
        and the result built from the rule's records when the core answers that the run
        ended so (""); any other answer, or an outcome that is not plain, goes on as a
        run of the general protocol (the core's run is an ordinary one)."""
        durations: list[int] = []
        calls = rule.calls
        for step in calls:
            last = await self._call(step)
            if last is not None:
                # the batch _calls would report: the plain outcomes so far, then this one
                plain = ",".join([f"{calls[k]['i']}:{d}" for k, d in enumerate(durations)])
                return await self.drive(_loads(wire.run_report_plain(self.id, plain, last)))
            durations.append(self.plain_dur)
        answer = wire.run_chain_end(rule.id, self.id, ",".join(map(str, durations)))
        if answer:
            return await self.drive(_loads(answer))
        self.finished = True
        # _done's result for a done step of records alone (RunChainEnd checked it is)
        result = _construct(PluginResult, {
            "continue_processing": True,
            "modified_payload": None,
            "modified_extensions": None,
            "violation": None,
            "metadata": self.combined,
            "denial_metadata": None,
            "background_tasks": [],
            "http_headers": None,
            "retry_delay_ms": 0,
            "executions": _chain_records(rule.records, durations),
        })
        return result, self.table

    async def _go(
        self, payload: bytes, off_loop_from: Optional[int], turned: bool
    ) -> tuple[str, Optional[Union[str, bytes]], bool]:
        """RunGo's answer (header, payload frame), and whether it was made off the event
        loop: when the core says the work is long (its ``async`` length, docs/protocol.md).
        ``turned``: the loop had a turn since RunStart. A cancelled wait is dropped by
        RunAbort."""
        if off_loop_from is not None and len(payload) >= off_loop_from and _gowait.enabled:
            # Go reads the payload's bytes by address on its goroutine (bytes are
            # immutable; run_off_loop keeps them alive until Go signalled), so the loop's
            # thread neither copies them nor allocates them in the Go heap.
            if not turned:  # the size fact, RunStart and the payload's JSON came before
                await asyncio.sleep(0)
            run_id = self.id
            addr = ctypes.cast(ctypes.c_char_p(payload), ctypes.c_void_p).value or 0
            answer = await _gowait.run_off_loop(
                lambda fd: wire.run_go_start(run_id, addr, len(payload), fd),
                lambda: _go_finish(run_id),
                lent=payload,
            )
            if answer is not None:
                return answer[0], answer[1], True
        head, frame = wire.split_frames(wire.run_go(self.id, payload.decode()))
        return head, frame, False

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
        """Awaits one hook with the timeout (invoke.begin, invoke.finish). ``use_result``
        False (fire-and-forget): what the hook returns is never read."""
        call = self._begin(i, inp, ctx, span, use_result)
        if call.pending is not None:
            await finish(call, timeout, use_result)
            self._end(call)
        return call

    def _begin(self, i: int, inp: Any, ctx: PluginContext, span: bool, use_result: bool = True) -> _Call:
        """Starts one call and runs its hook up to its first suspension (invoke.begin);
        when the hook suspended, ``call.pending`` is set and ``_end`` is for later."""
        href = self.hook_refs[i]
        call = _Call()
        self.calls[i] = call
        if span:
            call.span = self._plugin_span_start(href.plugin_ref, self.executor.timeout)
        begin(call, href, inp, ctx, self.extensions, use_result)
        if call.pending is None:
            self._end(call)
        return call

    def _end(self, call: _Call) -> None:
        if call.span is not None:
            self._plugin_span_end(call.span, call)

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
        kind = _returned_kind(inp, modified)
        return kind, modified is self.current, changed_fields(inp, modified) if diff and kind == "same" else None

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

    async def _call(self, step: dict[str, Any]) -> Optional[str]:
        """Runs one serial call step. A plain outcome (see below) is not formatted: None is
        returned and its duration kept in ``plain_dur`` (RunReportPlain carries it); any
        other outcome is returned as the JSON RunReport reads."""
        i = step["i"]
        href = self.hook_refs[i]
        ctx = self._context(i)
        target = self.current if self.current is not None else self.payload
        inp = self._isolated(target) if self.single_context is None else target
        # _invoke's body, written out: one coroutine frame less per plugin call
        call = self._begin(i, inp, ctx, bool(step.get("span")))
        if call.pending is not None:
            await finish(call, step["timeout"])
            self._end(call)
        result = call.result
        ret: Optional[_Ret] = None
        if result is not None and self._after_return(call, ctx, href.plugin_ref, step["merge"], step["meta"]):
            modified = result.modified_payload
            self.candidate = modified
            if modified is not None:
                ret = self._returned(step["diff"], inp, modified)
                self.candidate_base = target or inp
            self.candidate_ext = result.modified_extensions
        # plain: the core's answer is known to be "call the next listed plugin, commit
        # nothing"; call.result is None when _after_return turned the call into an error
        if _is_plain(call.result, ret):
            self.plain = True
            self.plain_dur = call.duration
            if self.single_context is None:
                # no later step names a plain call (only a violation, an error or a single
                # run's call): let its result go now rather than when the run ends
                del self.calls[i]
            return None
        self.plain = False
        return self._outcome(i, call, ret)

    async def _calls(self, step: dict[str, Any]) -> str:
        """A call step with ``next``: go on through the listed calls while outcomes are plain.

        The first outcome that is not plain ends the batch (its plugin ran, the next did
        not); the core replays the outcomes in order and answers as for the last. The
        plain outcomes cross as "index:duration" pairs (RunReportPlain), the last one,
        when it is not plain, as its JSON.
        """
        last = await self._call(step)
        if last is not None:
            return wire.run_report(self.id, last)
        plain = [f"{step['i']}:{self.plain_dur}"]
        # popped one by one, so a call's step is freed once it ran (memory in flight)
        nexts = step.pop("next")
        nexts.reverse()
        while nexts:
            call_step = nexts.pop()
            last = await self._call(call_step)
            if last is not None:
                break
            plain.append(f"{call_step['i']}:{self.plain_dur}")
        return wire.run_report_plain(self.id, ",".join(plain), last or "")

    # -- concurrent phase (§11.6)

    async def _concurrent(self, step: dict[str, Any]) -> dict[str, Any]:
        indices: list[int] = step["i"]
        contexts = [self._context(i) for i in indices]
        target = self._effective()
        inputs = [self._isolated(target) for _ in indices]  # all before any plugin runs
        pool = step.get("pool")
        timeout = step["timeout"]
        span = bool(step.get("span"))
        # Completions are reported in the order the calls finished (docs/protocol.md), as
        # upstream consumes asyncio.as_completed (asyncio.wait's `done` is a set: no order):
        # each call records its own completion as it ends (_concurrent_one).
        finished = _Finished()
        # the core's bound: it sends none when the bound is at least the phase's size,
        # which never makes a call wait
        sem = asyncio.Semaphore(pool) if pool else None
        # Every call is a task of its own, created in order, whose first step runs in that
        # task: asyncio.timeout (wait_for's on Python 3.12) and current_task bind to the task
        # that is current when a hook starts them, so a first step run here and continued in
        # a task would have its deadline cancel the caller instead.
        for i, ctx, inp in zip(indices, contexts, inputs, strict=True):
            self.pending.add(asyncio.ensure_future(self._concurrent_one(i, ctx, inp, timeout, sem, span, finished)))
        while self.pending:
            task, done = await finished.next()
            self.pending.discard(task)
            if isinstance(done, BaseException):
                if task.done():
                    task.exception()  # retrieved: re-raised below, not logged by asyncio as well
                raise done
            i, call, ret = done
            reply = _loads(self._report(i, call, ret))
            if reply["op"] != "next":
                return reply
            if "logs" in reply:
                _emit_logs(reply)
        raise RuntimeError("cpex: the core did not end the concurrent phase")

    def _concurrent_result(self, i: int, call: _Call, ctx: PluginContext) -> Optional[_Ret]:
        """What a concurrent call's completion does with its result (merge, metadata)."""
        if (
            call.result is not None
            and self._after_return(call, ctx, self.hook_refs[i].plugin_ref, True, True)
            and call.result.modified_payload is not None
        ):
            return _FOREIGN  # a concurrent plugin's payload never applies: no facts needed
        return None

    def _report(self, i: int, call: _Call, ret: Optional[_Ret]) -> str:
        """RunReport of one outcome: a plain one as its index and duration."""
        if _is_plain(call.result, ret):
            return wire.run_report_plain(self.id, f"{i}:{call.duration}", "")
        return wire.run_report(self.id, self._outcome(i, call, ret))

    async def _concurrent_one(
        self,
        i: int,
        ctx: PluginContext,
        inp: Any,
        timeout: float,
        sem: Optional[asyncio.Semaphore],
        span: bool,
        finished: _Finished,
    ) -> _Done:
        """One call of a concurrent phase, in its own task; it records its completion in
        ``finished`` itself, the moment it ends: the driver wakes one loop turn after the
        last completion, with no done callback in between."""
        task = asyncio.current_task()
        try:
            if sem is not None:
                async with sem:
                    call = await self._invoke(i, inp, ctx, timeout, span)
            else:
                call = await self._invoke(i, inp, ctx, timeout, span)
            done = i, call, self._concurrent_result(i, call, ctx)
        except BaseException as exc:
            finished.add(task, exc)
            raise
        finished.add(task, done)
        return done

    async def _cancel_pending(self) -> None:
        pending, self.pending = self.pending, set()
        for task in pending:
            task.cancel()
        if pending:
            await asyncio.gather(*pending, return_exceptions=True)

    # -- Go plugin effects

    def _effects(self, effects: wire.EffectsState, new_json: Optional[Union[str, bytes]]) -> None:
        if effects["payload"]:
            if new_json is None:
                raise RuntimeError("cpex: the core announced a new payload and sent no payload frame")
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
        gc = self.gc
        if gc is not None:  # before the contexts: their snapshots hold the merged state
            gs = effects.get("gs")
            if gs:
                gc.state.update(gs)
            gm = effects.get("gm")
            if gm:
                gc.metadata.update(gm)
        local = effects.get("local")
        if local:
            states = {pair[0]: pair[1] for pair in local}
            for i in effects.get("ctx") or ():
                ctx = self._context(i)
                if i in states:
                    apply_local(ctx, states[i])
        else:
            for i in effects.get("ctx") or ():
                self._context(i)

    # -- fire-and-forget (§11.9)

    def _spawn(self, step: dict[str, Any], indices: list[int]) -> list[asyncio.Task[Any]]:
        """Starts the fire-and-forget tasks the done step lists, as it says: on a copy of
        the payload it names ("original": the hook's own), at most ``faf_pool`` at once."""
        timeout = step["faf_timeout"]
        pool = step["faf_pool"]
        count = bool(step.get("faf_count"))
        source = self.payload if step["faf_payload"] == "original" else self._effective()
        sem = asyncio.Semaphore(pool) if pool else None
        tasks = []
        for i in indices:
            ctx = self._context(i, reuse=False)
            inp = _isolated_copy(source)
            tasks.append(asyncio.create_task(self._faf_one(i, inp, ctx, timeout, sem, count)))
        return tasks

    async def _faf_one(
        self, i: int, inp: Any, ctx: PluginContext, timeout: float, sem: Optional[asyncio.Semaphore], count: bool
    ) -> Optional[PluginErrorModel]:
        ref = self.hook_refs[i].plugin_ref
        go_invoke_timeout.set(timeout)  # this task's own context: no reset needed
        if sem is not None:
            async with sem:
                call = await self._invoke(i, inp, ctx, timeout, self.trace_id is not None, use_result=False)
        else:
            call = await self._invoke(i, inp, ctx, timeout, self.trace_id is not None, use_result=False)
        if call.exc is None:
            if count:  # metrics on: the core counts the task (its result is ignored)
                try:
                    # the outcome's JSON, formatted directly (two ints)
                    wire.executor_faf_done(self.executor._core(), core_ref_id(ref), self.hook,
                                           f'{{"i":{i},"st":"ok","dur":{call.duration}}}')
                except Exception:
                    logger.exception("cpex: could not report a fire-and-forget task of %s to the core", ref.name)
            return None
        # the core counts it, applies on_error and answers the log line and the error's message
        outcome = _dumps(self._outcome_fields(i, call, None))
        try:
            answer = _loads(wire.executor_faf_done(self.executor._core(), core_ref_id(ref), self.hook, outcome))
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
                # a Go plugin's comes with the step (its Python call object does not exist)
                metrics = call.result.denial_metadata if call is not None and call.result is not None else step.get("denial")
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


def _go_finish(run_id: int) -> tuple[str, Optional[bytes]]:
    """RunGoFinish's header and the payload frame Go holds for it, copied once from its
    address into bytes (model_validate_json and orjson read bytes as they read str)."""
    head = wire.run_go_finish(run_id)
    n = wire.run_go_frame(run_id)
    if not n:
        return head, None
    try:
        # held and pinned by Go until released (pybind/gobuf.go): readable for n bytes
        return head, ctypes.string_at(wire.run_go_frame_at(run_id), n)
    finally:
        wire.run_go_frame_release(run_id)
