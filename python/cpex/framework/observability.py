"""Tracing hooks of the executor (spec §20).

The host injects an :class:`ObservabilityProvider` into a manager and sets
:data:`current_trace_id` per request; spans are produced only when both are present.
The Go core decides where spans start and end; the Python driver calls the provider.
"""

from __future__ import annotations

from contextvars import ContextVar
from typing import Any, Dict, Optional, Protocol

# The gateway's middleware bridges its own trace id into this very object: keep its
# import path and name.
current_trace_id: ContextVar[Optional[str]] = ContextVar("current_trace_id", default=None)


class ObservabilityProvider(Protocol):
    """What a tracing backend offers the executor (duck-typed, not runtime-checkable)."""

    def start_span(
        self,
        trace_id: str,
        name: str,
        kind: str = "internal",
        resource_type: Optional[str] = None,
        resource_name: Optional[str] = None,
        attributes: Optional[Dict[str, Any]] = None,
    ) -> Optional[str]:
        """Open a span and return its id (None when nothing was recorded)."""
        ...

    def end_span(
        self,
        span_id: Optional[str],
        status: str = "ok",
        attributes: Optional[Dict[str, Any]] = None,
    ) -> None:
        """Close the span ``span_id`` with a status and final attributes."""
        ...


class NullObservability:
    """A provider that records nothing."""

    def start_span(
        self,
        trace_id: str,
        name: str,
        kind: str = "internal",
        resource_type: Optional[str] = None,
        resource_name: Optional[str] = None,
        attributes: Optional[Dict[str, Any]] = None,
    ) -> Optional[str]:
        return None

    def end_span(
        self,
        span_id: Optional[str],
        status: str = "ok",
        attributes: Optional[Dict[str, Any]] = None,
    ) -> None:
        return None
