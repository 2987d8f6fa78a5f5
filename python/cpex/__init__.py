"""cpex: a plugin framework for MCP gateways and agent runtimes, with a Go core.

The Go extension (``cpex._native``) is imported lazily, on first real use, so that a
pre-fork server master that only imports ``cpex.framework`` never starts the Go runtime.
``cpex.__core_version__`` (the Go core's version) is such a use: reading it starts the core.
"""

from typing import Any


def __getattr__(name: str) -> Any:
    if name == "__core_version__":
        from cpex import _core

        return _core.version()["core"]
    raise AttributeError(f"module 'cpex' has no attribute {name!r}")
