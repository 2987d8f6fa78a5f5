"""The resolver interface and its result and error types."""

from __future__ import annotations

import logging
from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from typing import Any, Optional

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class PdpResult:
    """One decision."""

    allowed: bool
    """Whether the PDP allowed the request."""
    reason: Optional[str] = None
    """Why, when the PDP said."""
    context: dict[str, Any] = field(default_factory=dict)
    """Anything else the PDP returned (obligations, advice...)."""
    from_cache: bool = False
    """Whether the result came from a cache rather than the PDP."""
    latency_ms: float = 0.0
    """Round trip of the PDP call, in milliseconds."""


class PdpResolver(ABC):
    """Asks a PDP for a decision on an input document."""

    @abstractmethod
    async def resolve(self, input_data: dict[str, Any]) -> PdpResult:
        """Decide on ``input_data``; raise ``PdpError`` when no decision could be had."""

    async def close(self) -> None:  # noqa: B027 - optional hook, nothing to release by default
        """Release connections; the default has none."""


class PdpError(Exception):
    """No decision: timeout, HTTP error status or connection failure."""

    def __init__(self, message: str, endpoint: str, cause: Optional[Exception] = None):
        super().__init__(message)
        self.endpoint = endpoint
        self.cause = cause
