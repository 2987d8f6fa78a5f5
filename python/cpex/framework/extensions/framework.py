"""The ``framework`` slot: the agent framework hosting the call (immutable, unrestricted)."""

from __future__ import annotations

from typing import Any, Optional

from pydantic import BaseModel, ConfigDict, Field


class FrameworkExtension(BaseModel):
    """Which framework, version and graph node issued the call."""

    model_config = ConfigDict(frozen=True)

    framework: Optional[str] = None
    framework_version: Optional[str] = None
    node_id: Optional[str] = None
    graph_id: Optional[str] = None
    metadata: dict[str, Any] = Field(default_factory=dict)
