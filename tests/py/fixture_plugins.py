"""Plugins used by the tests: each does one observable thing."""

from __future__ import annotations

import asyncio
from typing import Any, Optional

from cpex.framework import (
    Plugin,
    PluginContext,
    PluginError,
    PluginErrorModel,
    PluginResult,
    PluginViolation,
    PluginViolationError,
    ToolPostInvokePayload,
    ToolPreInvokePayload,
    hook,
)

CALLS: list[str] = []


def _cfg(plugin: Plugin, key: str, default: Any = None) -> Any:
    return (plugin.config.config or {}).get(key, default)


class Passthrough(Plugin):
    async def tool_pre_invoke(self, payload: ToolPreInvokePayload, context: PluginContext) -> PluginResult:
        CALLS.append(self.name)
        return PluginResult()

    async def tool_post_invoke(self, payload: ToolPostInvokePayload, context: PluginContext) -> PluginResult:
        CALLS.append(self.name)
        return PluginResult()


class SetArg(Plugin):
    """Sets args[config.key] = config.value (a modification of the chained payload)."""

    async def tool_pre_invoke(self, payload: ToolPreInvokePayload, context: PluginContext) -> PluginResult:
        CALLS.append(self.name)
        args = dict(payload.args or {})
        args[_cfg(self, "key", "k")] = _cfg(self, "value", self.name)
        return PluginResult(modified_payload=payload.model_copy(update={"args": args}),
                            metadata={self.name: {"saw": dict(payload.args or {})}},
                            retry_delay_ms=_cfg(self, "retry", 0))


class Rename(Plugin):
    """Changes the tool name (a field a policy may forbid)."""

    async def tool_pre_invoke(self, payload: ToolPreInvokePayload, context: PluginContext) -> PluginResult:
        CALLS.append(self.name)
        return PluginResult(modified_payload=payload.model_copy(update={"name": "renamed",
                                                                        "args": {"renamed": True}}))


class Block(Plugin):
    async def tool_pre_invoke(self, payload: ToolPreInvokePayload, context: PluginContext) -> PluginResult:
        CALLS.append(self.name)
        return PluginResult(
            continue_processing=False,
            modified_payload=payload.model_copy(update={"args": {"blocked": True}}),
            violation=PluginViolation(reason="Denied", description="not allowed here", code="DENY"),
            metadata={self.name: "blocked"},
            retry_delay_ms=500,
        )


class SlowBlock(Block):
    async def tool_pre_invoke(self, payload: ToolPreInvokePayload, context: PluginContext) -> PluginResult:
        await asyncio.sleep(_cfg(self, "delay", 0.01))
        return await super().tool_pre_invoke(payload, context)


class Sleeper(Plugin):
    async def tool_pre_invoke(self, payload: ToolPreInvokePayload, context: PluginContext) -> PluginResult:
        await asyncio.sleep(_cfg(self, "delay", 5))
        CALLS.append(self.name)
        return PluginResult(metadata={self.name: "slept"})


class Boom(Plugin):
    async def tool_pre_invoke(self, payload: ToolPreInvokePayload, context: PluginContext) -> PluginResult:
        CALLS.append(self.name)
        raise ValueError("boom")


class RaisesPluginError(Plugin):
    async def tool_pre_invoke(self, payload: ToolPreInvokePayload, context: PluginContext) -> PluginResult:
        raise PluginError(error=PluginErrorModel(message="custom failure", plugin_name=self.name, code="X1"))


class RaisesViolation(Plugin):
    async def tool_pre_invoke(self, payload: ToolPreInvokePayload, context: PluginContext) -> PluginResult:
        raise PluginViolationError("raised by plugin", violation=PluginViolation(reason="r", description="d", code="C"))


class StateWriter(Plugin):
    """Writes its name into global state and private state; reads what earlier plugins wrote."""

    async def tool_pre_invoke(self, payload: ToolPreInvokePayload, context: PluginContext) -> PluginResult:
        CALLS.append(self.name)
        seen = sorted(context.global_context.state)
        context.global_context.state[self.name] = "pre"
        context.global_context.metadata[f"meta_{self.name}"] = 1
        context.state["private"] = f"{self.name}-pre"
        return PluginResult(metadata={self.name: {"seen_global": seen}})

    async def tool_post_invoke(self, payload: ToolPostInvokePayload, context: PluginContext) -> PluginResult:
        return PluginResult(metadata={self.name: {"private_at_post": context.state.get("private")}})


class InPlaceMutator(Plugin):
    """Mutates the payload it got in place instead of returning a modification."""

    async def tool_pre_invoke(self, payload: ToolPreInvokePayload, context: PluginContext) -> PluginResult:
        payload.args["mutated"] = True  # type: ignore[index]
        return PluginResult()


class Recorder(Plugin):
    """Remembers the payload it received (for fire-and-forget / chaining checks)."""

    seen: list[Any] = []

    async def tool_pre_invoke(self, payload: ToolPreInvokePayload, context: PluginContext) -> PluginResult:
        Recorder.seen.append((self.name, dict(payload.args or {})))
        return PluginResult()


class Decorated(Plugin):
    @hook("tool_pre_invoke")
    async def anything(self, payload: ToolPreInvokePayload, context: PluginContext) -> PluginResult:
        CALLS.append(self.name)
        return PluginResult(metadata={"decorated": True})


class ExtensionsAware(Plugin):
    async def tool_pre_invoke(self, payload: ToolPreInvokePayload, context: PluginContext, extensions: Optional[Any]) -> PluginResult:
        CALLS.append(f"{self.name}:{extensions is not None}")
        return PluginResult(metadata={"ext_seen": extensions is not None})


class CustomHook(Plugin):
    async def my_custom_hook(self, payload: Any, context: PluginContext) -> PluginResult:
        return PluginResult(modified_payload=payload, metadata={"custom": True})
