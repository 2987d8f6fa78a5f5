"""Fire-and-forget ignores what its plugin returns (issue 10, item 6), as upstream 0.1.4:
a hook returning None, a dict or a str is no failure, is not logged as one and, under
``on_error: disable``, is not disabled for the calls that follow."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import pytest

import fixture_plugins as fp
from cpex.framework import GlobalContext, PluginContext, ToolPreInvokePayload
from cpex.framework.manager import PluginExecutor


class ReturnsConfigured(fp.Plugin):
    """Returns config.ret (anything but a PluginResult) and counts its calls."""

    calls = 0

    async def tool_pre_invoke(self, payload: Any, context: PluginContext) -> Any:
        type(self).calls += 1
        return (self.config.config or {}).get("ret")


class ReturnsAfterAwait(ReturnsConfigured):
    async def tool_pre_invoke(self, payload: Any, context: PluginContext) -> Any:
        await asyncio.sleep(0)
        return await super().tool_pre_invoke(payload, context)


@pytest.mark.parametrize("cls", [ReturnsConfigured, ReturnsAfterAwait])
@pytest.mark.parametrize("ret", [None, {"x": 1}, "text", 0])
async def test_a_fire_and_forget_return_value_is_ignored(make_ref: Any, cls: type, ret: Any,
                                                         caplog: pytest.LogCaptureFixture) -> None:
    cls.calls = 0
    executor = PluginExecutor(timeout=30)
    refs = [make_ref(cls, name="bg", mode="fire_and_forget", on_error="disable", config={"ret": ret})]
    with caplog.at_level(logging.ERROR):
        for k in range(3):
            result, _ = await executor.execute(refs, ToolPreInvokePayload(name="t", args={}),
                                               GlobalContext(request_id=f"r{k}"), "tool_pre_invoke")
            assert len(result.background_tasks) == 1, "never disabled: spawned on every call"
            assert await asyncio.gather(*result.background_tasks) == [None], "no failure reported"
    assert cls.calls == 3
    assert "bg" not in executor._runtime_disabled
    assert not [r for r in caplog.records if "fire-and-forget" in r.getMessage()]


async def test_a_fire_and_forget_exception_still_disables(make_ref: Any) -> None:
    executor = PluginExecutor(timeout=30)
    refs = [make_ref(fp.Boom, name="bg", mode="fire_and_forget", on_error="disable")]
    result, _ = await executor.execute(refs, ToolPreInvokePayload(name="t", args={}),
                                       GlobalContext(request_id="r"), "tool_pre_invoke")
    [failure] = await asyncio.gather(*result.background_tasks)
    assert failure is not None and failure.plugin_name == "bg"
    assert "bg" in executor._runtime_disabled
