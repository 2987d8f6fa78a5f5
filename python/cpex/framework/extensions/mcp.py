"""The ``mcp`` slot: metadata of the MCP tool, resource or prompt being used (immutable)."""

from __future__ import annotations

from typing import Any, Optional

from pydantic import BaseModel, ConfigDict, Field


class ToolMetadata(BaseModel):
    """Describes an MCP tool."""

    model_config = ConfigDict(frozen=True)

    name: str
    title: Optional[str] = None
    description: Optional[str] = None
    input_schema: Optional[dict[str, Any]] = None
    output_schema: Optional[dict[str, Any]] = None
    server_id: Optional[str] = None
    namespace: Optional[str] = None
    annotations: dict[str, Any] = Field(default_factory=dict)


class ResourceMetadata(BaseModel):
    """Describes an MCP resource."""

    model_config = ConfigDict(frozen=True)

    uri: str
    name: Optional[str] = None
    description: Optional[str] = None
    mime_type: Optional[str] = None
    server_id: Optional[str] = None
    annotations: dict[str, Any] = Field(default_factory=dict)


class PromptMetadata(BaseModel):
    """Describes an MCP prompt."""

    model_config = ConfigDict(frozen=True)

    name: str
    description: Optional[str] = None
    arguments: Optional[list[dict[str, Any]]] = None
    server_id: Optional[str] = None
    annotations: dict[str, Any] = Field(default_factory=dict)


class MCPExtension(BaseModel):
    """Which MCP entity the current hook is about."""

    model_config = ConfigDict(frozen=True)

    tool: Optional[ToolMetadata] = None
    resource: Optional[ResourceMetadata] = None
    prompt: Optional[PromptMetadata] = None
