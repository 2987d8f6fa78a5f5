"""Awaiting long or I/O-bound Go work without blocking the event loop.

DESIGN.md, "The boundary": gopy releases the GIL around a call, but the calling thread
still waits for it. For a go step the core marks as long (``"async"`` in the step,
docs/protocol.md), the driver instead calls a ``*Start`` function with the write end of
a non-blocking pipe; the core runs the work on a goroutine and writes one byte to the
pipe when done; the loop watches the read end (``loop.add_reader``) and the driver then
takes the answer with the matching ``*Finish``. No Go→Python callback is involved.

Pipes are pooled per event loop. The core writes to a duplicate of the descriptor it is
given, so closing a pipe while Go work is still pending (the loop ended) is safe. A task
cancelled while it waits leaves the pipe watched until the byte arrives, then the pipe
goes back to the pool; the caller drops the Go answer (RunAbort, GoPluginInvokeDrop).
"""

from __future__ import annotations

import asyncio
import itertools
import os
import weakref
from typing import Any, Callable, Optional, TypeVar

#: Tests turn it off to compare with the plain, blocking calls on the same inputs.
enabled = True

_MAX_FREE = 64  # free pipes kept per loop; more concurrent waits open and close their own


def _new_pipe() -> tuple[int, int]:
    if hasattr(os, "pipe2"):
        return os.pipe2(os.O_NONBLOCK | os.O_CLOEXEC)
    r, w = os.pipe()  # inheritable is already false (PEP 446)
    os.set_blocking(r, False)
    os.set_blocking(w, False)
    return r, w


def _close(pair: tuple[int, int]) -> None:
    for fd in pair:
        try:
            os.close(fd)
        except OSError:
            pass


class _PipePool:
    """The pipes of one event loop: every one it opened, and those free for reuse."""

    __slots__ = ("free", "owned", "closed")

    def __init__(self) -> None:
        self.free: list[tuple[int, int]] = []
        self.owned: set[tuple[int, int]] = set()
        self.closed = False

    def take(self) -> tuple[int, int]:
        if self.free:
            return self.free.pop()
        pair = _new_pipe()
        self.owned.add(pair)
        return pair

    def give(self, pair: tuple[int, int]) -> None:
        if self.closed or len(self.free) >= _MAX_FREE:
            self.owned.discard(pair)
            _close(pair)
        else:
            self.free.append(pair)

    def close(self) -> None:
        """Closes every pipe, pending ones included (the core wrote, or will write, to its
        own duplicate)."""
        self.closed = True
        for pair in self.owned:
            _close(pair)
        self.owned.clear()
        self.free.clear()


_pools: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, _PipePool] = weakref.WeakKeyDictionary()


def _pool(loop: asyncio.AbstractEventLoop) -> _PipePool:
    pool = _pools.get(loop)
    if pool is None or pool.closed:
        pool = _pools[loop] = _PipePool()
        # when the loop is collected, or at process exit
        weakref.finalize(loop, pool.close)
    return pool


def _after_fork_in_child() -> None:
    # the child's copies of the parent's pipes: a byte meant for the parent must never
    # wake the child (and the core cannot run in a child of a started parent anyway)
    for pool in list(_pools.values()):
        pool.close()
    _pools.clear()


os.register_at_fork(after_in_child=_after_fork_in_child)


def _ready(
    loop: asyncio.AbstractEventLoop, pool: _PipePool, pair: tuple[int, int], fut: asyncio.Future[None], lent: Optional[int]
) -> None:
    try:
        os.read(pair[0], 16)
    except BlockingIOError:
        return  # a spurious wake-up: keep watching
    except OSError:
        pass
    loop.remove_reader(pair[0])
    pool.give(pair)
    if lent is not None:
        del _lent[lent]  # the Go work is over: it read what it was lent
    if not fut.done():  # a cancelled wait: the answer is dropped by the caller
        fut.set_result(None)


_T = TypeVar("_T")

# Objects whose memory Go work in flight reads by address (RunGoStart's payload bytes),
# by token: kept alive until the work's byte is read. If the loop goes away first, the
# entry stays (memory kept, never freed under a reader).
_lent: dict[int, Any] = {}
_tokens = itertools.count()


async def run_off_loop(
    start: Callable[[int], Any],
    finish: Callable[[], _T],
    drop: Optional[Callable[[], Any]] = None,
    lent: Any = None,
) -> Optional[_T]:
    """``start(write_fd)`` begins the Go work; once it signalled completion, ``finish()``
    answers. ``drop()`` runs if the awaiting task is cancelled meanwhile. ``lent`` (an
    immutable buffer the Go work reads by address) is kept alive until the work signalled,
    also when the task is cancelled. Answers None, having started nothing, when this loop
    cannot watch descriptors (e.g. Windows' proactor loop): the caller then makes the
    plain call."""
    loop = asyncio.get_running_loop()
    pool = _pool(loop)
    pair = pool.take()
    fut: asyncio.Future[None] = loop.create_future()
    token = None if lent is None else next(_tokens)
    try:
        loop.add_reader(pair[0], _ready, loop, pool, pair, fut, token)
    except NotImplementedError:
        pool.give(pair)
        return None
    if token is not None:
        _lent[token] = lent
    try:
        start(pair[1])
    except BaseException:
        loop.remove_reader(pair[0])
        pool.give(pair)
        if token is not None:
            del _lent[token]  # refused: nothing was started
        raise
    try:
        await fut
    except asyncio.CancelledError:
        if drop is not None:
            try:
                drop()
            except Exception:  # noqa: BLE001 - the task is being cancelled: nothing to report to
                pass
        raise
    return finish()
