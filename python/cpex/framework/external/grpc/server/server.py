"""The two gRPC services of a plugin server, by upstream's names.

The services themselves (``cpex.PluginService``, ``cpex.Health``, ``grpc.health.v1``) are
served in Go (``core/external/grpc``); each InvokeHook is queued for the event loop and
run by :class:`GrpcPluginServicer`'s plugin server, as in every plugin server runtime
(:mod:`cpex.framework.external.mcp.server.host`). These classes keep upstream's import
path and constructor, and expose what a Python caller may use directly: the plugin
server's configurations and calls, and the health answer.
"""

from __future__ import annotations

from typing import Any, Optional, Union

from cpex.framework.external.mcp.server.server import ExternalPluginServer
from cpex.framework.models import PluginContext

#: cpex.Health's answer while the server runs (upstream's servicer has no other).
SERVING = "SERVING"


class GrpcPluginServicer:
    """``cpex.PluginService`` over one :class:`ExternalPluginServer`."""

    def __init__(self, plugin_server: ExternalPluginServer) -> None:
        self._plugin_server = plugin_server

    @property
    def plugin_server(self) -> ExternalPluginServer:
        """The plugins this service runs."""
        return self._plugin_server

    async def get_plugin_config(self, name: str) -> Optional[dict[str, Any]]:
        """GetPluginConfig: the named plugin's config (case-insensitive), None when unknown."""
        return await self._plugin_server.get_plugin_config(name)

    async def get_plugin_configs(self) -> list[dict[str, Any]]:
        """GetPluginConfigs: every served plugin's config, in file order."""
        return await self._plugin_server.get_plugin_configs()

    async def invoke_hook(
        self,
        hook_type: str,
        plugin_name: str,
        payload: dict[str, Any],
        context: Union[dict[str, Any], PluginContext],
    ) -> dict[str, Any]:
        """InvokeHook: ``{"plugin_name", "result", "context"?}`` or ``{"plugin_name", "error"}``."""
        return await self._plugin_server.invoke_hook(hook_type, plugin_name, payload, context)


class GrpcHealthServicer:
    """``cpex.Health``: SERVING while the server runs."""

    def __init__(self, plugin_server: Optional[ExternalPluginServer] = None) -> None:
        self._plugin_server = plugin_server

    async def check(self, service: str = "") -> str:
        """The serving status of ``service`` ("" = the whole server)."""
        return SERVING
