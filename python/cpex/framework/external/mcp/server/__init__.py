"""Upstream's external MCP plugin server package (not supported yet)."""

from cpex.framework.external import ExternalPluginServer

__all__ = ["ExternalPluginServer"]
