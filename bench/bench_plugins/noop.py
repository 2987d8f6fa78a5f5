"""No-op plugins: they allow every call and change nothing.

They measure the framework's own cost per plugin (context preparation, isolation,
scheduling, result handling), which is what a gateway pays for every plugin it runs.
"""

from __future__ import annotations

from cpex.framework import (
    Plugin,
    PluginContext,
    ToolPostInvokePayload,
    ToolPostInvokeResult,
    ToolPreInvokePayload,
    ToolPreInvokeResult,
)


class NoopPlugin(Plugin):
    """Allows tool_pre_invoke and tool_post_invoke without touching the payload."""

    async def tool_pre_invoke(self, payload: ToolPreInvokePayload, context: PluginContext) -> ToolPreInvokeResult:
        return ToolPreInvokeResult(continue_processing=True)

    async def tool_post_invoke(self, payload: ToolPostInvokePayload, context: PluginContext) -> ToolPostInvokeResult:
        return ToolPostInvokeResult(continue_processing=True)
