"""Structural types for values the framework carries but does not own (spec §21.3).

Agent payload messages and prompt results come from the host (MCP SDK objects, gateway
models, plain dicts coerced to StructuredData); these runtime-checkable Protocols name
the attributes plugins may rely on, without tying them to one class.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Optional, Protocol, runtime_checkable


@runtime_checkable
class MessageLike(Protocol):
    """Anything with a ``role`` and a ``content``."""

    role: str
    content: Any


@runtime_checkable
class PromptResultLike(Protocol):
    """A rendered prompt: its messages and an optional description."""

    messages: Sequence[MessageLike]
    description: Optional[str]
