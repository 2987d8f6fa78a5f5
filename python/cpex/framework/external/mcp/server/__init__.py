"""The external MCP plugin server: :class:`ExternalPluginServer` and its runtime
(``python -m cpex.framework.external.mcp.server.runtime``)."""

from cpex.framework.external.mcp.server.server import ExternalPluginServer

__all__ = ["ExternalPluginServer"]
