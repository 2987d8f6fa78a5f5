"""The Python chain's per-run and per-plugin shortcuts (docs/performance.md, "Python
chains") answer exactly what the general path answers: invoke_hook without execute's
frame, serial calls that begin the hook without _invoke, calls without an __init__, and
concurrent calls that record their own completion."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import pytest

import fixture_plugins as fp
from cpex.framework import GlobalContext, PluginResult, ToolPreInvokePayload
from cpex.framework._driver import _Call, _Run
from cpex.framework.manager import PluginExecutor, TenantPluginManager
from cpex.framework.models import Config, PluginConfig


def _config(*plugins: tuple[str, str, str]) -> Config:
    return Config(plugins=[
        PluginConfig(name=name, kind=f"fixture_plugins.{kind}", hooks=["tool_pre_invoke"], mode=mode, priority=k)
        for k, (name, kind, mode) in enumerate(plugins, start=1)
    ])


CHAIN = _config(
    ("writer", "StateWriter", "sequential"),
    ("setter", "SetArg", "transform"),
    ("audit", "Passthrough", "audit"),
    ("c1", "Passthrough", "concurrent"),
    ("c2", "Recorder", "concurrent"),
)


def _shape(result: PluginResult, table: Any) -> dict[str, Any]:
    """What a caller observes of a chain's answer, without durations."""
    return {
        "cont": result.continue_processing,
        "payload": result.modified_payload.model_dump() if result.modified_payload is not None else None,
        "metadata": result.metadata,
        "records": [r.model_dump(exclude={"duration_ns"}) for r in result.executions],
        "table": sorted((k[-32:], v.state, v.global_context.state) for k, v in (table or {}).items()),
    }


async def test_invoke_hook_answers_what_execute_answers() -> None:
    manager = TenantPluginManager(CHAIN)
    await manager.initialize()
    payload = ToolPreInvokePayload(name="t", args={"q": "x"})
    fast = await manager.invoke_hook("tool_pre_invoke", payload, GlobalContext(request_id="r1"))
    refs = manager._registry.get_hook_refs_for_hook(hook_type="tool_pre_invoke")
    slow = await manager.executor.execute(refs, payload, GlobalContext(request_id="r1"), "tool_pre_invoke")
    assert _shape(*fast) == _shape(*slow)
    assert [r.plugin_name for r in fast[0].executions] == ["writer", "setter", "audit", "c1", "c2"]


async def test_an_executor_whose_execute_was_patched_is_still_asked_for_a_chain(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    manager = TenantPluginManager(CHAIN)
    await manager.initialize()
    seen: list[str] = []
    real = manager.executor.execute

    async def spy(hook_refs: Any, payload: Any, gctx: Any, hook_type: str, *rest: Any) -> Any:
        seen.append(hook_type)
        return await real(hook_refs, payload, gctx, hook_type, *rest)

    monkeypatch.setattr(manager.executor, "execute", spy)
    result, _ = await manager.invoke_hook("tool_pre_invoke", ToolPreInvokePayload(name="t"), GlobalContext(request_id="r"))
    assert seen == ["tool_pre_invoke"] and len(result.executions) == 5


def test_a_call_starts_from_its_defaults_and_owns_what_it_sets() -> None:
    first, second = _Call(), _Call()
    assert (first.result, first.exc, first.status, first.duration, first.pending, first.span) == (
        None, None, "ok", 0, None, None)
    first.status, first.duration, first.result = "error", 5, PluginResult()
    assert (second.status, second.duration, second.result) == ("ok", 0, None)


async def test_serial_calls_with_a_span_take_the_general_path(
    make_ref: Any, gctx: GlobalContext, monkeypatch: pytest.MonkeyPatch,
) -> None:
    # a call step with "span" awaits through _invoke (which starts and ends the span)
    run = _Run(PluginExecutor(), [make_ref(fp.Passthrough)], ToolPreInvokePayload(name="t"), gctx,
               "tool_pre_invoke", None, None, None, None, 0)
    spans: list[Any] = []
    monkeypatch.setattr(_Run, "_plugin_span_start", lambda self, ref, timeout: spans.append(ref.name) or "s1")
    step = {"i": 0, "timeout": 30, "merge": True, "meta": True, "diff": False, "span": True}
    assert await run._call(step) is None and run.plain and spans == ["Passthrough"]


class SuspendsThenAllows(fp.Plugin):
    async def tool_pre_invoke(self, payload: Any, context: Any) -> PluginResult:
        await asyncio.sleep(0)
        return PluginResult(metadata={"late": self.name})


async def test_concurrent_completions_keep_their_order_when_hooks_suspend(
    make_ref: Any, gctx: GlobalContext,
) -> None:
    refs = [make_ref(SuspendsThenAllows, name="slow", mode="concurrent"),
            make_ref(fp.Passthrough, name="quick", mode="concurrent")]
    result, _ = await PluginExecutor().execute(refs, ToolPreInvokePayload(name="t"), gctx, "tool_pre_invoke")
    assert result.continue_processing and result.metadata == {"late": "slow"}
    # records come in the order the calls completed: the one that suspended ends last
    assert [r.plugin_name for r in result.executions] == ["quick", "slow"]


async def test_a_concurrent_call_whose_bookkeeping_fails_raises_once(
    make_ref: Any, gctx: GlobalContext, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture,
) -> None:
    real = _Run._concurrent_result

    def broken(self: Any, i: int, call: Any, ctx: Any) -> Any:
        if i == 0:
            raise RuntimeError("bookkeeping")
        return real(self, i, call, ctx)

    monkeypatch.setattr(_Run, "_concurrent_result", broken)
    refs = [make_ref(fp.Passthrough, name="a", mode="concurrent"), make_ref(fp.Passthrough, name="b", mode="concurrent")]
    with caplog.at_level(logging.ERROR, logger="asyncio"), pytest.raises(RuntimeError, match="bookkeeping"):
        await PluginExecutor().execute(refs, ToolPreInvokePayload(name="t"), gctx, "tool_pre_invoke")
    await asyncio.sleep(0)
    import gc

    gc.collect()
    assert not [r for r in caplog.records if "never retrieved" in r.getMessage()]
