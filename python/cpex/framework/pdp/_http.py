"""The HTTP call shared by the resolvers: POST JSON, map failures to fail-open or PdpError."""

from __future__ import annotations

import logging
import time
from typing import Any, Callable, Optional

from cpex.framework.pdp.base import PdpError, PdpResolver, PdpResult

try:
    import httpx2
except ImportError as exc:  # pragma: no cover - depends on the environment
    raise ImportError("cpex.framework.pdp needs httpx2: pip install 'cpex[pdp]'") from exc

logger = logging.getLogger("cpex.framework.pdp")


async def post_decision(
    client: httpx2.AsyncClient,
    engine: str,
    endpoint: str,
    body: dict[str, Any],
    fail_open: bool,
    parse: Callable[[Any, float], PdpResult],
) -> PdpResult:
    """POST ``body`` and parse the answer; on failure allow (fail_open) or raise PdpError."""
    start = time.monotonic()
    try:
        response = await client.post(endpoint, json=body)
        latency = elapsed_ms(start)
        response.raise_for_status()
        return parse(response.json(), latency)
    except httpx2.TimeoutException as e:
        latency = elapsed_ms(start)
        logger.warning("%s timeout after %.1fms: %s", engine, latency, endpoint)
        if fail_open:
            return PdpResult(allowed=True, reason=f"{engine} timeout, fail-open", latency_ms=latency)
        raise PdpError(f"{engine} timeout after {latency:.0f}ms", endpoint=endpoint, cause=e) from e
    except httpx2.HTTPStatusError as e:
        latency = elapsed_ms(start)
        status = e.response.status_code
        logger.error("%s HTTP %d from %s", engine, status, endpoint)
        if fail_open:
            return PdpResult(allowed=True, reason=f"{engine} HTTP {status}, fail-open", latency_ms=latency)
        raise PdpError(f"{engine} HTTP {status}", endpoint=endpoint, cause=e) from e
    except httpx2.HTTPError as e:
        latency = elapsed_ms(start)
        logger.error("%s connection error: %s", engine, e)
        if fail_open:
            return PdpResult(allowed=True, reason=f"{engine} unreachable, fail-open", latency_ms=latency)
        raise PdpError(f"{engine} connection error: {e}", endpoint=endpoint, cause=e) from e


def fill_endpoint(template: str, input_data: dict[str, Any], engine: str) -> str:
    """Fill ``{key}`` placeholders of an endpoint from the string values of ``input_data``.

    A template that names a key the input lacks (or whose value is not a string) is used
    as is, with a warning: the PDP then answers for the literal URL.
    """
    if "{" not in template:
        return template
    values = {k: v for k, v in input_data.items() if isinstance(v, str)}
    try:
        return template.format(**values)
    except KeyError:
        logger.warning("%s endpoint template has unresolved placeholders: %s", engine, template)
        return template


def elapsed_ms(start: float) -> float:
    return (time.monotonic() - start) * 1000


class HttpResolver(PdpResolver):
    """A PDP reached by one JSON POST per decision: the endpoint template, the client, the
    fail-open rule and close(). Subclasses name the engine (``_engine``, in messages) and
    write the request (``_build_request``) and read the answer (``_parse_response``)."""

    _engine = "PDP"

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
        return fill_endpoint(self._endpoint_template, input_data, self._engine)

    async def resolve(self, input_data: dict[str, Any]) -> PdpResult:
        endpoint = self._resolve_endpoint(input_data)
        return await post_decision(
            self._client, self._engine, endpoint, self._build_request(input_data), self.fail_open, self._parse_response
        )

    def _build_request(self, input_data: dict[str, Any]) -> dict[str, Any]:
        raise NotImplementedError

    def _parse_response(self, body: Any, latency_ms: float) -> PdpResult:
        raise NotImplementedError

    async def close(self) -> None:
        await self._client.aclose()
