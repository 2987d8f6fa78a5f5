"""A TimeoutError a plugin raises itself (its own asyncio.wait_for, a client's read
timeout) is the executor's timeout (issue 10, item 8), as upstream 0.1.4, which catches
asyncio.TimeoutError around the call whoever raised it: record ``timeout`` with
"Plugin <name> exceeded <t>s timeout", PluginError under fail, PluginTimeoutError from a
single call under ignore/disable, runtime-disabled under disable. Fire-and-forget tasks
report it as an ordinary failure (upstream's task wrapper sees the exception itself)."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

import fixture_plugins as fp
from cpex.framework import GlobalContext, PluginContext, PluginError, PluginResult, ToolPreInvokePayload
from cpex.framework.manager import PluginExecutor, PluginTimeoutError


class OwnWaitFor(fp.Plugin):
    """Times out in its own asyncio.wait_for, long before the executor's timeout."""

    async def tool_pre_invoke(self, payload: Any, context: PluginContext) -> PluginResult:
        await asyncio.wait_for(asyncio.sleep(5), timeout=0.001)
        return PluginResult()


class RaisesTimeoutAtOnce(fp.Plugin):
    """Raises TimeoutError without ever awaiting."""

    async def tool_pre_invoke(self, payload: Any, context: PluginContext) -> PluginResult:
        raise TimeoutError("upstream read timed out")


PLUGINS = [OwnWaitFor, RaisesTimeoutAtOnce]


def _payload() -> ToolPreInvokePayload:
    return ToolPreInvokePayload(name="t", args={})


async def _execute(executor: PluginExecutor, refs: list[Any]) -> PluginResult:
    result, _ = await executor.execute(refs, _payload(), GlobalContext(request_id="r"), "tool_pre_invoke")
    return result


@pytest.mark.parametrize("cls", PLUGINS)
@pytest.mark.parametrize("mode", ["sequential", "transform", "concurrent"])
async def test_under_fail_it_raises_the_timeout_error(make_ref: Any, cls: type, mode: str) -> None:
    executor = PluginExecutor(timeout=30)
    with pytest.raises(PluginError) as info:
        await _execute(executor, [make_ref(cls, name="w", mode=mode)])
    assert str(info.value) == "Plugin w exceeded 30s timeout"
    assert info.value.error.plugin_name == "w"
    assert isinstance(info.value.__cause__, TimeoutError)


@pytest.mark.parametrize("cls", PLUGINS)
@pytest.mark.parametrize("mode", ["sequential", "concurrent"])
@pytest.mark.parametrize("on_error", ["ignore", "disable"])
async def test_swallowed_it_records_a_timeout(make_ref: Any, cls: type, mode: str, on_error: str) -> None:
    executor = PluginExecutor(timeout=30)
    result = await _execute(executor, [make_ref(cls, name="w", mode=mode, on_error=on_error)])
    assert result.continue_processing
    [record] = result.executions
    assert (record.status.value, record.reason, record.error_code) == (
        "timeout", "Plugin w exceeded 30s timeout", "plugin_timeout")
    assert ("w" in executor._runtime_disabled) == (on_error == "disable")


@pytest.mark.parametrize("cls", PLUGINS)
@pytest.mark.parametrize("on_error", ["ignore", "disable"])
async def test_a_single_call_raises_plugin_timeout_error(make_ref: Any, cls: type, on_error: str) -> None:
    executor = PluginExecutor(timeout=2)
    ref = make_ref(cls, name="w", on_error=on_error)
    with pytest.raises(PluginTimeoutError, match=r"^Plugin w exceeded 2s timeout$"):
        await executor.execute_plugin(ref, _payload(), PluginContext(global_context=GlobalContext(request_id="r")),
                                      False)


@pytest.mark.parametrize("cls", PLUGINS)
async def test_a_single_call_under_fail_raises_plugin_error(make_ref: Any, cls: type) -> None:
    executor = PluginExecutor(timeout=2)
    with pytest.raises(PluginError, match=r"^Plugin w exceeded 2s timeout$"):
        await executor.execute_plugin(make_ref(cls, name="w"), _payload(),
                                      PluginContext(global_context=GlobalContext(request_id="r")), False)


async def test_fire_and_forget_reports_the_exception_itself(make_ref: Any) -> None:
    executor = PluginExecutor(timeout=30)
    result = await _execute(executor, [make_ref(RaisesTimeoutAtOnce, name="w", mode="fire_and_forget")])
    [failure] = await asyncio.gather(*result.background_tasks)
    assert failure.message == "TimeoutError('upstream read timed out')"


async def test_invoke_hook_for_plugin_sees_the_same_timeout() -> None:
    from cpex.framework import PluginConfig, TenantPluginManager
    from cpex.framework.models import Config

    config = Config(plugins=[PluginConfig(name="w", kind=f"{__name__}.RaisesTimeoutAtOnce",
                                          hooks=["tool_pre_invoke"], on_error="ignore")])
    manager = TenantPluginManager(config)
    await manager.initialize()
    try:
        with pytest.raises(PluginTimeoutError, match=r"^Plugin w exceeded \d+s timeout$"):
            await manager.invoke_hook_for_plugin("w", "tool_pre_invoke", _payload(), GlobalContext(request_id="r"))
    finally:
        await manager.shutdown()
