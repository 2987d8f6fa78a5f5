"""External plugins over MCP (not supported yet; see :mod:`cpex.framework.external`)."""
