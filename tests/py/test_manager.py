"""PluginManager (Borg), TenantPluginManager, lifecycle and the gateway's private surface (spec §10)."""

from __future__ import annotations

import os
from typing import Any

import pytest

import fixture_plugins as fp
from cpex.framework import (
    GlobalContext,
    PluginError,
    PluginManager,
    TenantPluginManager,
    ToolPostInvokePayload,
    ToolPreInvokePayload,
    get_plugin_manager,
)
from cpex.framework.loader.config import ConfigLoader
from cpex.framework.manager import PluginTimeoutError

CONFIGS = os.path.join(os.path.dirname(__file__), "configs")
MIXED = os.path.join(CONFIGS, "mixed.yaml")


async def test_borg_shares_state_and_ignores_later_config() -> None:
    a = PluginManager(MIXED)
    b = PluginManager(os.path.join(CONFIGS, "broken_plugin.yaml"))
    assert a.__dict__ is b.__dict__
    assert b.config is a.config and b.config.plugins[0].name == "gate"


async def test_reset_forgets_everything() -> None:
    PluginManager(MIXED)
    PluginManager.reset()
    assert PluginManager().config is None


async def test_initialize_skips_disabled_and_runs_the_chain() -> None:
    manager = PluginManager(MIXED)
    await manager.initialize()
    assert manager.initialized and manager.plugin_count == 3
    assert manager.get_plugin("switched_off") is None and manager.get_plugin("gate") is not None
    assert manager.has_hooks_for("tool_pre_invoke") and not manager.has_hooks_for("prompt_pre_fetch")
    gc = GlobalContext(request_id="r1")
    result, table = await manager.invoke_hook("tool_pre_invoke", ToolPreInvokePayload(name="t", args={}), gc)
    assert result.modified_payload.args == {"gate": "on", "trimmed": True}
    assert [r.plugin_name for r in result.executions] == ["post", "gate", "trimmed"]
    assert [str(r.mode) for r in result.executions] == ["sequential", "sequential", "transform"]
    result2, _ = await manager.invoke_hook("tool_post_invoke", ToolPostInvokePayload(name="t", result={}), gc,
                                           local_contexts=table)
    assert result2.metadata == {"post": {"private_at_post": "post-pre"}}
    await manager.shutdown()
    assert not manager.initialized and manager.plugin_count == 0


async def test_a_plugin_that_fails_to_load_is_skipped_by_default() -> None:
    manager = TenantPluginManager(os.path.join(CONFIGS, "broken_plugin.yaml"))
    await manager.initialize()
    assert manager.plugin_count == 1 and manager.initialized


async def test_fail_on_plugin_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PLUGINS_FAIL_ON_PLUGIN_ERROR", "true")
    from cpex.framework.settings import settings

    settings.cache_clear()
    manager = TenantPluginManager(os.path.join(CONFIGS, "broken_plugin.yaml"))
    with pytest.raises(RuntimeError, match="^Plugin initialization failed: missing - "):
        await manager.initialize()
    assert not manager.initialized


async def test_tenant_managers_are_independent() -> None:
    config = ConfigLoader.load_config(MIXED)
    t1 = TenantPluginManager(config)
    t2 = TenantPluginManager(MIXED)
    assert t1._config is config and t1._config_path is None and t2._config_path == MIXED
    await t1.initialize()
    assert t1.plugin_count == 3 and t2.plugin_count == 0
    assert [r.name for r in t1._registry.get_all_plugins()] == ["gate", "trimmed", "post"]
    assert t1._registry.get_plugin("gate").mode == "sequential"
    await t1.shutdown()


async def test_tenant_manager_with_hook_policies_and_timeout() -> None:
    from cpex.framework import HookPayloadPolicy

    policies = {"tool_pre_invoke": HookPayloadPolicy(writable_fields=frozenset({"name"}))}
    manager = TenantPluginManager(MIXED, timeout=7, hook_policies=policies)
    assert manager.executor.timeout == 7 and manager.executor.hook_policies is policies
    await manager.initialize()
    result, _ = await manager.invoke_hook("tool_pre_invoke", ToolPreInvokePayload(name="t", args={}),
                                          GlobalContext(request_id="r"))
    assert result.modified_payload is None  # args is not writable


async def test_invoke_hook_for_plugin() -> None:
    manager = TenantPluginManager(MIXED)
    await manager.initialize()
    result = await manager.invoke_hook_for_plugin("gate", "tool_pre_invoke", {"name": "t", "args": {}},
                                                  GlobalContext(request_id="r"), payload_as_json=True)
    assert result.modified_payload.args == {"gate": "on"}
    with pytest.raises(PluginError, match="Unable to find tool_pre_invoke for plugin nope.  Make sure"):
        await manager.invoke_hook_for_plugin("nope", "tool_pre_invoke", ToolPreInvokePayload(name="t"),
                                             GlobalContext(request_id="r"))
    with pytest.raises(ValueError):
        await manager.invoke_hook_for_plugin("gate", "tool_pre_invoke", {"name": "t"}, GlobalContext(request_id="r"))


