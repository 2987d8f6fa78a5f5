"""Go plugins (``kind: builtin/<name>``) as seen from Python.

A Go plugin is built and owned by the core. In a hook run the core calls it itself,
inside a step, on the payload's JSON (docs/protocol.md, ``go`` steps), so no Python
object is involved on that path. This class only gives it the shape of a ``Plugin``:
config properties, one coroutine per configured hook (for ``invoke_hook_for_plugin`` and
direct calls, which go through the core too) and a ``shutdown`` that releases it.

``invoke_hook_for_plugin`` (the single run, _engine/single.py) does not await the hook
method: it calls the method's ``go_single``, which runs the plugin and the core's
single-run rule on its outcome in one crossing (GoPluginSingle) and answers the call and
the core's final step. Calls that run off the event loop take the general path.
"""

from __future__ import annotations

import weakref
from typing import Any, Awaitable, Callable, Optional, Union

from pydantic import BaseModel

from cpex.framework import _gowait
from cpex.framework._driver import _Call, _construct, _dumps, _loads, go_invoke_timeout, payload_json, user_fact
from cpex.framework._engine import wire
from cpex.framework._engine.invoke import _monotonic_ns
from cpex.framework.base import Plugin
from cpex.framework.errors import PluginError, PluginViolationError
from cpex.framework.models import PluginConfig, PluginContext, PluginPayload, PluginResult, PluginViolation

# go_single's answer: the call, and the core's final step for it ("" = the plugin's own
# result), or None when the core has not decided on the call (it raised, or returned a
# modified payload the driver validates first): report it as any hook's outcome.
GoSingle = tuple[_Call, Union[str, dict[str, Any], None]]


def _release(go_id: int) -> None:
    if wire.started():
        try:
            wire.go_plugin_release(go_id)
        except Exception:
            pass


# The last facts text written and what it was written from. Every call under one
# GlobalContext (each plugin of a request, a caller's loop reusing its context) sends the
# same text; building it (the user's fact, orjson) was a tenth of a Go built-in's
# invoke_hook_for_plugin. One entry, replaced whole (a tuple: threads see all or none).
_last_facts: tuple[Any, ...] = ()
_SCALARS = frozenset({str, bool, int, type(None)})
_STR = frozenset({str})


def _user_key(user: Any) -> Any:
    """What a user's fact depends on, comparable with ==, or None when it cannot be
    compared so (then the text is built every call). A dict of str keys and JSON scalars:
    its items and their exact types (True == 1 and 1 == 1.0, but their facts differ)."""
    if user is None or type(user) is str:
        return (user,)
    if type(user) is dict:
        types = tuple(map(type, user.values()))
        if _SCALARS.issuperset(types) and _STR.issuperset(map(type, user)):
            return (tuple(user.items()), types)
    return None


def _context_facts(context: PluginContext, timeout: Optional[float]) -> str:
    global _last_facts
    gc = context.global_context
    key = (gc.request_id, gc.server_id, gc.tenant_id, gc.content_type, timeout, type(timeout), _user_key(gc.user))
    last = _last_facts
    if last and last[0] == key and key[-1] is not None:
        return last[1]
    text = _facts_text(gc, timeout)
    if key[-1] is not None:
        _last_facts = (key, text)
    return text


def _facts_text(gc: Any, timeout: Optional[float]) -> str:
    facts: dict[str, Any] = {
        "rid": gc.request_id,
        "server_id": gc.server_id,
        "tenant_id": gc.tenant_id,
        "content_type": gc.content_type,
        "user": user_fact(gc.user),
    }
    if timeout is not None and timeout > 0:
        # the executor's timeout (docs/protocol.md, GoPluginInvoke); the core refuses <= 0
        facts["timeout"] = timeout
    return _dumps(facts)


