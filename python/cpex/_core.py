"""Lazy access to the Go core (the gopy extension ``cpex._native``).

The extension starts the Go runtime when it is imported. A pre-fork server master that
starts it and then forks hands its children a Go runtime whose threads did not survive
the fork, and those children hang on their first call. So nothing imports the extension
until the first call that needs it (``import cpex.framework`` never does), and a child
forked from a process that had already started it gets CoreUnavailableError instead of a
hang (docs/semantics.md, "Processes that fork": why the child does not start a core of
its own).
"""

from __future__ import annotations

import os
import threading
from types import ModuleType
from typing import Any, Callable

_lock = threading.Lock()
_native: ModuleType | None = None
_started_in_parent = False
# Called with the extension right after it is loaded (under the load lock, so before any
# other caller can use it): state kept in Python until the core exists is pushed there.
_on_start: list[Callable[[ModuleType], None]] = []


def on_start(callback: Callable[[ModuleType], None]) -> None:
    """Run callback(extension) when the core starts, or now if it has started."""
    with _lock:
        _on_start.append(callback)
        mod = _native
    if mod is not None:
        callback(mod)


class CoreUnavailableError(RuntimeError):
    """The Go core cannot be used in this process. Raised, never swallowed: a plugin
    manager whose Go guards cannot run must not answer at all (fail closed)."""


_FORKED_MESSAGE = (
    "cpex: this process was forked after its parent had started the Go core; a Go runtime "
    "does not survive fork(), so no plugin (Go guards included) can run here. Start the core "
    "only in the forked workers: importing cpex.framework and building managers in the master "
    "is fine; hook calls, and initialize() of a config with builtin/* plugins, start the core. "
    "Or start workers with multiprocessing's 'spawn' or 'forkserver' method (a fresh "
    "interpreter), which work from any parent."
)


def _after_fork_in_child() -> None:
    global _native, _started_in_parent
    if _native is not None:
        _native = None
        _started_in_parent = True


os.register_at_fork(after_in_child=_after_fork_in_child)


def native() -> ModuleType:
    """The raw extension module (``_native.pybind_<Func>`` callables), imported on first use."""
    global _native
    mod = _native
    if mod is not None:
        return mod
    with _lock:
        if _native is None:
            if _started_in_parent:
                raise CoreUnavailableError(_FORKED_MESSAGE)
            from cpex._native import _native as loaded  # starts the Go runtime

            for callback in _on_start:
                callback(loaded)
            _native = loaded
        return _native


def started() -> bool:
    """Whether this process has started the Go core."""
    return _native is not None


def version() -> dict[str, Any]:
    """Versions of the Go core and of the Go toolchain that built it."""
    from cpex.framework._engine import wire  # the one caller of the extension

    return wire.version()
