"""A Python plugin served by our MCP plugin server runtime (tests/py/test_mcp_server.py);
its answer depends on the tool name of the payload."""

import asyncio

from cpex.framework import Plugin, PluginResult, PluginViolation


class ServedGuard(Plugin):
    async def tool_pre_invoke(self, payload, context):
        name = payload.name
        if name == "block":
            return PluginResult(
                continue_processing=False,
                violation=PluginViolation(reason="blocked", description="the served guard blocks this tool",
                                          code="SERVED_BLOCK", details={"tool": name}),
            )
        if name == "deny_metrics":
            return PluginResult(
                continue_processing=False,
                violation=PluginViolation(reason="blocked", description="blocked with metrics", code="SERVED_METRICS",
                                          details={}),
                denial_metadata={"score": 3, "ratio": 0.5, "flag": True, "not a label": 1, "text": "dropped"},
            )
        if name == "modify":
            return PluginResult(modified_payload=payload.model_copy(update={"args": {"x": "changed by server"}}))
        if name == "error":
            raise ValueError("served guard failed on purpose")
        if name == "hang":
            await asyncio.sleep(3600)
        context.state["seen"] = name
        context.global_context.state["from_server"] = context.global_context.state.get("from_client", "") + "+server"
        return PluginResult(metadata={
            "config": dict(self._config.config or {}),
            "request_id": context.global_context.request_id,
            "client_state": dict(context.global_context.state),
        })

    async def tool_post_invoke(self, payload, context):
        return PluginResult(metadata={"state_at_post": context.state.get("seen")})
