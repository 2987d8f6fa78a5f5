"""invoke_hook_for_plugin's single-plugin path (_engine/single.py): at most one crossing,
and exactly what the general protocol (RunSingle + RunReport) gives."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from typing import Any

import pytest

from counting import count_crossings, outcome_counts
from cpex.framework import GlobalContext, PluginContext, TenantPluginManager, ToolPreInvokePayload
from cpex.framework._engine.results import _plugin_context
from cpex.framework.errors import PluginError, PluginViolationError
from cpex.framework.manager import PluginTimeoutError
from cpex.framework.models import Config, PluginConfig

HOOK = "tool_pre_invoke"
CROSSINGS = ("single_rule", "run_single_plain", "run_single_report", "run_single", "run_report")


@pytest.fixture
def crossings(monkeypatch: pytest.MonkeyPatch) -> Iterator[Counter[str]]:
    """Counts the single-path protocol functions the driver calls."""
    yield count_crossings(monkeypatch, CROSSINGS)


def config(prefix: str, cls: str, mode: str = "sequential", on_error: str = "fail", **cfg: Any) -> Config:
    return Config(plugins=[PluginConfig(name=f"{prefix}p", kind=f"fixture_plugins.{cls}", hooks=[HOOK], mode=mode,
                                        on_error=on_error, priority=1, config=cfg or None)])


async def manager_of(prefix: str, cls: str, metrics: bool, **kw: Any) -> TenantPluginManager:
    manager = TenantPluginManager(config(prefix, cls, **kw), metrics=metrics)
    await manager.initialize()
    return manager


def payload() -> ToolPreInvokePayload:
    return ToolPreInvokePayload(name="search", args={"q": "x"})


def calls_of(plugin: str, outcome: str) -> int:
    return outcome_counts(plugin, HOOK).get(outcome, 0)


async def test_a_plain_call_crosses_nothing_when_metrics_are_off(request: pytest.FixtureRequest,
                                                                  crossings: Counter[str]) -> None:
    manager = await manager_of(request.node.name, "Passthrough", metrics=False)
    for _ in range(3):
        result = await manager.invoke_hook_for_plugin(f"{request.node.name}p", HOOK, payload(), GlobalContext(request_id="r"))
        assert result.continue_processing is True and result.modified_payload is None
    assert crossings == Counter({"single_rule": 1}), "the rule is asked once, then no call crosses"
    await manager.shutdown()


async def test_a_plain_call_is_counted_in_one_crossing_when_metrics_are_on(request: pytest.FixtureRequest,
                                                                          crossings: Counter[str]) -> None:
    name = f"{request.node.name}p"
    manager = await manager_of(request.node.name, "Passthrough", metrics=True)
    for _ in range(3):
        await manager.invoke_hook_for_plugin(name, HOOK, payload(), GlobalContext(request_id="r"))
    assert crossings == Counter({"single_rule": 1, "run_single_plain": 3})
    assert calls_of(name, "allowed") == 3
    await manager.shutdown()


async def test_switching_metrics_on_drops_the_cached_rule(request: pytest.FixtureRequest, crossings: Counter[str]) -> None:
    name = f"{request.node.name}p"
    manager = await manager_of(request.node.name, "Passthrough", metrics=False)
    await manager.invoke_hook_for_plugin(name, HOOK, payload(), GlobalContext(request_id="r"))
    assert calls_of(name, "allowed") == 0
    manager.executor.metrics = True
    await manager.invoke_hook_for_plugin(name, HOOK, payload(), GlobalContext(request_id="r"))
    assert calls_of(name, "allowed") == 1
    assert crossings["single_rule"] == 2
    await manager.shutdown()


async def test_a_changed_timeout_applies_to_the_next_call(request: pytest.FixtureRequest) -> None:
    name = f"{request.node.name}p"
    manager = await manager_of(request.node.name, "Sleeper", metrics=False, on_error="ignore", delay=0.2)
    manager.executor.timeout = 30
    # no timeout at 30 s: the sleeper returns
    assert (await manager.invoke_hook_for_plugin(name, HOOK, payload(), GlobalContext(request_id="r"))).metadata
    manager.executor.timeout = 0.02
    with pytest.raises(PluginTimeoutError, match=r"exceeded 0\.02s timeout"):
        await manager.invoke_hook_for_plugin(name, HOOK, payload(), GlobalContext(request_id="r"))
    await manager.shutdown()


@pytest.mark.parametrize("cls, mode, on_error, vexc, expect", [
    ("Block", "sequential", "fail", False, "blocked result"),
    ("Block", "sequential", "fail", True, PluginViolationError),
    ("Block", "transform", "fail", True, "suppressed"),
    ("SetArg", "sequential", "fail", False, "modified"),
    ("Boom", "sequential", "fail", False, PluginError),
    ("Boom", "sequential", "ignore", False, "empty"),
    ("RaisesViolation", "sequential", "fail", False, PluginViolationError),
])
async def test_other_outcomes_take_one_crossing_and_match_the_general_protocol(
    request: pytest.FixtureRequest, crossings: Counter[str], cls: str, mode: str, on_error: str, vexc: bool, expect: Any
) -> None:
    name = f"{request.node.name}p"
    manager = await manager_of(request.node.name, cls, metrics=False, mode=mode, on_error=on_error)
    hook_ref = manager._registry.get_plugin_hook_by_name(name, HOOK)

    async def fast() -> Any:
        return await manager.invoke_hook_for_plugin(name, HOOK, payload(), GlobalContext(request_id="r"),
                                                    violations_as_exceptions=vexc)

    async def general() -> Any:
        # an accumulator makes the executor take the general protocol (RunSingle + RunReport)
        ctx = PluginContext(global_context=GlobalContext(request_id="r"))
        return await manager.executor.execute_plugin(hook_ref, payload(), ctx, vexc, combined_metadata={})

    if isinstance(expect, type):
        with pytest.raises(expect) as fast_err:
            await fast()
        with pytest.raises(expect) as general_err:
            await general()
        assert str(fast_err.value) == str(general_err.value)
    else:
        got, want = await fast(), await general()
        assert got.continue_processing == want.continue_processing
        assert got.modified_payload == want.modified_payload
        assert got.violation == want.violation
        assert got.denial_metadata == want.denial_metadata
        if expect == "empty":
            assert got.model_fields_set == set()
    assert crossings["run_single_report"] == 1
    assert crossings["run_single"] == crossings["run_report"] == 1  # the general call only
    await manager.shutdown()


async def test_a_hook_that_hangs_still_times_out(request: pytest.FixtureRequest) -> None:
    name = f"{request.node.name}p"
    manager = await manager_of(request.node.name, "Sleeper", metrics=False, delay=30)
    manager.executor.timeout = 0.02
    with pytest.raises(PluginError, match="exceeded"):
        await manager.invoke_hook_for_plugin(name, HOOK, payload(), GlobalContext(request_id="r"))
    await manager.shutdown()


class RichContext(GlobalContext):
    note: str = "caller-only"


@pytest.mark.parametrize("gc_type", [GlobalContext, RichContext])
def test_the_unvalidated_plugin_context_is_the_validated_one(gc_type: type[GlobalContext]) -> None:
    gc = gc_type(request_id="r", user={"email": "a@b.c"})
    built, validated = _plugin_context(gc), PluginContext(global_context=gc)
    assert built == validated
    assert built.global_context is gc and validated.global_context is gc
    assert built.model_fields_set == validated.model_fields_set
    assert built.__dict__ == validated.__dict__
    built.state["x"] = 1
    assert _plugin_context(gc).state == {}, "fresh containers per context"
