"""Per-plugin Prometheus metrics (cpex.framework.metrics): after a mixed chain of known
outcomes, a registry shows each plugin's count by outcome and its latency buckets, the
hook's duration and chain length; registering twice is harmless."""

from __future__ import annotations

import asyncio
import logging
import sys
from typing import Any

import pytest
from prometheus_client import REGISTRY, CollectorRegistry, generate_latest

from cpex.framework import GlobalContext, TenantPluginManager, ToolPreInvokePayload
from cpex.framework import metrics as cpex_metrics
from cpex.framework.models import Config, PluginConfig

OUTCOMES = ("allowed", "blocked", "modified", "error", "timeout", "skipped_condition", "disabled")


def chain(prefix: str) -> Config:
    """One plugin per outcome, in priority order (the block halts before ``after``)."""

    def p(name: str, cls: str, prio: int, **fields: Any) -> PluginConfig:
        return PluginConfig(name=f"{prefix}{name}", kind=f"fixture_plugins.{cls}", hooks=["tool_pre_invoke"],
                            priority=prio, **fields)

    return Config(plugins=[
        p("allow", "Passthrough", 1),
        p("modify", "SetArg", 2),
        p("fail", "Boom", 3, on_error="ignore"),
        p("slow", "Sleeper", 4, on_error="ignore", config={"delay": 5}),
        p("cond", "Passthrough", 5, conditions=[{"tools": ["other"]}]),
        p("off", "Passthrough", 6),
        PluginConfig(name=f"{prefix}go", kind="builtin/noop", hooks=["tool_pre_invoke"], priority=7),
        p("block", "Block", 8),
        p("after", "Passthrough", 9),
    ])


EXPECTED = {"allow": "allowed", "modify": "modified", "fail": "error", "slow": "timeout",
            "cond": "skipped_condition", "off": "disabled", "go": "allowed", "block": "blocked", "after": None}


async def run_chain(prefix: str, **manager_kw: Any) -> TenantPluginManager:
    manager = TenantPluginManager(chain(prefix), **manager_kw)
    await manager.initialize()
    manager.executor.timeout = 0.05  # the Sleeper times out
    manager.executor._runtime_disabled.add(f"{prefix}off")
    payload = ToolPreInvokePayload(name="search", args={"q": "x"})
    result, _ = await manager.invoke_hook("tool_pre_invoke", payload, GlobalContext(request_id="r1"))
    assert result.continue_processing is False
    return manager


def value(registry: Any, name: str, **labels: str) -> float:
    v = registry.get_sample_value(name, labels)
    assert v is not None, (name, labels)
    return float(v)


async def test_mixed_chain_series(request: pytest.FixtureRequest) -> None:
    prefix = f"{request.node.name}-"
    manager = await run_chain(prefix, metrics=True)
    registry = CollectorRegistry()
    assert cpex_metrics.register(registry)
    for short, outcome in EXPECTED.items():
        for o in OUTCOMES:
            want = 1.0 if o == outcome else 0.0
            got = value(registry, "cpex_plugin_calls_total", plugin=prefix + short, hook="tool_pre_invoke", outcome=o)
            assert got == want, (short, o)
        ran = 1.0 if outcome not in (None, "skipped_condition", "disabled") else 0.0
        count = value(registry, "cpex_plugin_duration_seconds_count", plugin=prefix + short, hook="tool_pre_invoke")
        assert count == ran, short
    # the timed-out call lasted at least the 50 ms timeout: nothing under 25 ms
    slow = {"plugin": prefix + "slow", "hook": "tool_pre_invoke"}
    assert value(registry, "cpex_plugin_duration_seconds_bucket", **slow, le="0.025") == 0.0
    assert value(registry, "cpex_plugin_duration_seconds_bucket", **slow, le="+Inf") == 1.0
    assert value(registry, "cpex_plugin_duration_seconds_sum", **slow) >= 0.05
    # the hook: its call counted with the others' (process-wide series); this chain
    # executed 6 plugins (allow, modify, fail, slow, go, block)
    assert value(registry, "cpex_hook_duration_seconds_count", hook="tool_pre_invoke") >= 1.0
    assert value(registry, "cpex_hook_chain_length_count", hook="tool_pre_invoke") >= 1.0
    await manager.shutdown()
    cpex_metrics.unregister(registry)


