"""External plugins (``kind: external``): plugins in another process, called over MCP.

The client is a Go plugin (core/external/mcpclient) that :mod:`.mcp.client` registers;
the server is :class:`ExternalPluginServer` and its runtime
(``python -m cpex.framework.external.mcp.server.runtime``), whose MCP transport is Go
(core/external/mcpserver). docs/external-plugins.md says how to write, run and call one.
"""

from __future__ import annotations

from cpex.framework.external.mcp.server.server import ExternalPluginServer

__all__ = ["ExternalPluginServer"]
