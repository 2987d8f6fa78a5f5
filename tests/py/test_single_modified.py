"""invoke_hook_for_plugin of a plugin that returns a modified payload and nothing else
(the header injection, the published PII filter): one crossing with a preformatted
outcome and no _Run (_engine/single.py), and exactly what the general protocol
(RunSingle + RunReport) gives, for every returned kind and every mode."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from typing import Any

import orjson
import pytest

from counting import count_crossings, outcome_counts
from cpex.framework import (
    GlobalContext,
    Plugin,
    PluginContext,
    PluginResult,
    TenantPluginManager,
    ToolPostInvokePayload,
    ToolPreInvokePayload,
)
from cpex.framework import metrics as cpex_metrics
from cpex.framework._engine import wire
from cpex.framework._engine.invoke import _Call
from cpex.framework._engine.run import _Run
from cpex.framework.models import Config, PluginConfig

HOOK = "tool_pre_invoke"
MODULE = __name__


class SameType(Plugin):
    async def tool_pre_invoke(self, payload: ToolPreInvokePayload, context: PluginContext) -> PluginResult:
        return PluginResult(modified_payload=payload.model_copy(update={"args": {"q": "masked"}}), metadata={"n": 1})


class SameObject(Plugin):
    async def tool_pre_invoke(self, payload: ToolPreInvokePayload, context: PluginContext) -> PluginResult:
        return PluginResult(modified_payload=payload)


class OtherPayload(Plugin):
    async def tool_pre_invoke(self, payload: ToolPreInvokePayload, context: PluginContext) -> PluginResult:
        return PluginResult(modified_payload=ToolPostInvokePayload(name=payload.name, result={"r": 1}))


class DictPayload(Plugin):
    async def tool_pre_invoke(self, payload: ToolPreInvokePayload, context: PluginContext) -> PluginResult:
        return PluginResult(modified_payload={"name": "x", "args": {}})


class Foreign(Plugin):
    async def tool_pre_invoke(self, payload: ToolPreInvokePayload, context: PluginContext) -> PluginResult:
        return PluginResult(modified_payload=("not", "a", "payload"))


PLUGINS = ["SameType", "SameObject", "OtherPayload", "DictPayload", "Foreign"]
MODES = ["sequential", "transform", "audit", "concurrent", "fire_and_forget"]


@pytest.fixture
def crossings(monkeypatch: pytest.MonkeyPatch) -> Iterator[Counter[str]]:
    yield count_crossings(monkeypatch, ("run_single_plain", "run_single_report", "run_single", "run_report"))


def payload() -> ToolPreInvokePayload:
    return ToolPreInvokePayload(name="search", args={"q": "x"})


async def manager_of(prefix: str, cls: str, mode: str, metrics: bool) -> TenantPluginManager:
    cfg = Config(plugins=[PluginConfig(name=f"{prefix}p", kind=f"{MODULE}.{cls}", hooks=[HOOK], mode=mode, priority=1)])
    manager = TenantPluginManager(cfg, metrics=metrics)
    await manager.initialize()
    return manager


def summary(result: PluginResult) -> tuple[Any, ...]:
    return (result.continue_processing, result.modified_payload, result.violation, result.metadata,
            result.denial_metadata, result.retry_delay_ms, result.model_fields_set)


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("cls", PLUGINS)
async def test_a_modified_payload_matches_the_general_protocol(
    request: pytest.FixtureRequest, crossings: Counter[str], cls: str, mode: str
) -> None:
    name = f"{request.node.name}p"
    manager = await manager_of(request.node.name, cls, mode, metrics=False)
    hook_ref = manager._registry.get_plugin_hook_by_name(name, HOOK)
    inp = payload()
    got = await manager.invoke_hook_for_plugin(name, HOOK, inp, GlobalContext(request_id="r"))
    assert crossings == Counter({"run_single_report": 1}), "one crossing, no general run"
    ctx = PluginContext(global_context=GlobalContext(request_id="r"))
    want = await manager.executor.execute_plugin(hook_ref, inp, ctx, False, combined_metadata={})
    assert summary(got) == summary(want)
    await manager.shutdown()


@pytest.mark.parametrize("cls", PLUGINS)
async def test_the_outcome_is_the_one_the_run_formats(request: pytest.FixtureRequest, cls: str,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    """The preformatted outcome says what _Run._outcome says for the same call."""
    sent: list[str] = []
    real = wire.run_single_report
    monkeypatch.setattr(wire, "run_single_report", lambda rule, doc: (sent.append(doc), real(rule, doc))[1])
    name = f"{request.node.name}p"
    manager = await manager_of(request.node.name, cls, "sequential", metrics=False)
    inp = payload()
    result = await manager.invoke_hook_for_plugin(name, HOOK, inp, GlobalContext(request_id="r"))
    [doc] = sent
    sent_outcome = orjson.loads(doc)
    hook_ref = manager._registry.get_plugin_hook_by_name(name, HOOK)
    run = _Run(manager.executor, [hook_ref], inp, None, "", None, None, None, None, 0)
    call = _Call()
    call.result, call.duration = result, sent_outcome["dur"]
    assert sent_outcome == orjson.loads(run._outcome(0, call, run._returned(False, inp, result.modified_payload)))
    await manager.shutdown()


def calls_of(plugin: str, outcome: str) -> int:
    return outcome_counts(plugin, HOOK).get(outcome, 0)


async def test_a_modified_call_is_counted_once(request: pytest.FixtureRequest, crossings: Counter[str]) -> None:
    name = f"{request.node.name}p"
    manager = await manager_of(request.node.name, "SameType", "sequential", metrics=True)
    for _ in range(3):
        result = await manager.invoke_hook_for_plugin(name, HOOK, payload(), GlobalContext(request_id="r"))
        assert result.modified_payload is not None and result.modified_payload.args == {"q": "masked"}
    assert crossings == Counter({"run_single_report": 3})
    assert sum(calls_of(name, o) for o in cpex_metrics.snapshot()["outcomes"]) == 3
    await manager.shutdown()
