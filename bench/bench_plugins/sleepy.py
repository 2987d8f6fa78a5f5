"""A no-op plugin that awaits a short sleep, so that many calls are in flight at once.

bench/memconc.py uses it to measure the memory a call holds while it waits.
"""

from __future__ import annotations

import asyncio

from cpex.framework import (
    Plugin,
    PluginContext,
    ToolPostInvokePayload,
    ToolPostInvokeResult,
    ToolPreInvokePayload,
    ToolPreInvokeResult,
)

SLEEP_S = 0.01


class SleepyNoopPlugin(Plugin):
    """Allows every call after sleeping SLEEP_S seconds (its calls overlap)."""

    async def tool_pre_invoke(self, payload: ToolPreInvokePayload, context: PluginContext) -> ToolPreInvokeResult:
        await asyncio.sleep(SLEEP_S)
        return ToolPreInvokeResult(continue_processing=True)

    async def tool_post_invoke(self, payload: ToolPostInvokePayload, context: PluginContext) -> ToolPostInvokeResult:
        await asyncio.sleep(SLEEP_S)
        return ToolPostInvokeResult(continue_processing=True)
