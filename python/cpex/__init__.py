"""cpex: a plugin framework for MCP gateways and agent runtimes, with a Go core.

The Go extension (``cpex._native``) is imported lazily, on first real use, so that a
pre-fork server master that only imports ``cpex.framework`` never starts the Go runtime.
``cpex.__version__`` is the package's release (no Go needed); ``cpex.__core_version__``
is the Go core's, read from the extension: reading it starts the core. Both come from
``core/VERSION`` and are equal in a consistent build.
"""

from typing import Any

from cpex._version import __version__


def __getattr__(name: str) -> Any:
    if name == "__core_version__":
        from cpex import _core

        return _core.version()["core"]
    raise AttributeError(f"module 'cpex' has no attribute {name!r}")


__all__ = ["__version__"]
