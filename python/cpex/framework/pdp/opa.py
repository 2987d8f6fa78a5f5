"""OPA Data API resolver: POST {"input": ...} to /v1/data/<policy path>."""

from __future__ import annotations

import logging
from typing import Any, Optional

from cpex.framework.pdp._http import fill_endpoint, httpx2, post_decision
from cpex.framework.pdp.base import PdpError, PdpResolver, PdpResult

logger = logging.getLogger(__name__)


class OpaResolver(PdpResolver):
    """Decisions from an OPA server.

    ``endpoint`` may hold ``{key}`` placeholders filled from the input's string values
    (e.g. ``http://opa:8181/v1/data/tools/{tool}/allow``). OPA's ``result`` may be a
    boolean, or an object with ``allow`` and optional ``deny`` reasons (the first is the
    reason). With ``fail_open`` a timeout, error status or unreachable server allows, and
    an unexpected answer too; otherwise they raise ``PdpError`` (unexpected answers deny).
    """

    def __init__(
        self,
        endpoint: str,
        timeout_ms: int = 500,
        headers: Optional[dict[str, str]] = None,
        fail_open: bool = False,
    ):
        self._endpoint_template = endpoint
        self.fail_open = fail_open
        self._client = httpx2.AsyncClient(timeout=httpx2.Timeout(timeout_ms / 1000.0), headers=headers or {})

    def _resolve_endpoint(self, input_data: dict[str, Any]) -> str:
        return fill_endpoint(self._endpoint_template, input_data, "OPA")

    async def resolve(self, input_data: dict[str, Any]) -> PdpResult:
        endpoint = self._resolve_endpoint(input_data)
        return await post_decision(self._client, "OPA", endpoint, {"input": input_data}, self.fail_open, self._parse_response)

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

    async def close(self) -> None:
        await self._client.aclose()


__all__ = ["OpaResolver", "PdpError"]  # PdpError: importable from here too, as upstream
