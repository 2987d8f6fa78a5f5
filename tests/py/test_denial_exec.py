"""Denial outcomes as the executor produces them (the 0.1.4 sdist's DenialOutcome contract):
an error the executor raises for a blocking result carries the blocker's own record and its
sanitized metrics; an error a plugin raised itself carries none; direct calls keep a
blocking result's denial metadata."""

from __future__ import annotations

from typing import Any

import pytest

from cpex.framework import (
    DenialOutcome,
    GlobalContext,
    PluginViolationError,
    TenantPluginManager,
    ToolPreInvokePayload,
)
from cpex.framework.errors import sanitize_denial_metadata
from cpex.framework.models import Config, PluginConfig, PluginMode

METRICS = {"tokens.used": 1200, "ratio": 0.5, "over": True, "user": "alice@example.com", "bad key!": 1}


def plugin(name: str, cls: str = "DenyWithMetrics", **fields: Any) -> PluginConfig:
    return PluginConfig(name=name, kind=f"fixture_plugins.{cls}", hooks=["tool_pre_invoke"], **fields)


async def manager_of(*plugins: PluginConfig) -> TenantPluginManager:
    manager = TenantPluginManager(Config(plugins=list(plugins)))
    await manager.initialize()
    return manager


def payload() -> ToolPreInvokePayload:
    return ToolPreInvokePayload(name="search", args={"q": "x"})


@pytest.mark.parametrize("mode", ["sequential", "concurrent"])
@pytest.mark.parametrize("code", ["BUDGET", None])
async def test_an_executor_raised_violation_carries_the_blockers_outcome(mode: str, code: Any) -> None:
    manager = await manager_of(
        plugin("first", "Passthrough", mode=mode, priority=10),
        plugin("meter", mode=mode, priority=20, config={"metrics": METRICS, "code": code}),
    )
    with pytest.raises(PluginViolationError) as info:
        await manager.invoke_hook("tool_pre_invoke", payload(), GlobalContext(request_id="r1"),
                                  violations_as_exceptions=True)
    outcome = info.value.denial_outcome
    assert isinstance(outcome, DenialOutcome)
    assert outcome.execution.plugin_id == manager._registry.get_plugin("meter").uuid
    assert outcome.execution.plugin_name == "meter"
    assert outcome.execution.hook_name == "tool_pre_invoke"
    assert outcome.execution.mode == PluginMode(mode)
    assert outcome.execution.effective_allow is False
    assert outcome.violation_code == code
    # only labelled numeric/bool entries survive: the e-mail and the odd key are dropped
    assert dict(outcome.metadata) == sanitize_denial_metadata(METRICS) == {"tokens.used": 1200, "ratio": 0.5,
                                                                          "over": True}
    # the outcome's record is the blocker's entry among the error's executions
    assert [r.plugin_name for r in info.value.executions][-1] == "meter"
    assert info.value.executions[-1].plugin_id == outcome.execution.plugin_id


@pytest.mark.parametrize("metrics", [None, {}, {"a": "text only"}])
async def test_an_outcome_without_usable_metrics_has_empty_metadata(metrics: Any) -> None:
    manager = await manager_of(plugin("meter", config={"metrics": metrics, "code": "X"}))
    with pytest.raises(PluginViolationError) as info:
        await manager.invoke_hook("tool_pre_invoke", payload(), GlobalContext(request_id="r2"),
                                  violations_as_exceptions=True)
    assert info.value.denial_outcome is not None and dict(info.value.denial_outcome.metadata) == {}


async def test_a_violation_the_plugin_raised_itself_has_no_outcome() -> None:
    manager = await manager_of(plugin("raiser", "RaisesViolation"))
    with pytest.raises(PluginViolationError, match="raised by plugin") as info:
        await manager.invoke_hook("tool_pre_invoke", payload(), GlobalContext(request_id="r3"),
                                  violations_as_exceptions=True)
    assert info.value.denial_outcome is None
    assert [r.plugin_name for r in info.value.executions] == ["raiser"]


async def test_the_chain_result_has_a_denial_metadata_field_set_to_none() -> None:
    manager = await manager_of(plugin("meter", config={"metrics": METRICS}))
    result, _ = await manager.invoke_hook("tool_pre_invoke", payload(), GlobalContext(request_id="r4"))
    assert result.continue_processing is False
    assert result.denial_metadata is None and result.model_dump()["denial_metadata"] is None


async def test_a_direct_call_keeps_the_blocking_results_denial_metadata() -> None:
    manager = await manager_of(plugin("meter", config={"metrics": METRICS, "code": "B"}),
                               plugin("lenient", config={"metrics": {"n": 1}, "allow": True}))
    blocked = await manager.invoke_hook_for_plugin("meter", "tool_pre_invoke", payload(),
                                                   GlobalContext(request_id="r5"))
    assert blocked.continue_processing is False and blocked.denial_metadata == METRICS
    allowed = await manager.invoke_hook_for_plugin("lenient", "tool_pre_invoke", payload(),
                                                   GlobalContext(request_id="r6"))
    # an allowing result is the plugin's own object, denial metadata included
    assert allowed.continue_processing is True and allowed.denial_metadata == {"n": 1}
