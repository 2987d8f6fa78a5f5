"""OPA Data API resolver: POST {"input": ...} to /v1/data/<policy path>."""

from __future__ import annotations

import logging
from typing import Any, Optional

# PdpResolver and httpx2 are names of upstream's module too (tests/py/cmf/test_cmf_compat.py)
from cpex.framework.pdp._http import HttpResolver, httpx2  # noqa: F401
from cpex.framework.pdp.base import PdpError, PdpResolver, PdpResult  # noqa: F401

logger = logging.getLogger(__name__)


class OpaResolver(HttpResolver):
    """Decisions from an OPA server.

    ``endpoint`` may hold ``{key}`` placeholders filled from the input's string values
    (e.g. ``http://opa:8181/v1/data/tools/{tool}/allow``). OPA's ``result`` may be a
    boolean, or an object with ``allow`` and optional ``deny`` reasons (the first is the
    reason). With ``fail_open`` a timeout, error status or unreachable server allows, and
    an unexpected answer too; otherwise they raise ``PdpError`` (unexpected answers deny).
    """

    _engine = "OPA"

    def _build_request(self, input_data: dict[str, Any]) -> dict[str, Any]:
        return {"input": input_data}

    def _parse_response(self, body: Any, latency_ms: float) -> PdpResult:
        result = body.get("result")
        if isinstance(result, bool):
            return PdpResult(allowed=result, latency_ms=latency_ms)
        if isinstance(result, dict):
            reason: Optional[str] = None
            deny = result.get("deny", [])
            if isinstance(deny, list) and deny:
                reason = deny[0] if isinstance(deny[0], str) else str(deny[0])
            elif isinstance(deny, str) and deny:
                reason = deny
            return PdpResult(allowed=bool(result.get("allow", False)), reason=reason, context=result, latency_ms=latency_ms)
        logger.warning("Unexpected OPA response format: %s", body)
        return PdpResult(
            allowed=self.fail_open,
            reason=f"Unexpected OPA response: {type(result).__name__}",
            latency_ms=latency_ms,
        )


__all__ = ["OpaResolver", "PdpError"]  # PdpError: importable from here too, as upstream
