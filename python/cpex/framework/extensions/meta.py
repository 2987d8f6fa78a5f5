"""The ``meta`` slot: free-form tags and properties set by the host (immutable, unrestricted)."""

from __future__ import annotations

from typing import Optional

from pydantic import BaseModel, ConfigDict, Field


class MetaExtension(BaseModel):
    """Host-supplied tags, scope and string properties."""

    model_config = ConfigDict(frozen=True)

    tags: frozenset[str] = frozenset()
    scope: Optional[str] = None
    properties: dict[str, str] = Field(default_factory=dict)
