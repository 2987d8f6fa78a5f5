"""The ``http`` slot: request headers (immutable; gated by read_headers / write_headers)."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field


class HttpExtension(BaseModel):
    """HTTP headers of the request, replacing the deprecated ``headers`` payload fields."""

    model_config = ConfigDict(frozen=True)

    headers: dict[str, str] = Field(default_factory=dict)
