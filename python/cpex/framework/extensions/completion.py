"""The ``completion`` slot: facts about an LLM completion (immutable, unrestricted)."""

from __future__ import annotations

from enum import Enum
from typing import Optional

from pydantic import BaseModel, ConfigDict


class StopReason(str, Enum):
    """Why a completion stopped."""

    END = "end"
    RETURN = "return"
    CALL = "call"
    MAX_TOKENS = "max_tokens"
    STOP_SEQUENCE = "stop_sequence"


class TokenUsage(BaseModel):
    """Token counts of a completion."""

    model_config = ConfigDict(frozen=True)

    input_tokens: int
    output_tokens: int
    total_tokens: int


class CompletionExtension(BaseModel):
    """How a completion ended and what it cost."""

    model_config = ConfigDict(frozen=True)

    stop_reason: Optional[StopReason] = None
    tokens: Optional[TokenUsage] = None
    model: Optional[str] = None
    raw_format: Optional[str] = None
    created_at: Optional[str] = None
    latency_ms: Optional[int] = None
