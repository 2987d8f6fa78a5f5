"""Awaiting one plugin hook: the timeout armed only if the hook suspends, completion order."""

from __future__ import annotations

import asyncio
import contextvars
import time
import types
from collections import deque
from typing import Any, Optional

from cpex.framework.errors import PluginError, PluginViolationError
from cpex.framework.extensions import Extensions
from cpex.framework.extensions.tiers import filter_extensions
from cpex.framework.models import (
    PluginResult,
)

# The executor's timeout while the driver itself calls a plugin's hook coroutine outside
# a core ``go`` step (invoke_hook_for_plugin, fire-and-forget). A Go plugin's coroutine
# (_goplugin) passes it to GoPluginInvoke, so the core does not apply its 30 s default.
go_invoke_timeout: contextvars.ContextVar[Optional[float]] = contextvars.ContextVar(
    "cpex_go_invoke_timeout", default=None
)



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

    # Class-level defaults and no __init__: one per plugin call, and a call that returns
    # plain only ever sets start, result and duration (no Python frame to create it).
    ext_in: Optional[Extensions] = None
    result: Optional[PluginResult] = None
    exc: Optional[BaseException] = None
    status = "ok"
    duration = 0
    start = 0
    # (awaitable, first yielded value) while the hook is suspended after its first step
    pending: Optional[tuple[Any, Any]] = None
    span: Optional[str] = None  # the plugin's observability span, if any


# the hook returned an awaitable that is not a coroutine (a mock, a Future...): awaited whole
_AWAIT_WHOLE = object()


def begin(call: _Call, href: Any, inp: Any, ctx: Any, extensions: Optional[Extensions], use_result: bool = True) -> None:
    """Calls the hook and runs it up to its first suspension, on the caller's stack.

    Most hooks return without ever suspending: then the call is complete when this
    returns (``call.result`` or ``call.exc``, ``call.duration``) and no timer, task or loop
    turn was spent on it (a hook that never yields to the loop cannot be timed out by
    asyncio anyway). A hook that suspended is left in ``call.pending`` for ``finish``,
    which arms the timeout, counted from the call's start. ``use_result`` False
    (fire-and-forget): what the hook returns is never read, so a value that is not a
    PluginResult is no error. The one way every path (chains, concurrent phases,
    fire-and-forget tasks, invoke_hook_for_plugin) awaits a hook.
    """
    call.start = start = _monotonic_ns()
    try:
        if href.accepts_extensions:
            call.ext_in = filter_extensions(extensions, href.plugin_ref.capabilities)
            coro = href.hook(inp, ctx, call.ext_in)
        else:
            coro = href.hook(inp, ctx)
        if type(coro) is _COROUTINE:
            try:
                first = coro.send(None)
            except StopIteration as stop:
                value = stop.value
                if isinstance(value, PluginResult):  # _settle's common case, inlined
                    call.result = value
                else:
                    _settle(call, value, use_result)
            else:
                call.pending = (coro, first)
                return
        else:
            call.pending = (coro, _AWAIT_WHOLE)
            return
    except Exception as exc:
        _failed(call, exc, None)
    call.duration = _monotonic_ns() - start


async def finish(call: _Call, timeout: float, use_result: bool = True) -> None:
    """Awaits the rest of a hook that ``begin`` left suspended, with the timeout armed
    at the call's deadline, in the current task (whose cancellation reaches the hook)."""
    pending = call.pending
    assert pending is not None
    call.pending = None
    coro, first = pending
    cm = asyncio.timeout_at(_deadline(call.start, timeout))
    try:
        async with cm:
            result = await (coro if first is _AWAIT_WHOLE else _Resumed(coro, first))
        _settle(call, result, use_result)
    except Exception as exc:
        _failed(call, exc, cm)
    call.duration = _monotonic_ns() - call.start


def _settle(call: _Call, result: Any, use_result: bool) -> None:
    if not isinstance(result, PluginResult):
        if not use_result:
            result = None  # ignored, as upstream ignores a fire-and-forget return
        else:
            # Not a result (None, a dict, ...): the first attribute the executor reads
            # fails, and that AttributeError is the plugin's error (as upstream).
            result.metadata  # noqa: B018
    call.result = result


def _failed(call: _Call, exc: Exception, cm: Optional[asyncio.Timeout]) -> None:
    call.exc = exc
    if isinstance(exc, TimeoutError):
        # Our own deadline, or a TimeoutError the hook raised itself (its own wait_for):
        # the fact is reported as such and the core decides (upstream treats both as the
        # executor's timeout).
        call.status = "timeout" if cm is not None and cm.expired() else "traise"
    elif isinstance(exc, PluginViolationError):
        call.status = "vexc"
    elif isinstance(exc, PluginError):
        call.status = "perror"
    else:
        call.status = "error"


class _Finished:
    """The completions of a concurrent phase in the order the calls finished: each call's
    task adds its own (``add``) as its last act, so the order is the true completion
    order (the order asyncio.as_completed yields) and the driver is woken once, one loop
    turn after the first completion, with no done callback per task in between."""

    __slots__ = ("done", "waiter")

    def __init__(self) -> None:
        self.done: deque[tuple[Any, Any]] = deque()
        self.waiter: Optional[asyncio.Future[None]] = None

    def add(self, task: Any, outcome: Any) -> None:
        """Records a finished call: its task and what it produced (or the exception it raised)."""
        self.done.append((task, outcome))
        waiter = self.waiter
        if waiter is not None and not waiter.done():
            waiter.set_result(None)

    async def next(self) -> tuple[Any, Any]:
        while not self.done:
            self.waiter = asyncio.get_running_loop().create_future()
            await self.waiter
        return self.done.popleft()
