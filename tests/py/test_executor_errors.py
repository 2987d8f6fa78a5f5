"""on_error, timeouts, the runtime-disabled set and the payload-size guard (spec §11.1, §11.4, §11.10)."""

from __future__ import annotations

from typing import Any

import pytest

import fixture_plugins as fp
from cpex.framework import GlobalContext, PluginError, ToolPostInvokePayload, ToolPreInvokePayload
from cpex.framework.manager import PayloadSizeError, PluginExecutor


@pytest.fixture(autouse=True)
def _clear_calls() -> None:
    fp.CALLS.clear()


def payload() -> ToolPreInvokePayload:
    return ToolPreInvokePayload(name="search", args={"q": "x"})


async def test_exception_with_fail_wraps_repr_and_chains(make_ref: Any, gctx: GlobalContext) -> None:
    with pytest.raises(PluginError) as info:
        await PluginExecutor().execute([make_ref(fp.Boom, name="b")], payload(), gctx, "tool_pre_invoke")
    assert str(info.value) == "ValueError('boom')"
    assert info.value.error.plugin_name == "b"
    assert isinstance(info.value.__cause__, ValueError)


async def test_plugin_error_with_fail_is_reraised_unchanged(make_ref: Any, gctx: GlobalContext) -> None:
    with pytest.raises(PluginError) as info:
        await PluginExecutor().execute([make_ref(fp.RaisesPluginError, name="pe")], payload(), gctx, "tool_pre_invoke")
    assert info.value.error.message == "custom failure" and info.value.error.code == "X1"


async def test_timeout_with_fail_message(make_ref: Any, gctx: GlobalContext) -> None:
    ref = make_ref(fp.Sleeper, name="slow", config={"delay": 5})
    with pytest.raises(PluginError) as info:
        await PluginExecutor(timeout=0.05).execute([ref], payload(), gctx, "tool_pre_invoke")
    assert str(info.value) == "Plugin slow exceeded 0.05s timeout"


async def test_ignore_swallows_exception_as_a_clean_allow(make_ref: Any, gctx: GlobalContext) -> None:
    refs = [make_ref(fp.Boom, name="b", on_error="ignore"), make_ref(fp.Passthrough, name="after", priority=200)]
    result, _ = await PluginExecutor().execute(refs, payload(), gctx, "tool_pre_invoke")
    assert result.continue_processing and fp.CALLS == ["b", "after"]
    rec = result.executions[0]
    assert (rec.status, rec.matched, rec.effective_allow) == ("completed", False, True)


async def test_ignore_timeout_record(make_ref: Any, gctx: GlobalContext) -> None:
    refs = [make_ref(fp.Sleeper, name="slow", on_error="ignore", config={"delay": 5})]
    result, _ = await PluginExecutor(timeout=0.05).execute(refs, payload(), gctx, "tool_pre_invoke")
    rec = result.executions[0]
    assert rec.status == "timeout" and rec.error_code == "plugin_timeout"
    assert rec.reason == "Plugin slow exceeded 0.05s timeout"
    assert rec.requested_allow is None and rec.effective_allow is True and rec.applied is True


async def test_disable_adds_to_runtime_disabled_until_reset(make_ref: Any, gctx: GlobalContext) -> None:
    executor = PluginExecutor()
    refs = [make_ref(fp.Boom, name="flaky", on_error="disable")]
    await executor.execute(refs, payload(), gctx, "tool_pre_invoke")
    assert "flaky" in executor._runtime_disabled
    result, table = await executor.execute(refs, payload(), gctx, "tool_pre_invoke")
    assert fp.CALLS == ["flaky"] and result.executions == [] and table == {}
    await executor.reset_runtime_disabled()
    assert "flaky" not in executor._runtime_disabled
    await executor.execute(refs, payload(), gctx, "tool_pre_invoke")
    assert fp.CALLS == ["flaky", "flaky"]


