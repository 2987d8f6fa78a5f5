"""Python plugins shaped like the ContextForge gateway's in-repo ones.

They do the kind of work the gateway's own plugins do on every call (nothing here is
taken from the gateway: the shapes are pass-through, header injection, a schema check
and a regex word filter), so that bench/gateway_profile.py measures the framework around
realistic plugin bodies rather than around no-ops only.
"""

from __future__ import annotations

import re
from typing import Any, ClassVar

from cpex.framework import (
    Plugin,
    PluginConfig,
    PluginContext,
    PluginViolation,
    PromptPosthookPayload,
    PromptPosthookResult,
    PromptPrehookPayload,
    PromptPrehookResult,
    ResourcePostFetchPayload,
    ResourcePostFetchResult,
    ResourcePreFetchPayload,
    ResourcePreFetchResult,
    ToolPostInvokePayload,
    ToolPostInvokeResult,
    ToolPreInvokePayload,
    ToolPreInvokeResult,
)


class PassThroughPlugin(Plugin):
    """Looks at every hook and allows it unchanged (an auditing or tracing plugin)."""

    async def prompt_pre_fetch(self, payload: PromptPrehookPayload, context: PluginContext) -> PromptPrehookResult:
        context.state["seen"] = payload.prompt_id
        return PromptPrehookResult()

    async def prompt_post_fetch(self, payload: PromptPosthookPayload, context: PluginContext) -> PromptPosthookResult:
        return PromptPosthookResult()

    async def tool_pre_invoke(self, payload: ToolPreInvokePayload, context: PluginContext) -> ToolPreInvokeResult:
        context.state["seen"] = payload.name
        return ToolPreInvokeResult()

    async def tool_post_invoke(self, payload: ToolPostInvokePayload, context: PluginContext) -> ToolPostInvokeResult:
        return ToolPostInvokeResult()

    async def resource_pre_fetch(self, payload: ResourcePreFetchPayload, context: PluginContext) -> ResourcePreFetchResult:
        return ResourcePreFetchResult()

    async def resource_post_fetch(self, payload: ResourcePostFetchPayload, context: PluginContext) -> ResourcePostFetchResult:
        return ResourcePostFetchResult()


class HeaderInjectionPlugin(Plugin):
    """Adds configured headers to a tool call's arguments (tool_pre_invoke only)."""

    def __init__(self, config: PluginConfig) -> None:
        super().__init__(config)
        self._headers: dict[str, str] = dict((config.config or {}).get("headers", {}))

    async def tool_pre_invoke(self, payload: ToolPreInvokePayload, context: PluginContext) -> ToolPreInvokeResult:
        args = dict(payload.args or {})
        headers = dict(args.get("headers") or {})
        headers.update(self._headers)
        args["headers"] = headers
        return ToolPreInvokeResult(modified_payload=payload.model_copy(update={"args": args}))


class SchemaCheckPlugin(Plugin):
    """Checks tool arguments against a required-keys-and-types schema; blocks on a miss."""

    _TYPES: ClassVar[dict[str, Any]] = {"string": str, "integer": int, "number": (int, float), "object": dict, "array": list, "boolean": bool}

    def __init__(self, config: PluginConfig) -> None:
        super().__init__(config)
        self._schemas: dict[str, dict[str, Any]] = dict((config.config or {}).get("arg_schemas", {}))

    async def tool_pre_invoke(self, payload: ToolPreInvokePayload, context: PluginContext) -> ToolPreInvokeResult:
        schema = self._schemas.get(payload.name)
        if not schema:
            return ToolPreInvokeResult()
        args = payload.args or {}
        for key in schema.get("required", []):
            if key not in args:
                return self._deny(f"missing argument {key!r}")
        for key, spec in schema.get("properties", {}).items():
            want = self._TYPES.get(spec.get("type", ""))
            if key in args and want is not None and not isinstance(args[key], want):
                return self._deny(f"argument {key!r} is not of type {spec['type']}")
        return ToolPreInvokeResult()

    def _deny(self, why: str) -> ToolPreInvokeResult:
        return ToolPreInvokeResult(
            continue_processing=False,
            violation=PluginViolation(reason="schema", description=why, code="SCHEMA_INVALID", details={}),
        )


class RegexFilterPlugin(Plugin):
    """Replaces configured words in prompt args and tool args/results (search and replace)."""

    def __init__(self, config: PluginConfig) -> None:
        super().__init__(config)
        words = (config.config or {}).get("words", [])
        self._rules = [(re.compile(w["search"]), w["replace"]) for w in words]

    def _text(self, value: Any) -> Any:
        if isinstance(value, str):
            for pattern, repl in self._rules:
                value = pattern.sub(repl, value)
            return value
        if isinstance(value, dict):
            return {k: self._text(v) for k, v in value.items()}
        if isinstance(value, list):
            return [self._text(v) for v in value]
        return value

    async def prompt_pre_fetch(self, payload: PromptPrehookPayload, context: PluginContext) -> PromptPrehookResult:
        args = self._text(payload.args or {})
        if args == payload.args:
            return PromptPrehookResult()
        return PromptPrehookResult(modified_payload=payload.model_copy(update={"args": args}))

    async def tool_pre_invoke(self, payload: ToolPreInvokePayload, context: PluginContext) -> ToolPreInvokeResult:
        args = self._text(payload.args or {})
        if args == payload.args:
            return ToolPreInvokeResult()
        return ToolPreInvokeResult(modified_payload=payload.model_copy(update={"args": args}))

    async def tool_post_invoke(self, payload: ToolPostInvokePayload, context: PluginContext) -> ToolPostInvokeResult:
        result = self._text(payload.result)
        if result == payload.result:
            return ToolPostInvokeResult()
        return ToolPostInvokeResult(modified_payload=payload.model_copy(update={"result": result}))
