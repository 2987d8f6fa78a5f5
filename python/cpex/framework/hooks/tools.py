"""Tool hook types and payloads (spec §16.1)."""

from __future__ import annotations

from enum import Enum
from typing import Any, Optional

from pydantic import Field, field_validator

from cpex.framework.hooks.http import HttpHeaderPayload, warn_deprecated_headers
from cpex.framework.hooks.registry import get_hook_registry
from cpex.framework.models import PluginPayload, PluginResult


class ToolHookType(str, Enum):
    """Hook points around a tool invocation."""

    TOOL_PRE_INVOKE = "tool_pre_invoke"
    TOOL_POST_INVOKE = "tool_post_invoke"


class ToolPreInvokePayload(PluginPayload):
    """A tool call about to be made."""

    name: str
    args: Optional[dict[str, Any]] = Field(default_factory=dict)
    headers: Optional[HttpHeaderPayload] = None

    _warn_headers = field_validator("headers", mode="before")(warn_deprecated_headers)


class ToolPostInvokePayload(PluginPayload):
    """The result of a tool call."""

    name: str
    result: Any


ToolPreInvokeResult = PluginResult[ToolPreInvokePayload]
ToolPostInvokeResult = PluginResult[ToolPostInvokePayload]


def _register() -> None:
    registry = get_hook_registry()
    if registry.is_registered(ToolHookType.TOOL_PRE_INVOKE):
        return
    registry.register_hook(ToolHookType.TOOL_PRE_INVOKE, ToolPreInvokePayload, ToolPreInvokeResult)
    registry.register_hook(ToolHookType.TOOL_POST_INVOKE, ToolPostInvokePayload, ToolPostInvokeResult)


_register()
