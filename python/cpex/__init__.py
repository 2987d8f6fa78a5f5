"""cpex: a plugin framework for MCP gateways and agent runtimes, with a Go core.

The Go extension (``cpex._native``) is imported lazily, on first real use, so that a
pre-fork server master that only imports ``cpex.framework`` never starts the Go runtime.
"""
