"""Prompt hook types and payloads (spec §16.2)."""

from __future__ import annotations

from enum import Enum
from typing import Any, Optional

from pydantic import Field, field_validator

from cpex.framework.hooks.registry import get_hook_registry
from cpex.framework.models import PluginPayload, PluginResult
from cpex.framework.protocols import PromptResultLike  # noqa: F401 - reachable here in upstream too
from cpex.framework.utils import coerce_nested


class PromptHookType(str, Enum):
    """Hook points around a prompt fetch."""

    PROMPT_PRE_FETCH = "prompt_pre_fetch"
    PROMPT_POST_FETCH = "prompt_post_fetch"


class PromptPrehookPayload(PluginPayload):
    """A prompt about to be rendered, with its (string) arguments."""

    prompt_id: str
    args: Optional[dict[str, str]] = Field(default_factory=dict)


class PromptPosthookPayload(PluginPayload):
    """A rendered prompt; a dict result gains attribute access (StructuredData)."""

    prompt_id: str
    result: Any

    @field_validator("result", mode="before")
    @classmethod
    def _coerce_result(cls, value: Any) -> Any:
        return coerce_nested(value) if isinstance(value, dict) else value


PromptPrehookResult = PluginResult[PromptPrehookPayload]
PromptPosthookResult = PluginResult[PromptPosthookPayload]


def _register() -> None:
    registry = get_hook_registry()
    if registry.is_registered(PromptHookType.PROMPT_PRE_FETCH):
        return
    registry.register_hook(PromptHookType.PROMPT_PRE_FETCH, PromptPrehookPayload, PromptPrehookResult)
    registry.register_hook(PromptHookType.PROMPT_POST_FETCH, PromptPosthookPayload, PromptPosthookResult)


_register()