# Below this many bytes (the hook's last payload text) a payload model is written by its
# own pydantic serializer straight to JSON: for the small payloads of most calls that is
# half the time of payload_json's model_dump + orjson (0.85 against 1.77 µs for the
# gateway profile's samples); for large ones, with non-ASCII text, it is slower (13 against
# 10 µs at 16 KB), so those keep payload_json. Both write the same document (the same
# serializer in JSON mode; numbers may be spelled differently, 1e-7 / 1e-07, never
# valued differently); anything to_json refuses (a lone surrogate) goes to payload_json.
_SMALL_PAYLOAD = 1024
_MODEL_DUMP = BaseModel.model_dump


def _payload_text(payload: PluginPayload, last_len: int) -> str:
    # a model whose class overrides model_dump writes what that override answers: only
    # payload_json calls it
    if last_len < _SMALL_PAYLOAD and isinstance(payload, BaseModel) and type(payload).model_dump is _MODEL_DUMP:
        try:
            return payload.__pydantic_serializer__.to_json(payload, fallback=repr).decode()
        except Exception:  # noqa: BLE001 - payload_json's fallbacks decide, as before
            pass
    return payload_json(payload)


_TIMEOUT_FACTS: dict[Optional[float], str] = {}


def _timeout_facts(timeout: Optional[float]) -> str:
    """The facts of a call to a plugin that never reads its context: the timeout alone,
    as _facts_text writes it (the core reads the other facts as absent)."""
    text = _TIMEOUT_FACTS.get(timeout)
    if text is None:
        text = _dumps({"timeout": timeout} if timeout is not None and timeout > 0 else {})
        if len(_TIMEOUT_FACTS) < 64:  # a handful of executor timeouts, never one per call
            _TIMEOUT_FACTS[timeout] = text
    return text


def _answer(raw: str, state: list[Any]) -> tuple[dict[str, Any], Optional[str]]:
    """The head of GoPluginInvoke's (or GoPluginSingle's) answer and the modified payload
    frame; keeps what the core says about the plugin's next calls in state: the off-loop
    threshold ([0]) and whether it reads its context ([1], "ctx": false when it never does)."""
    head, frame = wire.split_frames(raw)
    answer: dict[str, Any] = _loads(head)
    state[0] = answer.get("async", state[0])
    state[1] = answer.get("ctx", True)
    return answer, (frame if answer.get("payload") else None)  # the frame is the new payload


def _result(answer: dict[str, Any], modified: Optional[str], payload: PluginPayload, plugin_name: str) -> PluginResult:
    violation: Optional[PluginViolation] = None
    if answer.get("violation"):
        fields = dict(answer["violation"])
        name = fields.pop("plugin_name", "") or plugin_name
        violation = PluginViolation(**fields)
        violation.plugin_name = name
    # The answer's values are valid as they are (bool, a dict of JSON values, an int):
    # the result is built without validation, with the fields set that the constructor
    # would record for these five keywords.
    return _construct(
        PluginResult,
        {
            "continue_processing": answer.get("cont", True),
            "modified_payload": type(payload).model_validate_json(modified) if modified is not None else None,
            "modified_extensions": None,
            "violation": violation,
            "metadata": answer.get("metadata") or {},
            "denial_metadata": None,
            "background_tasks": [],
            "http_headers": None,
            "retry_delay_ms": answer.get("retry", 0),
            "executions": [],
        },
        set(_RESULT_FIELDS_SET),
    )


_RESULT_FIELDS_SET = frozenset({"continue_processing", "modified_payload", "violation", "metadata", "retry_delay_ms"})


def _status(exc: BaseException) -> str:
    """The status _engine/single.py's _call gives a hook's exception (no timer was armed)."""
    if isinstance(exc, TimeoutError):
        return "traise"
    if isinstance(exc, PluginViolationError):
        return "vexc"
    if isinstance(exc, PluginError):
        return "perror"
    return "error"


