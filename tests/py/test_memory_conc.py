"""What a hook call keeps while it is in flight (issue 10, item 11).

With thousands of calls waiting in their plugins at once, every object a call keeps
for its whole run is multiplied by the calls in flight (bench/memconc.py measures the
peak RSS). A plain outcome (allowed, nothing changed) is never named by a later step,
so its plugin result is let go as soon as it is reported; context snapshots share one
fields-set.
"""

from __future__ import annotations

import asyncio
import gc
import weakref
from typing import Any, Optional

from cpex.framework import (
    GlobalContext,
    Plugin,
    PluginContext,
    PluginResult,
    TenantPluginManager,
    ToolPreInvokePayload,
)
from cpex.framework.models import Config, PluginConfig

_first_result: Optional[weakref.ref[Any]] = None
_alive_while_second_ran: list[bool] = []


class KeepsNothing(Plugin):
    """Returns a plain allow, and remembers (weakly) the result object it returned."""

    async def tool_pre_invoke(self, payload: ToolPreInvokePayload, context: PluginContext) -> PluginResult:
        global _first_result
        result = PluginResult()
        _first_result = weakref.ref(result)
        return result


class LooksBack(Plugin):
    """Waits on the loop like a real plugin, then checks whether the first result lives."""

    async def tool_pre_invoke(self, payload: ToolPreInvokePayload, context: PluginContext) -> PluginResult:
        await asyncio.sleep(0)
        gc.collect()
        assert _first_result is not None
        _alive_while_second_ran.append(_first_result() is not None)
        return PluginResult()


def _plugin(name: str, cls: str, priority: int) -> PluginConfig:
    return PluginConfig(name=name, kind=f"test_memory_conc.{cls}", hooks=["tool_pre_invoke"], priority=priority)


async def test_a_plain_result_is_not_kept_for_the_rest_of_the_run() -> None:
    _alive_while_second_ran.clear()
    manager = TenantPluginManager(Config(plugins=[_plugin("first", "KeepsNothing", 10),
                                                  _plugin("second", "LooksBack", 20)]))
    await manager.initialize()
    try:
        result, _ = await manager.invoke_hook("tool_pre_invoke", ToolPreInvokePayload(name="t", args={}),
                                              GlobalContext(request_id="r"))
        assert result.continue_processing is True
        assert [r.plugin_name for r in result.executions] == ["first", "second"]
        assert _alive_while_second_ran == [False]
    finally:
        await manager.shutdown()


async def test_shared_fields_set_of_context_snapshots_stays_full() -> None:
    """Assigning a field of one plugin's snapshot changes no other snapshot's set."""
    seen: list[set[str]] = []

    class Writer(Plugin):
        async def tool_pre_invoke(self, payload: ToolPreInvokePayload, context: PluginContext) -> PluginResult:
            context.global_context.state = {"w": 1}
            seen.append(set(context.global_context.model_fields_set))
            return PluginResult()

    import test_memory_conc as me

    me.Writer = Writer  # type: ignore[attr-defined]
    manager = TenantPluginManager(Config(plugins=[_plugin("a", "Writer", 10), _plugin("b", "Writer", 20)]))
    await manager.initialize()
    try:
        await manager.invoke_hook("tool_pre_invoke", ToolPreInvokePayload(name="t", args={}),
                                  GlobalContext(request_id="r"))
        full = set(GlobalContext.model_fields)
        assert seen == [full, full]
        assert GlobalContext(request_id="x").model_fields_set == {"request_id"}
    finally:
        await manager.shutdown()
