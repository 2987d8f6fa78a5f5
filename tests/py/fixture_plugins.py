"""Plugins used by the tests: each does one observable thing."""

from __future__ import annotations

import asyncio
from typing import Any, ClassVar, Optional

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

    seen: ClassVar[list[Any]] = []

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


# --- gateway-shaped plugins (tests/py/test_gateway_contract.py) ----------------------------


class HeaderStamp(Plugin):
    """http_pre_request: adds a header (cross-type HttpHeaderPayload result) and remembers it."""

    async def http_pre_request(self, payload: Any, context: PluginContext) -> PluginResult:
        from cpex.framework import HttpHeaderPayload

        context.set_state("stamped", True)
        context.global_context.state["trace_hint"] = "abc"
        headers = dict(payload.headers.root)
        headers["x-stamp"] = self.name
        return PluginResult(modified_payload=HttpHeaderPayload(headers))


class ResolveUser(Plugin):
    """http_auth_resolve_user: answers a user dict built from the bearer credentials."""

    async def http_auth_resolve_user(self, payload: Any, context: PluginContext) -> PluginResult:
        creds = payload.credentials or {}
        return PluginResult(modified_payload={"email": f"{creds.get('credentials')}@example.com",
                                              "is_admin": False},
                            metadata={"auth_method": "plugin_token"})


class GrantAll(Plugin):
    """http_auth_check_permission: grants everything, says why, and tries to forge _decision_plugin."""

    async def http_auth_check_permission(self, payload: Any, context: PluginContext) -> PluginResult:
        from cpex.framework import HttpAuthCheckPermissionResultPayload

        return PluginResult(modified_payload=HttpAuthCheckPermissionResultPayload(granted=True, reason="trusted"),
                            metadata={"_decision_plugin": "forged"})


class RateLimit(Plugin):
    """tool_pre_invoke: blocks with an HTTP 429 violation once config.limit calls were seen."""

    seen = 0

    async def tool_pre_invoke(self, payload: Any, context: PluginContext) -> PluginResult:
        RateLimit.seen += 1
        if RateLimit.seen > (self.config.config or {}).get("limit", 1):
            return PluginResult(
                continue_processing=False,
                violation=PluginViolation(reason="Rate limit exceeded", description="slow down", code="RATE_LIMIT",
                                          details={"limit": 1}, http_status_code=429,
                                          http_headers={"Retry-After": "1"}, mcp_error_code=-32000),
                retry_delay_ms=1000,
            )
        return PluginResult(metadata={self.name: {"remaining": 0}})


class PostRetry(Plugin):
    """tool_post_invoke: asks the gateway to retry and reads state kept from the pre hook."""

    async def tool_post_invoke(self, payload: Any, context: PluginContext) -> PluginResult:
        return PluginResult(retry_delay_ms=250, metadata={self.name: {"stamped": context.get_state("stamped")}})


class Lifecycle(Plugin):
    """Records initialize/shutdown calls in order."""

    events: ClassVar[list[str]] = []

    async def initialize(self) -> None:
        Lifecycle.events.append(f"init:{self.name}")

    async def shutdown(self) -> None:
        Lifecycle.events.append(f"shutdown:{self.name}")


class Probe(Plugin):
    """Does everything a plugin can at once: writes global state, returns metadata, a
    modification, and (config.block) a blocking violation. For the mode matrix."""

    async def tool_pre_invoke(self, payload: ToolPreInvokePayload, context: PluginContext) -> PluginResult:
        context.global_context.state["written_by"] = self.name
        block = bool(_cfg(self, "block", False))
        return PluginResult(
            continue_processing=not block,
            modified_payload=payload.model_copy(update={"args": {"changed_by": self.name}}),
            violation=PluginViolation(reason="probe", description="probe block", code="PROBE") if block else None,
            metadata={"md": self.name},
        )


class DenyWithMetrics(Plugin):
    """Returns config.allow (default False) with config.metrics as its denial metadata and,
    when config.code is set, a violation with that code."""

    async def tool_pre_invoke(self, payload: ToolPreInvokePayload, context: PluginContext) -> PluginResult:
        code = _cfg(self, "code")
        return PluginResult(
            continue_processing=bool(_cfg(self, "allow", False)),
            violation=PluginViolation(reason="metered", description="over budget", code=code) if code else None,
            denial_metadata=_cfg(self, "metrics"),
        )
