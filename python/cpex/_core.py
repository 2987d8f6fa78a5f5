"""Lazy access to the Go core (the gopy extension ``cpex._native``).

The extension starts the Go runtime when it is imported. A pre-fork server master that
starts it and then forks hands its children a Go runtime whose threads did not survive
the fork, and those children hang on their first call. So nothing imports the extension
until the first call that needs it (``import cpex.framework`` never does), and a child
forked from a process that had already started it gets a clear error instead of a hang.
"""

from __future__ import annotations

import os
import threading
from types import ModuleType
from typing import Any

_lock = threading.Lock()
_native: ModuleType | None = None
_started_in_parent = False


class CoreUnavailableError(RuntimeError):
    """The Go core cannot be used in this process."""


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
                raise CoreUnavailableError(
                    "cpex: this process was forked after its parent had started the Go core; "
                    "a Go runtime does not survive fork(). Create plugin managers only in the "
                    "forked workers (import cpex.framework in the master is fine: it does not "
                    "start the core)."
                )
            from cpex._native import _native as loaded  # starts the Go runtime

            _native = loaded
        return _native


def started() -> bool:
    """Whether this process has started the Go core."""
    return _native is not None


def version() -> dict[str, Any]:
    """Versions of the Go core and of the Go toolchain that built it."""
    import orjson

    return orjson.loads(native().pybind_Version())
