"""Message hooks: one payload (a CMF ``Message`` plus where it is evaluated) for every point
of the request path, so a policy written against ``MessageView``s runs unchanged at the
LLM, tool, prompt and resource boundaries.

Importing this module registers ``evaluate`` and the eight ``cmf.*`` hook types in the
hook registry, as upstream does; ``cpex.framework`` does not import it. The Go core knows
the ``cmf.*`` names on its own (core/hooks/cmf.go) so conditions, plans and the Go guards
work whether or not Python imported this module.
"""

from __future__ import annotations

from enum import Enum

from pydantic import Field

from cpex.framework.cmf.message import Message
from cpex.framework.hooks.registry import get_hook_registry
from cpex.framework.models import PluginPayload, PluginResult


class MessageHookType(str, Enum):
    """Where a message is evaluated (the ``hook`` field of ``MessagePayload``)."""

    EVALUATE = "evaluate"
    LLM_INPUT = "llm_input"
    LLM_OUTPUT = "llm_output"
    TOOL_PRE_INVOKE = "tool_pre_invoke"
    TOOL_POST_INVOKE = "tool_post_invoke"
    PROMPT_PRE_FETCH = "prompt_pre_fetch"
    PROMPT_POST_FETCH = "prompt_post_fetch"
    RESOURCE_PRE_FETCH = "resource_pre_fetch"
    RESOURCE_POST_FETCH = "resource_post_fetch"


class CmfHookType(str, Enum):
    """The hook names plugins subscribe to for CMF messages."""

    TOOL_PRE_INVOKE = "cmf.tool_pre_invoke"
    TOOL_POST_INVOKE = "cmf.tool_post_invoke"
    LLM_INPUT = "cmf.llm_input"
    LLM_OUTPUT = "cmf.llm_output"
    RESOURCE_PRE_FETCH = "cmf.resource_pre_fetch"
    RESOURCE_POST_FETCH = "cmf.resource_post_fetch"
    PROMPT_PRE_FETCH = "cmf.prompt_pre_fetch"
    PROMPT_POST_FETCH = "cmf.prompt_post_fetch"


class MessagePayload(PluginPayload):
    """The payload of every message hook."""

    message: Message = Field(description="The CMF message to evaluate.")
    hook: MessageHookType = Field(default=MessageHookType.EVALUATE, description="Where the evaluation happens.")


MessageResult = PluginResult[MessagePayload]
"""What a message hook returns."""


def _register_message_hooks() -> None:
    # First registration wins, so an application that registered its own classes first keeps them.
    registry = get_hook_registry()
    for hook in (MessageHookType.EVALUATE, *CmfHookType):
        if not registry.is_registered(hook):
            registry.register_hook(hook, MessagePayload, MessageResult)


_register_message_hooks()
