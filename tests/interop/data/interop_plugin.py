"""A small plugin for upstream cpex's MCP server runtime (written for these tests).

Its answer depends on the tool name of a tool_pre_invoke payload, so one server covers
every case the interop tests check.
"""

import asyncio

from cpex.framework import Plugin, PluginResult, PluginViolation


class InteropGuard(Plugin):
    async def tool_pre_invoke(self, payload, context):
        name = payload.name
        if name == "block":
            return PluginResult(
                continue_processing=False,
                violation=PluginViolation(
                    reason="blocked", description="the interop guard blocks this tool", code="INTEROP_BLOCK",
                    details={"tool": name},
                ),
            )
        if name == "deny_metrics":
            return PluginResult(
                continue_processing=False,
                violation=PluginViolation(reason="blocked", description="blocked with metrics", code="INTEROP_METRICS",
                                          details={}),
                denial_metadata={"score": 3, "ratio": 0.5, "flag": True, "big": 2**62, "not a label": 1},
            )
        if name == "modify":
            return PluginResult(modified_payload=payload.model_copy(update={"args": {"x": "changed by server"}}))
        if name == "error":
            raise ValueError("interop guard failed on purpose")
        if name == "hang":
            await asyncio.sleep(3600)
        if name == "die":
            import os

            os._exit(3)
        context.state["seen"] = name
        context.global_context.state["from_server"] = context.global_context.state.get("from_client", "") + "+server"
        return PluginResult(metadata={
            "config": dict(self._config.config or {}),
            "request_id": context.global_context.request_id,
            "client_state": dict(context.global_context.state),
        })

    async def tool_post_invoke(self, payload, context):
        return PluginResult(metadata={"state_at_post": context.state.get("seen")})
