"""The ``llm`` slot: the model serving the request (immutable, unrestricted)."""

from __future__ import annotations

from typing import Optional

from pydantic import BaseModel, ConfigDict, Field


class LLMExtension(BaseModel):
    """Model identity and its advertised capabilities."""

    model_config = ConfigDict(frozen=True)

    model_id: Optional[str] = None
    provider: Optional[str] = None
    capabilities: list[str] = Field(default_factory=list)
