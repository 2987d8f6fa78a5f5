"""Small Python plugins that show each execution mode at work next to the Go built-ins."""

from __future__ import annotations

import asyncio

from cpex.framework import (
    Plugin,
    PluginContext,
    PluginResult,
    PluginViolation,
    PromptPrehookPayload,
    PromptPrehookResult,
    ResourcePostFetchPayload,
    ResourcePostFetchResult,
    ToolPostInvokePayload,
    ToolPostInvokeResult,
    ToolPreInvokePayload,
    ToolPreInvokeResult,
)


class ToolGate(Plugin):
    """Sequential: refuses the tools listed in config.blocked_tools."""

    async def tool_pre_invoke(self, payload: ToolPreInvokePayload, context: PluginContext) -> ToolPreInvokeResult:
        blocked = (self.config.config or {}).get("blocked_tools", [])
        if payload.name in blocked:
            return ToolPreInvokeResult(
                continue_processing=False,
                violation=PluginViolation(
                    reason="Tool not allowed",
                    description=f"the tool {payload.name!r} is on this gateway's block list",
                    code="TOOL_BLOCKED",
                ),
            )
        context.state["seen_at_pre"] = payload.name
        return ToolPreInvokeResult(metadata={"tool_gate": {"checked": payload.name}})

    async def tool_post_invoke(self, payload: ToolPostInvokePayload, context: PluginContext) -> ToolPostInvokeResult:
        # State written in the pre hook is still here: the demo passes the context table back.
        return ToolPostInvokeResult(metadata={"tool_gate": {"pre_hook_saw": context.state.get("seen_at_pre")}})


class ArgTrimmer(Plugin):
    """Transform: trims surrounding white space from every string argument."""

    async def tool_pre_invoke(self, payload: ToolPreInvokePayload, context: PluginContext) -> ToolPreInvokeResult:
        args = payload.args or {}
        trimmed = {k: v.strip() if isinstance(v, str) else v for k, v in args.items()}
        if trimmed == args:
            return ToolPreInvokeResult()
        return ToolPreInvokeResult(modified_payload=payload.model_copy(update={"args": trimmed}))

    async def prompt_pre_fetch(self, payload: PromptPrehookPayload, context: PluginContext) -> PromptPrehookResult:
        args = payload.args or {}
        trimmed = {k: v.strip() for k, v in args.items()}
        if trimmed == args:
            return PromptPrehookResult()
        return PromptPrehookResult(modified_payload=payload.model_copy(update={"args": trimmed}))


class AuditTrail(Plugin):
    """Audit: sees the chained payload, may not change it; records what it saw."""

    async def tool_pre_invoke(self, payload: ToolPreInvokePayload, context: PluginContext) -> ToolPreInvokeResult:
        return ToolPreInvokeResult(metadata={"audit": {"tool": payload.name, "arg_names": sorted(payload.args or {})}})

    async def resource_post_fetch(
        self, payload: ResourcePostFetchPayload, context: PluginContext
    ) -> ResourcePostFetchResult:
        return ResourcePostFetchResult(metadata={"audit": {"uri": payload.uri, "chars": len(str(payload.content))}})


class LatencyProbe(Plugin):
    """Concurrent: runs beside its siblings on the same payload; only its metadata counts."""

    async def tool_pre_invoke(self, payload: ToolPreInvokePayload, context: PluginContext) -> ToolPreInvokeResult:
        await asyncio.sleep(0.001)
        return ToolPreInvokeResult(metadata={"latency_probe": {"ok": True}})


class UsageCounter(Plugin):
    """Fire-and-forget: counts calls in the background; the caller never waits for it."""

    calls = 0

    async def tool_pre_invoke(self, payload: ToolPreInvokePayload, context: PluginContext) -> ToolPreInvokeResult:
        UsageCounter.calls += 1
        return ToolPreInvokeResult()
