"""External plugins (kind: external) over MCP, gRPC and Unix sockets.

cpex-go does not implement the external transports yet. The names stay importable so
that code written for upstream cpex 0.1.x imports unchanged; using them fails at once
with an error that says so, and a config entry with ``kind: external`` fails when the
manager loads it.
"""

from __future__ import annotations

from typing import Any, NoReturn

NOT_SUPPORTED = (
    "cpex-go does not support external plugins (kind: external: MCP, gRPC, Unix-socket "
    "transports) yet; run the plugin in-process (kind: <dotted class path>) or keep the "
    "upstream cpex package for this deployment"
)


def not_supported(what: str) -> NoReturn:
    """Raise the error every external-plugin entry point gives in this version."""
    raise NotImplementedError(f"{what}: {NOT_SUPPORTED}")


class ExternalPluginServer:
    """Upstream's external MCP plugin server; constructing it explains why it is unavailable."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        not_supported("ExternalPluginServer")


__all__ = ["ExternalPluginServer", "NOT_SUPPORTED", "not_supported"]
