"""Awaiting one plugin hook: the timeout armed only if the hook suspends, completion order."""

from __future__ import annotations

import asyncio
import contextvars
import time
import types
from collections import deque
from typing import Any, Optional

from cpex.framework.extensions import Extensions
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
