"""A plugin run in its own venv by the isolated-venv tests (ours and upstream's worker)."""

from cpex.framework import Plugin, PluginResult
from cpex.framework.hooks.tools import ToolPreInvokePayload
from cpex.framework.models import PluginViolation


class Shout(Plugin):
    """Upper-cases a tool name; blocks "forbidden"; raises on "raise"; prints on stdout."""

    async def tool_pre_invoke(self, payload, context):  # type: ignore[no-untyped-def]
        print("chatter on stdout must not break the protocol")
        if payload.name == "forbidden":
            return PluginResult(
                continue_processing=False,
                violation=PluginViolation(reason="no", description="forbidden tool", code="FORBID", details={}),
            )
        if payload.name == "raise":
            raise ValueError("plugin exploded")
        if payload.name == "big":
            return PluginResult(metadata={"pad": "x" * 50_000})
        return PluginResult(
            modified_payload=ToolPreInvokePayload(name=payload.name.upper(), args=payload.args),
            metadata={"request_id": context.global_context.request_id, "state": dict(context.state)},
        )


class Labels(Plugin):
    """Reports the security labels it was handed (a plugin that accepts extensions)."""

    async def tool_pre_invoke(self, payload, context, extensions):  # type: ignore[no-untyped-def]
        labels = sorted(extensions.security.labels) if extensions is not None and extensions.security else None
        return PluginResult(metadata={self.name: labels})
