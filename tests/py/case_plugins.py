"""The scripted Python plugin of the shared rule cases (tests/cases/README.md, `do`).

Every call is appended to CALLS as (plugin, hook, payload dump, global state snapshot);
the behaviour comes from the plugin's `config:` block, the same keys the Go runner
hands its scripted Go plugin (tests/go/rules_harness_test.go).
"""

from __future__ import annotations

import asyncio
from typing import Any

import cpex.framework as fw
from cpex.framework import (
    Plugin,
    PluginContext,
    PluginError,
    PluginErrorModel,
    PluginResult,
    PluginViolation,
    PluginViolationError,
)

CALLS: list[tuple[str, str, Any, dict[str, Any]]] = []


def dump(value: Any) -> Any:
    """A payload or result as plain JSON-like data."""
    if hasattr(value, "model_dump"):
        return value.model_dump(mode="json")
    return value


def _violation(spec: dict[str, Any]) -> PluginViolation:
    return PluginViolation(reason=spec.get("reason", ""), description=spec.get("description", ""),
                           code=spec.get("code", ""))


def _typed(spec: dict[str, Any]) -> Any:
    """`return: {type, value}`: a dict, or an instance of the named cpex.framework payload class."""
    kind, value = spec["type"], spec["value"]
    if kind == "dict":
        return dict(value)
    cls = getattr(fw, kind)
    if getattr(cls, "__pydantic_root_model__", False):
        return cls(value)
    return cls(**value)


class Script(Plugin):
    async def _run(self, hook: str, payload: Any, context: PluginContext) -> PluginResult:
        cfg: dict[str, Any] = dict(self.config.config or {})
        CALLS.append((self.name, hook, dump(payload), dict(context.global_context.state or {})))
        echo = None
        if cfg.get("echo"):
            echo = {self.name: {"gstate": dict(context.global_context.state), "gmeta": dict(context.global_context.metadata),
                                "lstate": dict(context.state)}}
        for key, value in (cfg.get("gmeta") or {}).items():
            context.global_context.metadata[key] = value
        for key, value in (cfg.get("gstate") or {}).items():
            context.global_context.state[key] = value
        for key, value in (cfg.get("lstate") or {}).items():
            context.state[key] = value
        if "raise_violation" in cfg:
            raise PluginViolationError(f"raised by {self.name}", violation=_violation(cfg["raise_violation"]))
        if cfg.get("sleep"):
            await asyncio.sleep(3600)
        if "error" in cfg:
            raise RuntimeError(cfg["error"])
        if "plugin_error" in cfg:
            raise PluginError(PluginErrorModel(message=cfg["plugin_error"], plugin_name=self.name))
        modified: Any = None
        if "set" in cfg:
            modified = payload.model_copy(update=cfg["set"])
        if "return" in cfg:
            modified = _typed(cfg["return"])
        return PluginResult(
            continue_processing=not cfg.get("block", False),
            modified_payload=modified,
            violation=_violation(cfg["violation"]) if "violation" in cfg else None,
            metadata=echo or cfg.get("metadata") or {},
            retry_delay_ms=cfg.get("retry", 0),
        )

    async def tool_pre_invoke(self, payload: Any, context: PluginContext) -> PluginResult:
        return await self._run("tool_pre_invoke", payload, context)

    async def tool_post_invoke(self, payload: Any, context: PluginContext) -> PluginResult:
        return await self._run("tool_post_invoke", payload, context)

    async def prompt_pre_fetch(self, payload: Any, context: PluginContext) -> PluginResult:
        return await self._run("prompt_pre_fetch", payload, context)

    async def http_pre_request(self, payload: Any, context: PluginContext) -> PluginResult:
        return await self._run("http_pre_request", payload, context)

    async def http_auth_resolve_user(self, payload: Any, context: PluginContext) -> PluginResult:
        return await self._run("http_auth_resolve_user", payload, context)

    async def http_auth_check_permission(self, payload: Any, context: PluginContext) -> PluginResult:
        return await self._run("http_auth_check_permission", payload, context)