async def test_invoke_hook_for_plugin_timeout_surfaces(monkeypatch: pytest.MonkeyPatch, make_ref: Any) -> None:
    manager = TenantPluginManager(MIXED, timeout=0.05)  # type: ignore[arg-type]
    await manager.initialize()
    ref = make_ref(fp.Sleeper, name="sleepy", on_error="ignore", config={"delay": 5})
    monkeypatch.setattr(manager._registry, "get_plugin_hook_by_name", lambda name, hook: ref)
    with pytest.raises(PluginTimeoutError):
        await manager.invoke_hook_for_plugin("sleepy", "tool_pre_invoke", ToolPreInvokePayload(name="t"),
                                             GlobalContext(request_id="r"))


async def test_injected_hook_refs_are_used(monkeypatch: pytest.MonkeyPatch, make_ref: Any) -> None:
    manager = PluginManager()
    ref = make_ref(fp.SetArg, name="injected", config={"key": "i", "value": 1})
    monkeypatch.setattr(manager._registry, "get_hook_refs_for_hook", lambda hook_type: [ref])
    result, _ = await manager.invoke_hook("tool_pre_invoke", ToolPreInvokePayload(name="t", args={}),
                                          GlobalContext(request_id="r"))
    assert result.modified_payload.args == {"i": 1}