class GoPlugin(Plugin):
    """A plugin implemented in Go and registered in the core under its kind."""

    def __init__(self, config: PluginConfig) -> None:
        super().__init__(config)
        spec = {"name": config.name, "kind": config.kind, "hooks": list(config.hooks), "config": config.config or {}}
        # default=str: a YAML config may hold dates and the like, which the Go side reads as text
        self._go_plugin_id: int = wire.go_plugin_new(_dumps(spec, default=str))
        self._finalizer = weakref.finalize(self, _release, self._go_plugin_id)
        self._finalizer.atexit = False
        for hook in config.hooks:
            setattr(self, str(hook), self._hook_for(str(hook)))

    def _hook_for(self, hook: str) -> Callable[[PluginPayload, PluginContext], Awaitable[PluginResult]]:
        # The coroutine function is stored on the plugin: it must not hold the plugin itself,
        # or the plugin would live until a cycle collection and release its Go twin late.
        go_id, plugin_name = self._go_plugin_id, self.name
        # What the core's last answer said about the next calls: [0] the payload JSON
        # length from which a call runs off the event loop (decided from the plugin's
        # measured cost, 0: it is I/O-bound); [1] whether the plugin reads its context
        # (until an answer says it never does, the request's facts are sent).
        state: list[Any] = [wire.go_plugin_async(go_id), True, 0]  # [2]: the last payload text's length

        def text_of(payload: PluginPayload) -> str:
            text = _payload_text(payload, state[2])
            state[2] = len(text)
            return text

        def facts_of(context: PluginContext, timeout: Optional[float]) -> str:
            return _context_facts(context, timeout) if state[1] else _timeout_facts(timeout)

        async def run_go_plugin(payload: PluginPayload, context: PluginContext) -> PluginResult:
            text, facts = text_of(payload), facts_of(context, go_invoke_timeout.get())
            raw: Optional[str] = None
            if _gowait.enabled and len(text) >= state[0]:
                job: list[int] = []
                raw = await _gowait.run_off_loop(
                    lambda fd: job.append(wire.go_plugin_invoke_start(go_id, hook, text, facts, fd)),
                    lambda: wire.go_plugin_invoke_finish(job[0]),
                    lambda: wire.go_plugin_invoke_drop(job[0]),
                )
            if raw is None:
                raw = wire.go_plugin_invoke(go_id, hook, text, facts)
            answer, modified = _answer(raw, state)
            return _result(answer, modified, payload, plugin_name)

        def go_single(rule: Any, payload: PluginPayload, context: PluginContext) -> Optional[GoSingle]:
            """The single run of this hook under the core's rule (_engine/single.py), in one
            crossing; None: take the general path (the call would run off the loop, or the
            payload cannot be written, which the hook then raises as it always did)."""
            try:
                text = text_of(payload)
            except Exception:  # noqa: BLE001 - raised again by the hook on the general path
                return None
            if _gowait.enabled and len(text) >= state[0]:
                return None
            call = _Call()
            start = _monotonic_ns()
            try:
                raw = wire.go_plugin_single(rule.id, go_id, hook, text, facts_of(context, rule.timeout))
            except Exception as exc:  # noqa: BLE001 - the hook's error, classified as _call does
                call.exc, call.status = exc, _status(exc)
                call.duration = _monotonic_ns() - start
                return call, None
            answer, modified = _answer(raw, state)
            try:
                call.result = _result(answer, modified, payload, plugin_name)
            except Exception as exc:  # noqa: BLE001 - a modified payload its model rejects
                # Report the call as the error it is (the general path raises it from the
                # hook the same way); the core has not counted it (answer "step": false).
                call.exc, call.status = exc, _status(exc)
                call.duration = _monotonic_ns() - start
                return call, None
            call.duration = _monotonic_ns() - start
            step = answer["step"]
            if step is False:
                # a modified payload, now validated: the core has not run the rule on the
                # call yet; it is reported as any hook's outcome (RunSingleReport)
                return call, None
            return call, ("" if step is None else step)

        run_go_plugin.go_single = go_single  # type: ignore[attr-defined]
        run_go_plugin.__name__ = hook
        return run_go_plugin

    async def shutdown(self) -> None:
        self._finalizer()
