"""{{ cookiecutter.description }}.

Author: {{ cookiecutter.author }} <{{ cookiecutter.email }}>

An in-process plugin: cpex imports this class (the ``kind`` in config.yaml) and calls
the methods named after the hooks it is registered for. Each hook returns a result:
``continue_processing=False`` with a violation blocks the call, ``modified_payload``
replaces the payload, ``metadata`` is reported back to the caller.
"""

from __future__ import annotations

from cpex.framework import (
    Plugin,
    PluginConfig,
    PluginContext,
    PluginViolation,
    PromptPosthookPayload,
    PromptPosthookResult,
    PromptPrehookPayload,
    PromptPrehookResult,
    ToolPostInvokePayload,
    ToolPostInvokeResult,
    ToolPreInvokePayload,
    ToolPreInvokeResult,
)


class {{ cookiecutter.__class_name }}(Plugin):
    """{{ cookiecutter.description }}.

    Config (the ``config:`` block of the plugin's entry in config.yaml):
      blocked_tools: tool names this plugin refuses (default: none).
    """

    def __init__(self, config: PluginConfig):
        super().__init__(config)
        settings = config.config or {}
        self._blocked_tools = set(settings.get("blocked_tools") or [])

    async def prompt_pre_fetch(self, payload: PromptPrehookPayload, context: PluginContext) -> PromptPrehookResult:
        """Before a prompt is rendered: inspect ``payload.args``; allow by default."""
        return PromptPrehookResult(continue_processing=True)

    async def prompt_post_fetch(self, payload: PromptPosthookPayload, context: PluginContext) -> PromptPosthookResult:
        """After a prompt is rendered: inspect ``payload.result``; allow by default."""
        return PromptPosthookResult(continue_processing=True)

    async def tool_pre_invoke(self, payload: ToolPreInvokePayload, context: PluginContext) -> ToolPreInvokeResult:
        """Before a tool runs: block the tools named in ``blocked_tools``."""
        if payload.name in self._blocked_tools:
            return ToolPreInvokeResult(
                continue_processing=False,
                violation=PluginViolation(
                    reason="tool blocked",
                    description=f"{self.name} does not allow the tool {payload.name!r}",
                    code="TOOL_BLOCKED",
                    details={"tool": payload.name},
                ),
            )
        context.state["checked_by"] = self.name  # kept for tool_post_invoke of the same call
        return ToolPreInvokeResult(continue_processing=True, metadata={"{{ cookiecutter.plugin_slug }}": "allowed"})

    async def tool_post_invoke(self, payload: ToolPostInvokePayload, context: PluginContext) -> ToolPostInvokeResult:
        """After a tool ran: inspect ``payload.result``; allow by default."""
        return ToolPostInvokeResult(continue_processing=True)
