"""External plugins (kind: external) over MCP, gRPC and Unix sockets.

cpex-go does not implement the external transports yet. The names stay importable so
that code written for upstream cpex 0.1.x imports unchanged, and using them fails at
once with an error that says so (a config entry with ``kind: external`` fails at load).
"""

from __future__ import annotations

from typing import Any

NOT_SUPPORTED = (
    "cpex-go does not support external plugins (kind: external: MCP, gRPC, Unix-socket "
    "transports) yet; run the plugin in-process (kind: <dotted class path>) or keep the "
    "upstream cpex package for this deployment"
)


class ExternalPluginServer:
    """Placeholder for upstream's external plugin server: constructing it explains why it is unavailable."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        raise NotImplementedError(NOT_SUPPORTED)


__all__ = ["ExternalPluginServer", "NOT_SUPPORTED"]