async def test_fire_and_forget_disable_applies(make_ref: Any, gctx: GlobalContext) -> None:
    executor = PluginExecutor()
    refs = [make_ref(fp.Boom, name="bgflaky", mode="fire_and_forget", on_error="disable")]
    result, _ = await executor.execute(refs, payload(), gctx, "tool_pre_invoke")
    await result.wait_for_background_tasks()
    assert "bgflaky" in executor._runtime_disabled


async def test_payload_size_guard_args(make_ref: Any, gctx: GlobalContext) -> None:
    big = ToolPreInvokePayload(name="t", args={"a": "x" * 600_000, "b": "y" * 400_001})
    with pytest.raises(PayloadSizeError, match="^Payload size 1000001 exceeds limit of 1000000 bytes$"):
        await PluginExecutor().execute([make_ref(fp.Passthrough)], big, gctx, "tool_pre_invoke")
    assert fp.CALLS == []


async def test_payload_size_guard_result(make_ref: Any, gctx: GlobalContext) -> None:
    big = ToolPostInvokePayload(name="t", result="z" * 1_000_001)
    ref = make_ref(fp.Passthrough, hook="tool_post_invoke")
    with pytest.raises(PayloadSizeError, match="^Result size 1000001 exceeds limit of 1000000 bytes$"):
        await PluginExecutor().execute([ref], big, gctx, "tool_post_invoke")


async def test_size_at_limit_is_fine(make_ref: Any, gctx: GlobalContext) -> None:
    ok = ToolPreInvokePayload(name="t", args={"a": "x" * 1_000_000})
    result, _ = await PluginExecutor().execute([make_ref(fp.Passthrough)], ok, gctx, "tool_pre_invoke")
    assert result.continue_processing


async def test_retry_delay_is_the_max_of_allowing_plugins(make_ref: Any, gctx: GlobalContext) -> None:
    refs = [make_ref(fp.SetArg, name="r1", config={"retry": 100}), make_ref(fp.SetArg, name="r2", priority=200,
                                                                            config={"retry": 700})]
    result, _ = await PluginExecutor().execute(refs, payload(), gctx, "tool_pre_invoke")
    assert result.retry_delay_ms == 700


class ReturnsNothing(fp.Plugin):
    async def tool_pre_invoke(self, payload: Any, context: Any) -> Any:
        return None


async def test_a_hook_that_returns_no_result_is_a_plugin_error(make_ref: Any, gctx: GlobalContext) -> None:
    with pytest.raises(PluginError) as info:
        await PluginExecutor().execute([make_ref(ReturnsNothing, name="none")], payload(), gctx, "tool_pre_invoke")
    assert str(info.value) == "AttributeError(\"'NoneType' object has no attribute 'metadata'\")"
    refs = [make_ref(ReturnsNothing, name="none", on_error="ignore"), make_ref(fp.Passthrough, priority=200)]
    result, _ = await PluginExecutor().execute(refs, payload(), gctx, "tool_pre_invoke")
    assert result.continue_processing and fp.CALLS == ["Passthrough"]


class BreaksItsContext(fp.Plugin):
    async def tool_pre_invoke(self, payload: Any, context: Any) -> Any:
        object.__setattr__(context.global_context, "state", ["not", "a", "dict"])
        return fp.PluginResult()


async def test_a_failure_while_taking_the_result_in_is_the_plugins_error(make_ref: Any, gctx: GlobalContext) -> None:
    with pytest.raises(PluginError) as info:
        await PluginExecutor().execute([make_ref(BreaksItsContext, name="bad")], payload(), gctx, "tool_pre_invoke")
    assert info.value.error.plugin_name == "bad" and "ValueError" in str(info.value)
    refs = [make_ref(BreaksItsContext, name="bad", on_error="ignore", mode="concurrent")]
    result, _ = await PluginExecutor().execute(refs, payload(), gctx, "tool_pre_invoke")
    assert result.continue_processing and gctx.state == {}
