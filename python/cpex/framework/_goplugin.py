"""Go plugins (``kind: builtin/<name>``) as seen from Python.

A Go plugin is built and owned by the core. In a hook run the core calls it itself,
inside a step, on the payload's JSON (docs/protocol.md, ``go`` steps), so no Python
object is involved on that path. This class only gives it the shape of a ``Plugin``:
config properties, one coroutine per configured hook (for ``invoke_hook_for_plugin`` and
direct calls, which go through the core too) and a ``shutdown`` that releases it.
"""

from __future__ import annotations

import weakref
from typing import Any, Awaitable, Callable, Optional

from cpex.framework import _gowait
from cpex.framework._driver import _dumps, _loads, go_invoke_timeout, payload_json, user_fact
from cpex.framework._engine import wire
from cpex.framework.base import Plugin
from cpex.framework.models import PluginConfig, PluginContext, PluginPayload, PluginResult, PluginViolation


def _release(go_id: int) -> None:
    if wire.started():
        try:
            wire.go_plugin_release(go_id)
        except Exception:
            pass


def _context_facts(context: PluginContext) -> str:
    gc = context.global_context
    facts: dict[str, Any] = {
        "rid": gc.request_id,
        "server_id": gc.server_id,
        "tenant_id": gc.tenant_id,
        "content_type": gc.content_type,
        "user": user_fact(gc.user),
    }
    timeout = go_invoke_timeout.get()
    if timeout is not None and timeout > 0:
        # the executor's timeout (docs/protocol.md, GoPluginInvoke); the core refuses <= 0
        facts["timeout"] = timeout
    return _dumps(facts)


class GoPlugin(Plugin):
    """A plugin implemented in Go and registered in the core under its kind."""

    def __init__(self, config: PluginConfig) -> None:
        super().__init__(config)
        spec = {"name": config.name, "kind": config.kind, "hooks": list(config.hooks), "config": config.config or {}}
        # default=str: a YAML config may hold dates and the like, which the Go side reads as text
        self._go_plugin_id: int = wire.go_plugin_new(_dumps(spec, default=str))
        self._finalizer = weakref.finalize(self, _release, self._go_plugin_id)
        self._finalizer.atexit = False
        for hook in config.hooks:
            setattr(self, str(hook), self._hook_for(str(hook)))

    def _hook_for(self, hook: str) -> Callable[[PluginPayload, PluginContext], Awaitable[PluginResult]]:
        # The coroutine function is stored on the plugin: it must not hold the plugin itself,
        # or the plugin would live until a cycle collection and release its Go twin late.
        go_id, plugin_name = self._go_plugin_id, self.name
        # The payload JSON length from which a call runs off the event loop: the core
        # decides it from the plugin's measured cost (0: it is I/O-bound) and sends the
        # next value with every answer.
        off_loop_from = [wire.go_plugin_async(go_id)]

        async def run_go_plugin(payload: PluginPayload, context: PluginContext) -> PluginResult:
            text, facts = payload_json(payload), _context_facts(context)
            raw: Optional[str] = None
            if _gowait.enabled and len(text) >= off_loop_from[0]:
                job: list[int] = []
                raw = await _gowait.run_off_loop(
                    lambda fd: job.append(wire.go_plugin_invoke_start(go_id, hook, text, facts, fd)),
                    lambda: wire.go_plugin_invoke_finish(job[0]),
                    lambda: wire.go_plugin_invoke_drop(job[0]),
                )
            if raw is None:
                raw = wire.go_plugin_invoke(go_id, hook, text, facts)
            head, frame = wire.split_frames(raw)
            answer = _loads(head)
            off_loop_from[0] = answer.get("async", off_loop_from[0])
            modified = frame if answer.get("payload") else None  # the frame is the new payload
            violation: Optional[PluginViolation] = None
            if answer.get("violation"):
                fields = dict(answer["violation"])
                name = fields.pop("plugin_name", "") or plugin_name
                violation = PluginViolation(**fields)
                violation.plugin_name = name
            return PluginResult(
                continue_processing=answer.get("cont", True),
                modified_payload=type(payload).model_validate_json(modified) if modified is not None else None,
                violation=violation,
                metadata=answer.get("metadata") or {},
                retry_delay_ms=answer.get("retry", 0),
            )

        run_go_plugin.__name__ = hook
        return run_go_plugin

    async def shutdown(self) -> None:
        self._finalizer()