async def test_chain_length_buckets(request: pytest.FixtureRequest) -> None:
    # a hook of its own so the process-wide hook series hold this test's calls only
    from cpex.framework.hooks.registry import get_hook_registry

    hook = "metrics_test_hook"
    registry_hooks = get_hook_registry()
    if not registry_hooks.is_registered(hook):
        registry_hooks.register_hook(hook, ToolPreInvokePayload, type(None))  # type: ignore[arg-type]
    manager = TenantPluginManager(Config(plugins=[
        PluginConfig(name=f"{request.node.name}-{i}", kind="builtin/noop", hooks=[hook], priority=i) for i in range(4)
    ]), metrics=True)
    await manager.initialize()
    for _ in range(3):
        await manager.invoke_hook(hook, ToolPreInvokePayload(name="t", args={}), GlobalContext(request_id="r"))
    registry = CollectorRegistry()
    assert cpex_metrics.register(registry)
    assert value(registry, "cpex_hook_duration_seconds_count", hook=hook) == 3.0
    assert value(registry, "cpex_hook_chain_length_sum", hook=hook) == 12.0
    assert value(registry, "cpex_hook_chain_length_bucket", hook=hook, le="3.0") == 0.0
    assert value(registry, "cpex_hook_chain_length_bucket", hook=hook, le="5.0") == 3.0
    await manager.shutdown()
    cpex_metrics.unregister(registry)


async def test_setting_registers_on_the_default_registry_once(request: pytest.FixtureRequest,
                                                             monkeypatch: pytest.MonkeyPatch) -> None:
    from cpex.framework.settings import settings

    monkeypatch.setenv("PLUGINS_METRICS_ENABLED", "true")
    settings.cache_clear()
    prefix = f"{request.node.name}-"
    try:
        first = await run_chain(prefix)
        second = await run_chain(prefix)  # a second manager: no duplicate-timeseries error
        assert cpex_metrics.register()  # and a third registration is harmless too
        text = generate_latest(REGISTRY).decode()
        line = f'cpex_plugin_calls_total{{hook="tool_pre_invoke",outcome="blocked",plugin="{prefix}block"}} 2.0'
        assert line in text
        assert value(REGISTRY, "cpex_plugin_calls_total", plugin=prefix + "allow", hook="tool_pre_invoke",
                     outcome="allowed") == 2.0
        await first.shutdown()
        await second.shutdown()
    finally:
        cpex_metrics.unregister()


@pytest.mark.parametrize("how", ["setting", "option"])
async def test_metrics_off_counts_nothing(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch,
                                          how: str) -> None:
    from cpex.framework.settings import settings

    prefix = f"{request.node.name}-"
    if how == "setting":
        monkeypatch.setenv("PLUGINS_METRICS_ENABLED", "false")
        settings.cache_clear()
        manager = await run_chain(prefix)
    else:
        manager = await run_chain(prefix, metrics=False)
    assert manager.executor.metrics is False
    names = {s["plugin"] for s in cpex_metrics.snapshot()["plugins"]}
    assert not any(n.startswith(prefix) for n in names)
    await manager.shutdown()


async def test_missing_prometheus_client_warns_and_still_counts(request: pytest.FixtureRequest,
                                                                monkeypatch: pytest.MonkeyPatch,
                                                                caplog: pytest.LogCaptureFixture) -> None:
    monkeypatch.setitem(sys.modules, "prometheus_client", None)  # import fails
    monkeypatch.setattr(cpex_metrics, "_warned", False)
    prefix = f"{request.node.name}-"
    with caplog.at_level(logging.WARNING, logger="cpex.framework.metrics"):
        manager = await run_chain(prefix, metrics=True)
    assert "prometheus_client is not installed" in caplog.text
    assert "cpex[metrics]" in caplog.text
    series = {s["plugin"]: s for s in cpex_metrics.snapshot()["plugins"]}
    assert series[prefix + "block"]["calls"][OUTCOMES.index("blocked")] == 1
    await manager.shutdown()


