"""Observability spans around a hook run (spec §20): when they are made, their names and attributes."""

from __future__ import annotations

import contextvars
from typing import Any, Optional

import pytest

import fixture_plugins as fp
from cpex.framework import GlobalContext, PluginError, ToolPreInvokePayload
from cpex.framework.manager import PluginExecutor
from cpex.framework.observability import current_trace_id


class Provider:
    """Records every call; span ids are sequential strings."""

    def __init__(self, fail: bool = False) -> None:
        self.started: list[dict[str, Any]] = []
        self.ended: list[dict[str, Any]] = []
        self.fail = fail

    def start_span(self, trace_id: str, name: str, kind: str = "internal", resource_type: Optional[str] = None,
                   resource_name: Optional[str] = None, attributes: Optional[dict[str, Any]] = None) -> Optional[str]:
        if self.fail:
            raise RuntimeError("provider down")
        self.started.append({"trace_id": trace_id, "name": name, "kind": kind, "resource_type": resource_type,
                             "resource_name": resource_name, "attributes": attributes})
        return f"span-{len(self.started)}"

    def end_span(self, span_id: Optional[str], status: str = "ok", attributes: Optional[dict[str, Any]] = None) -> None:
        if self.fail:
            raise RuntimeError("provider down")
        self.ended.append({"span_id": span_id, "status": status, "attributes": attributes})


def payload() -> ToolPreInvokePayload:
    return ToolPreInvokePayload(name="search", args={"q": "x"})


@pytest.fixture
def traced() -> Any:
    token = current_trace_id.set("trace-1")
    yield
    current_trace_id.reset(token)


async def test_no_spans_without_a_trace_id(make_ref: Any, gctx: GlobalContext) -> None:
    provider = Provider()
    await PluginExecutor(observability=provider).execute([make_ref(fp.Passthrough)], payload(), gctx,
                                                         "tool_pre_invoke")
    assert provider.started == [] and provider.ended == []


async def test_no_spans_without_a_provider(make_ref: Any, gctx: GlobalContext, traced: Any) -> None:
    result, _ = await PluginExecutor().execute([make_ref(fp.Passthrough)], payload(), gctx, "tool_pre_invoke")
    assert result.continue_processing


async def test_chain_and_plugin_spans(make_ref: Any, gctx: GlobalContext, traced: Any) -> None:
    from cpex.framework import PluginCondition

    provider = Provider()
    refs = [make_ref(fp.SetArg, name="mod", priority=3),
            make_ref(fp.Passthrough, name="skipped", conditions=[PluginCondition(tools={"other"})])]
    await PluginExecutor(timeout=9, observability=provider).execute(refs, payload(), gctx, "tool_pre_invoke")
    chain, plugin = provider.started
    assert chain["name"] == "plugin.hook.invoke" and chain["trace_id"] == "trace-1" and chain["kind"] == "internal"
    assert chain["attributes"] == {"plugin.hook.type": "tool_pre_invoke", "plugin.chain.length": 2}
    assert plugin["name"] == "plugin.execute.mod"
    assert (plugin["resource_type"], plugin["resource_name"]) == ("plugin", "mod")
    assert plugin["attributes"] == {"plugin.name": "mod", "plugin.uuid": refs[0].plugin_ref.uuid,
                                    "plugin.mode": "sequential", "plugin.priority": 3, "plugin.timeout": 9}
    plugin_end, chain_end = provider.ended
    assert plugin_end == {"span_id": "span-2", "status": "ok",
                          "attributes": {"plugin.had_violation": False, "plugin.modified_payload": True}}
    assert chain_end == {"span_id": "span-1", "status": "ok",
                         "attributes": {"plugin.executed_count": 1, "plugin.skipped_count": 1,
                                        "plugin.chain.stopped": False, "plugin.chain.stopped_by": ""}}


async def test_halt_is_reported_on_the_chain_span(make_ref: Any, gctx: GlobalContext, traced: Any) -> None:
    provider = Provider()
    await PluginExecutor(observability=provider).execute([make_ref(fp.Block, name="stopper")], payload(), gctx,
                                                         "tool_pre_invoke")
    assert provider.ended[0]["attributes"] == {"plugin.had_violation": True, "plugin.modified_payload": True}
    assert provider.ended[-1]["attributes"]["plugin.chain.stopped"] is True
    assert provider.ended[-1]["attributes"]["plugin.chain.stopped_by"] == "stopper"


async def test_failed_plugin_span_ends_with_error_and_chain_span_stays_open(
    make_ref: Any, gctx: GlobalContext, traced: Any
) -> None:
    provider = Provider()
    with pytest.raises(PluginError):
        await PluginExecutor(observability=provider).execute([make_ref(fp.Boom)], payload(), gctx, "tool_pre_invoke")
    assert len(provider.started) == 2
    assert provider.ended == [{"span_id": "span-2", "status": "error", "attributes": None}]


async def test_provider_errors_never_reach_the_caller(make_ref: Any, gctx: GlobalContext, traced: Any) -> None:
    result, _ = await PluginExecutor(observability=Provider(fail=True)).execute(
        [make_ref(fp.SetArg)], payload(), gctx, "tool_pre_invoke")
    assert result.modified_payload.args["k"] == "SetArg"


class SeesTrace(fp.Plugin):
    async def tool_pre_invoke(self, payload: Any, context: Any) -> Any:
        from cpex.framework import PluginResult

        return PluginResult(metadata={"trace": current_trace_id.get(), "var": MARKER.get()})


MARKER: contextvars.ContextVar[str] = contextvars.ContextVar("marker", default="unset")


@pytest.mark.parametrize("mode", ["sequential", "transform", "audit", "concurrent"])
async def test_plugins_run_with_the_callers_contextvars(make_ref: Any, gctx: GlobalContext, traced: Any,
                                                        mode: str) -> None:
    MARKER.set("from-caller")
    result, _ = await PluginExecutor().execute([make_ref(SeesTrace, mode=mode)], payload(), gctx, "tool_pre_invoke")
    assert result.metadata == {"trace": "trace-1", "var": "from-caller"}


async def test_background_and_concurrent_plugins_get_spans(make_ref: Any, gctx: GlobalContext, traced: Any) -> None:
    provider = Provider()
    refs = [make_ref(fp.Passthrough, name="conc", mode="concurrent"),
            make_ref(fp.Passthrough, name="bg", mode="fire_and_forget")]
    result, _ = await PluginExecutor(observability=provider).execute(refs, payload(), gctx, "tool_pre_invoke")
    await result.wait_for_background_tasks()
    names = [s["name"] for s in provider.started]
    assert names == ["plugin.hook.invoke", "plugin.execute.conc", "plugin.execute.bg"]
    assert [e["status"] for e in provider.ended] == ["ok", "ok", "ok"]


async def test_the_size_guard_raises_before_any_span(make_ref: Any, gctx: GlobalContext, traced: Any) -> None:
    from cpex.framework.manager import PayloadSizeError

    provider = Provider()
    big = ToolPreInvokePayload(name="t", args={"a": "x" * 1_000_001})
    with pytest.raises(PayloadSizeError):
        await PluginExecutor(observability=provider).execute([make_ref(fp.Passthrough)], big, gctx, "tool_pre_invoke")
    assert provider.started == []
