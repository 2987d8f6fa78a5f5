"""External plugins over MCP: the client (:mod:`.client`) and the server (:mod:`.server`)."""
