"""Agent hook types and payloads (spec §16.4).

``messages`` elements are expected to satisfy ``protocols.MessageLike`` but are not
type-checked; dict elements gain attribute access (StructuredData).
"""

from __future__ import annotations

from enum import Enum
from typing import Any, Optional

from pydantic import Field, field_validator

from cpex.framework.hooks.http import HttpHeaderPayload, warn_deprecated_headers
from cpex.framework.hooks.registry import get_hook_registry
from cpex.framework.models import PluginPayload, PluginResult
from cpex.framework.protocols import MessageLike  # noqa: F401 - reachable here in upstream too
from cpex.framework.utils import coerce_messages


class AgentHookType(str, Enum):
    """Hook points around an agent invocation."""

    AGENT_PRE_INVOKE = "agent_pre_invoke"
    AGENT_POST_INVOKE = "agent_post_invoke"


class AgentPreInvokePayload(PluginPayload):
    """An agent call about to be made."""

    agent_id: str
    messages: list[Any]
    tools: Optional[list[str]] = None
    headers: Optional[HttpHeaderPayload] = None
    model: Optional[str] = None
    system_prompt: Optional[str] = None
    parameters: Optional[dict[str, Any]] = Field(default_factory=dict)

    _coerce_messages = field_validator("messages", mode="before")(coerce_messages)
    _warn_headers = field_validator("headers", mode="before")(warn_deprecated_headers)


class AgentPostInvokePayload(PluginPayload):
    """The messages and tool calls an agent produced."""

    agent_id: str
    messages: list[Any]
    tool_calls: Optional[list[dict[str, Any]]] = None

    _coerce_messages = field_validator("messages", mode="before")(coerce_messages)


AgentPreInvokeResult = PluginResult[AgentPreInvokePayload]
AgentPostInvokeResult = PluginResult[AgentPostInvokePayload]


def _register() -> None:
    registry = get_hook_registry()
    if registry.is_registered(AgentHookType.AGENT_PRE_INVOKE):
        return
    registry.register_hook(AgentHookType.AGENT_PRE_INVOKE, AgentPreInvokePayload, AgentPreInvokeResult)
    registry.register_hook(AgentHookType.AGENT_POST_INVOKE, AgentPostInvokePayload, AgentPostInvokeResult)


_register()