async def test_on_by_default(request: pytest.FixtureRequest) -> None:
    prefix = f"{request.node.name}-"
    manager = await run_chain(prefix)  # PLUGINS_METRICS_ENABLED unset
    assert manager.executor.metrics is True
    assert value(REGISTRY, "cpex_plugin_calls_total", plugin=prefix + "modify", hook="tool_pre_invoke",
                 outcome="modified") == 1.0
    await manager.shutdown()


async def test_missing_prometheus_client_is_quiet_by_default(request: pytest.FixtureRequest,
                                                             monkeypatch: pytest.MonkeyPatch,
                                                             caplog: pytest.LogCaptureFixture) -> None:
    monkeypatch.setitem(sys.modules, "prometheus_client", None)
    monkeypatch.setattr(cpex_metrics, "_warned", False)
    with caplog.at_level(logging.WARNING, logger="cpex.framework.metrics"):
        manager = await run_chain(f"{request.node.name}-")
    assert [r for r in caplog.records if r.name == "cpex.framework.metrics"] == []
    assert manager.executor.metrics is True
    await manager.shutdown()


def test_bad_setting_names_the_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    from pydantic import ValidationError

    from cpex.framework.settings import settings

    monkeypatch.setenv("PLUGINS_METRICS_ENABLED", "sometimes")
    settings.cache_clear()
    with pytest.raises(ValidationError, match="metrics_enabled"):
        TenantPluginManager(Config(plugins=[]))


async def test_gateway_style_metrics_endpoint(request: pytest.FixtureRequest) -> None:
    """A host that serves prometheus_client's default registry on /metrics (as the gateway
    does), unchanged: the series of a mixed chain are there after it runs."""
    from fastapi import FastAPI, Response
    from fastapi.testclient import TestClient
    from prometheus_client import CONTENT_TYPE_LATEST

    app = FastAPI()

    @app.get("/metrics")
    def metrics_endpoint() -> Response:
        return Response(generate_latest(REGISTRY), media_type=CONTENT_TYPE_LATEST)

    prefix = f"{request.node.name}-"
    manager = await run_chain(prefix)  # default settings: metrics on
    try:
        body = TestClient(app).get("/metrics").text
        for short, outcome in EXPECTED.items():
            if outcome is not None:
                line = f'cpex_plugin_calls_total{{hook="tool_pre_invoke",outcome="{outcome}",plugin="{prefix}{short}"}} 1.0'
                assert line in body, line
        assert f'cpex_plugin_duration_seconds_count{{hook="tool_pre_invoke",plugin="{prefix}slow"}} 1.0' in body
        assert 'cpex_hook_chain_length_bucket{hook="tool_pre_invoke",le="+Inf"}' in body
    finally:
        await manager.shutdown()
        cpex_metrics.unregister()


async def test_fire_and_forget_tasks_are_counted_when_they_end(request: pytest.FixtureRequest) -> None:
    prefix = f"{request.node.name}-"

    def faf(name: str, kind: str, **fields: Any) -> PluginConfig:
        return PluginConfig(name=prefix + name, kind=kind, hooks=["tool_pre_invoke"], mode="fire_and_forget",
                            **fields)

    manager = TenantPluginManager(Config(plugins=[
        faf("py", "fixture_plugins.Passthrough"),
        faf("fail", "fixture_plugins.Boom", on_error="ignore"),
        faf("go", "builtin/noop"),
    ]), metrics=True)
    await manager.initialize()
    result, _ = await manager.invoke_hook("tool_pre_invoke", ToolPreInvokePayload(name="t", args={}),
                                          GlobalContext(request_id="r"))
    assert result.continue_processing
    errors = await asyncio.gather(*result.background_tasks)
    assert [e is None for e in errors] == [True, False, True]
    await manager.shutdown()
    registry = CollectorRegistry()
    assert cpex_metrics.register(registry)
    for short, outcome in {"py": "allowed", "fail": "error", "go": "allowed"}.items():
        labels = {"plugin": prefix + short, "hook": "tool_pre_invoke"}
        for o in OUTCOMES:
            assert value(registry, "cpex_plugin_calls_total", **labels, outcome=o) == (1.0 if o == outcome else 0.0), \
                (short, o)
        assert value(registry, "cpex_plugin_duration_seconds_count", **labels) == 1.0, short
    cpex_metrics.unregister(registry)
