"""Upstream's MCP plugin client module.

``ExternalHookRef`` (the hook reference used for any plugin object with an
``invoke_hook`` method) is real and lives in :mod:`cpex.framework.base`;
``ExternalPlugin`` cannot be used in this version.
"""

from __future__ import annotations

from typing import Any

from cpex.framework.base import ExternalHookRef, Plugin
from cpex.framework.external import not_supported


class ExternalPlugin(Plugin):
    """A plugin served by an external MCP server (not supported yet)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        not_supported("ExternalPlugin (MCP transport)")


__all__ = ["ExternalHookRef", "ExternalPlugin"]