def test_get_plugin_manager_follows_plugins_enabled(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PLUGINS_ENABLED", "false")
    assert get_plugin_manager() is None
    monkeypatch.setenv("PLUGINS_ENABLED", "true")
    monkeypatch.setenv("PLUGINS_CONFIG_FILE", MIXED)
    from cpex.framework.settings import settings

    settings.cache_clear()
    manager = get_plugin_manager()
    assert isinstance(manager, PluginManager) and manager is get_plugin_manager()
    assert manager.config.plugins[0].name == "gate"


async def test_uninitialised_manager_has_no_hooks() -> None:
    result, table = await PluginManager().invoke_hook("tool_pre_invoke", ToolPreInvokePayload(name="t"),
                                                      GlobalContext(request_id="r"))
    assert table is None and result.continue_processing


async def test_runtime_disabled_survives_shutdown_and_initialize(make_ref: Any) -> None:
    manager = TenantPluginManager(MIXED)
    await manager.initialize()
    manager.executor._runtime_disabled.add("gate")
    await manager.shutdown()
    await manager.initialize()
    result, _ = await manager.invoke_hook("tool_pre_invoke", ToolPreInvokePayload(name="t", args={}),
                                          GlobalContext(request_id="r"))
    assert "gate" not in [r.plugin_name for r in result.executions]
    await manager.executor.reset_runtime_disabled()
    assert manager.executor._runtime_disabled == set()


async def test_borg_backfills_only_what_is_unset(caplog: pytest.LogCaptureFixture) -> None:
    from cpex.framework import HookPayloadPolicy

    first = PluginManager(MIXED)
    assert first.executor.timeout == 30 and first.executor.hook_policies == {} and first.observability is None
    policies = {"tool_pre_invoke": HookPayloadPolicy(writable_fields=frozenset({"args"}))}
    provider = object()
    PluginManager("ignored.yaml", timeout=12, hook_policies=policies, observability=provider)  # type: ignore[arg-type]
    assert first.executor.timeout == 12 and first.executor.hook_policies is policies
    assert first.observability is provider
    other = {"tool_pre_invoke": HookPayloadPolicy(writable_fields=frozenset({"name"}))}
    with caplog.at_level("WARNING", logger="cpex.framework.manager"):
        PluginManager(hook_policies=other, observability=object(), default_hook_policy="deny")  # type: ignore[arg-type]
    assert first.executor.hook_policies is policies and first.observability is provider
    assert first.executor.default_hook_policy == "deny"
    assert "hook" in caplog.text.lower()
    PluginManager(timeout=99)  # no policies/observability given: nothing changes, not even the timeout
    assert first.executor.timeout == 12


async def test_observability_property_sets_the_executor_provider() -> None:
    manager = TenantPluginManager(MIXED)
    provider = object()
    manager.observability = provider  # type: ignore[assignment]
    assert manager.observability is provider and manager.executor.observability is provider


async def test_executor_property_is_created_lazily_and_settable() -> None:
    from cpex.framework.manager import PluginExecutor

    manager = PluginManager()
    assert isinstance(manager.executor, PluginExecutor)
    replacement = PluginExecutor(timeout=3)
    manager.executor = replacement
    assert PluginManager().executor is replacement


async def test_custom_hook_type_through_a_loaded_manager() -> None:
    from cpex.framework import PluginPayload, PluginResult
    from cpex.framework.hooks.registry import get_hook_registry
    from cpex.framework.models import Config, PluginConfig

    class EchoPayload(PluginPayload):
        text: str

    config = Config(plugins=[PluginConfig(name="custom", kind="fixture_plugins.CustomHook", hooks=["my_custom_hook"])])
    manager = TenantPluginManager(config)
    await manager.initialize()
    assert manager.has_hooks_for("my_custom_hook")
    result, _ = await manager.invoke_hook("my_custom_hook", EchoPayload(text="hi"), GlobalContext(request_id="r"))
    assert result.modified_payload == EchoPayload(text="hi") and result.metadata == {"custom": True}
    # JSON conversion needs the registry; in-process dispatch did not
    get_hook_registry().register_hook("my_custom_hook", EchoPayload, PluginResult[EchoPayload])
    direct = await manager.invoke_hook_for_plugin("custom", "my_custom_hook", '{"text": "json"}',
                                                  GlobalContext(request_id="r"), payload_as_json=True)
    assert direct.modified_payload == EchoPayload(text="json")


async def test_plugin_lifecycle_through_the_manager() -> None:
    from cpex.framework.models import Config, PluginConfig

    config = Config(plugins=[PluginConfig(name=f"life{i}", kind="fixture_plugins.Lifecycle", hooks=[])
                             for i in range(3)])
    fp.Lifecycle.events.clear()
    manager = TenantPluginManager(config)
    await manager.initialize()
    await manager.initialize()  # idempotent
    assert fp.Lifecycle.events == ["init:life0", "init:life1", "init:life2"]
    await manager.shutdown()
    await manager.shutdown()  # no-op once shut down
    assert fp.Lifecycle.events[3:] == ["shutdown:life2", "shutdown:life1", "shutdown:life0"]
    await manager.initialize()  # re-instantiates from the in-memory config, with new uuids
    assert fp.Lifecycle.events[6:] == ["init:life0", "init:life1", "init:life2"]


async def test_config_edits_take_effect_on_reinitialize() -> None:
    manager = TenantPluginManager(MIXED)
    await manager.initialize()
    config = manager.config
    config.plugins = [p.model_copy(update={"mode": "disabled"}) if p.name == "gate" else p for p in config.plugins]
    await manager.shutdown()
    await manager.initialize()
    assert manager.get_plugin("gate") is None and manager.plugin_count == 2


async def test_private_executor_accessor_is_the_seam_invoke_hook_uses(monkeypatch: pytest.MonkeyPatch) -> None:
    from cpex.framework.manager import PluginExecutor

    manager = PluginManager()
    assert manager._get_executor() is manager.executor
    seen: list[str] = []

    class Spy(PluginExecutor):
        async def execute(self, hook_refs: Any, payload: Any, global_context: Any, hook_type: str,
                          local_contexts: Any = None, violations_as_exceptions: bool = False,
                          extensions: Any = None) -> Any:
            seen.append(hook_type)
            return await super().execute(hook_refs, payload, global_context, hook_type, local_contexts,
                                         violations_as_exceptions, extensions)

    spy = Spy()
    monkeypatch.setattr(manager, "_get_executor", lambda: spy)
    await manager.invoke_hook("tool_pre_invoke", ToolPreInvokePayload(name="t"), GlobalContext(request_id="r"))
    assert seen == ["tool_pre_invoke"]


async def test_a_shut_down_plugin_stays_reachable_by_name() -> None:
    manager = TenantPluginManager(MIXED)
    await manager.initialize()
    await manager.shutdown()
    assert manager.get_plugin("gate") is None and not manager.has_hooks_for("tool_pre_invoke")
    result = await manager.invoke_hook_for_plugin("gate", "tool_pre_invoke", ToolPreInvokePayload(name="t", args={}),
                                                  GlobalContext(request_id="r"))
    assert result.modified_payload.args == {"gate": "on"}


async def test_a_hook_nobody_registered_for_answers_a_fresh_default_result(monkeypatch: pytest.MonkeyPatch) -> None:
    from cpex.framework.models import PluginResult

    manager = TenantPluginManager(MIXED)
    await manager.initialize()
    payload, gctx = ToolPreInvokePayload(name="t"), GlobalContext(request_id="r")
    first, table = await manager.invoke_hook("prompt_pre_fetch", payload, gctx)
    second, _ = await manager.invoke_hook("prompt_pre_fetch", payload, gctx)
    expected = PluginResult(modified_payload=None)
    assert table is None and type(first) is PluginResult
    assert first.model_dump() == expected.model_dump() and first.model_fields_set == expected.model_fields_set
    assert first == expected and repr(first) == repr(expected)
    # every result owns its containers: a caller's write never reaches the next call's result
    first.metadata["k"] = 1
    first.executions.append("x")  # type: ignore[arg-type]
    first.background_tasks.append("y")  # type: ignore[arg-type]
    assert second.metadata == {} and second.executions == [] and second.background_tasks == []
    # an executor whose execute was patched is still asked, even with no plugins
    seen: list[Any] = []

    async def spy(hook_refs: Any, *args: Any) -> Any:
        seen.append(hook_refs)
        return expected, None

    monkeypatch.setattr(manager.executor, "execute", spy)
    assert (await manager.invoke_hook("prompt_pre_fetch", payload, gctx))[0] is expected
    assert seen == [[]]
