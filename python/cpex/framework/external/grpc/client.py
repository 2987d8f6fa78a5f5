"""The gRPC external plugin at upstream's import path.

The Go core is the client (``core/external/grpc``): it dials the target (TLS/mTLS from the
entry or ``PLUGINS_GRPC_CLIENT_MTLS_*``, ``unix://`` for ``uds:``), fetches the plugin's
config with 3 attempts and merges it under the entry, and makes every hook call. This class
is :class:`~cpex.framework.external.mcp.client.ExternalPlugin` requiring a ``grpc:`` section.
"""

from __future__ import annotations

from cpex.framework.errors import PluginError
from cpex.framework.external.mcp.client import ExternalPlugin
from cpex.framework.models import PluginErrorModel


class GrpcExternalPlugin(ExternalPlugin):
    """A plugin served by a gRPC plugin server; the Go core is its client."""

    async def initialize(self) -> None:
        """Connect and adopt the remote config merged under the local entry.

        Raises:
            PluginError: no ``grpc:`` section, or the server cannot be reached or configured.
        """
        if self._config.grpc is None:
            raise PluginError(
                PluginErrorModel(
                    message="The grpc section must be defined for gRPC external plugin", plugin_name=self.name
                )
            )
        await super().initialize()


__all__ = ["GrpcExternalPlugin"]
