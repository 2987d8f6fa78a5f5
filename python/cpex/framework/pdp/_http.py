"""The HTTP call shared by the resolvers: POST JSON, map failures to fail-open or PdpError."""

from __future__ import annotations

import logging
import time
from typing import Any, Callable

from cpex.framework.pdp.base import PdpError, PdpResult

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
