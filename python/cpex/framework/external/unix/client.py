"""The Unix-socket external plugin at upstream's import path.

The Go core is the client (``core/external/unixsock``): length-prefixed protobuf messages,
a pool of connections, the entry's read ``timeout`` and reconnection. As upstream's, it only
checks that the server knows the plugin: the local entry (with its ``hooks``) is the
configuration. This class is :class:`~cpex.framework.external.mcp.client.ExternalPlugin`
requiring a ``unix_socket:`` section.
"""

from __future__ import annotations

from cpex.framework.errors import PluginError
from cpex.framework.external.mcp.client import ExternalPlugin
from cpex.framework.models import PluginConfig, PluginErrorModel


class UnixSocketExternalPlugin(ExternalPlugin):
    """A plugin served by a Unix-socket plugin server; the Go core is its client."""

    def __init__(self, config: PluginConfig) -> None:
        if config.unix_socket is None:
            raise PluginError(
                PluginErrorModel(
                    message="The unix_socket section must be defined for Unix socket plugin", plugin_name=config.name
                )
            )
        super().__init__(config)


__all__ = ["UnixSocketExternalPlugin"]
