"""The ContextForge gateway's checklist (gateway-contract.md §8), exercised the way the gateway does it:
per-tenant managers built from a Config object, policies, the private registry surface, a
request threaded through the HTTP hooks into the tool hooks with one context table."""

from __future__ import annotations

import importlib
import logging
import os
from enum import Enum, StrEnum
from typing import Any
from unittest.mock import patch

import pytest

import fixture_plugins as fp
from cpex.framework import (
    GlobalContext,
    HookPayloadPolicy,
    HttpAuthCheckPermissionPayload,
    HttpAuthCheckPermissionResultPayload,
    HttpAuthResolveUserPayload,
    HttpHeaderPayload,
    HttpHookType,
    HttpPreRequestPayload,
    OnError,
    PluginError,
    PluginMode,
    PluginViolationError,
    TenantPluginManager,
    ToolHookType,
    ToolPostInvokePayload,
    ToolPreInvokePayload,
)
from cpex.framework.extensions import Extensions, RequestExtension
from cpex.framework.models import Config, ControlExecutionStatus, PluginConfig

# The gateway's writable-field map (mcpgateway/plugins/policy.py), as documented.
POLICIES = {
    "tool_pre_invoke": HookPayloadPolicy(writable_fields=frozenset({"name", "args", "headers"})),
    "tool_post_invoke": HookPayloadPolicy(writable_fields=frozenset({"result"})),
    "prompt_pre_fetch": HookPayloadPolicy(writable_fields=frozenset({"args"})),
    "prompt_post_fetch": HookPayloadPolicy(writable_fields=frozenset({"result"})),
    "resource_pre_fetch": HookPayloadPolicy(writable_fields=frozenset({"uri", "metadata"})),
    "resource_post_fetch": HookPayloadPolicy(writable_fields=frozenset({"content"})),
    "http_pre_request": HookPayloadPolicy(writable_fields=frozenset({"headers"})),
    "http_post_request": HookPayloadPolicy(writable_fields=frozenset({"headers"})),
    "http_auth_resolve_user": HookPayloadPolicy(writable_fields=frozenset()),
    "http_auth_check_permission": HookPayloadPolicy(writable_fields=frozenset({"reason"})),
}


def entry(name: str, cls: str, hooks: list[str], **fields: Any) -> PluginConfig:
    return PluginConfig(name=name, kind=f"fixture_plugins.{cls}", hooks=hooks, **fields)


def base_config() -> Config:
    return Config(plugins=[
        entry("HeaderStamp", "HeaderStamp", ["http_pre_request"], priority=10),
        entry("ResolveUser", "ResolveUser", ["http_auth_resolve_user"], priority=10),
        entry("GrantAll", "GrantAll", ["http_auth_check_permission"], priority=10),
        entry("RateLimit", "RateLimit", ["tool_pre_invoke"], priority=20, config={"limit": 1}),
        entry("ArgSetter", "SetArg", ["tool_pre_invoke"], priority=30, config={"key": "tenant", "value": "t-1"}),
        entry("PostRetry", "PostRetry", ["tool_post_invoke"], priority=10),
        entry("Dormant", "Passthrough", ["tool_pre_invoke"], mode="disabled"),
    ])


@pytest.fixture(autouse=True)
def _reset_rate_limit() -> None:
    fp.RateLimit.seen = 0


async def tenant(config: Config | None = None, **kw: Any) -> TenantPluginManager:
    manager = TenantPluginManager(config=config or base_config(), timeout=30, observability=None,
                                  hook_policies=POLICIES, **kw)
    await manager.initialize()
    return manager


# -- 1. import surface ------------------------------------------------------------------------


def test_import_surface() -> None:
    import cpex.framework as fw

    for name in ("TenantPluginManager", "OnError", "ControlExecutionRecord", "ControlExecutionStatus",
                 "UserContext", "HookPayloadPolicy", "MCPClientConfig", "TransportType", "PluginManager",
                 "GlobalContext", "PluginContextTable", "ConfigLoader", "ObservabilityProvider"):
        assert hasattr(fw, name), name
    for module, names in {
        "cpex.framework.base": ["HookRef", "PluginRef", "Plugin"],
        "cpex.framework.manager": ["PluginManager", "PluginExecutor", "TenantPluginManager", "PluginTimeoutError",
                                   "PayloadSizeError", "DEFAULT_PLUGIN_TIMEOUT", "MAX_PAYLOAD_SIZE", "ConfigLoader"],
        "cpex.framework.registry": ["PluginInstanceRegistry", "PluginRef"],
        "cpex.framework.models": ["Config", "PluginMode", "PluginViolation", "PluginErrorModel", "PluginResult"],
        "cpex.framework.utils": ["payload_matches", "parse_class_name", "get_attr"],
        "cpex.framework.settings": ["settings", "PluginsSettings"],
        "cpex.framework.observability": ["current_trace_id"],
        "cpex.framework.constants": ["TOOL_METADATA", "GATEWAY_METADATA"],
        "cpex.framework.extensions": ["Extensions", "RequestExtension"],
        "cpex.framework.hooks.policies": ["HookPayloadPolicy"],
        "cpex.framework.loader.plugin": ["PluginLoader"],
    }.items():
        mod = importlib.import_module(module)
        for name in names:
            assert hasattr(mod, name), f"{module}.{name}"
    from cpex.framework import manager
    from cpex.framework.loader.config import ConfigLoader

    assert manager.ConfigLoader is ConfigLoader
    assert manager.PluginTimeoutError.__module__ == "cpex.framework.manager"


def test_data_model_kinds() -> None:
    assert issubclass(PluginMode, StrEnum) and issubclass(OnError, StrEnum)
    assert issubclass(ControlExecutionStatus, StrEnum)
    assert issubclass(ToolHookType, str) and issubclass(ToolHookType, Enum) and not issubclass(ToolHookType, StrEnum)
    assert str(PluginMode.SEQUENTIAL) == "sequential" and str(ControlExecutionStatus.COMPLETED) == "completed"
    migrated = PluginConfig(name="x", kind="k", mode="enforce_ignore_error")
    assert (migrated.mode, migrated.on_error) == (PluginMode.SEQUENTIAL, OnError.IGNORE)


# -- 2. lifecycle and the private surface ----------------------------------------------------


async def test_tenant_manager_lifecycle_and_private_surface() -> None:
    config = base_config()
    manager = await tenant(config)
    assert manager.initialized and manager.plugin_count == 6
    assert manager._config is config
    assert [p.name for p in manager._config.plugins if p.mode == PluginMode.DISABLED] == ["Dormant"]
    refs = manager._registry.get_all_plugins()
    assert [r.name for r in refs] == ["HeaderStamp", "ResolveUser", "GrantAll", "RateLimit", "ArgSetter",
                                     "PostRetry"]
    rate = manager._registry.get_plugin("RateLimit")
    assert (rate.mode, rate.priority, rate.hooks, rate.tags) == ("sequential", 20, ["tool_pre_invoke"], [])
    assert rate.plugin.config.config == {"limit": 1} and rate._plugin is rate.plugin
    assert manager._registry.get_plugin("Dormant") is None
    pre_refs = manager._registry.get_hook_refs_for_hook(hook_type=ToolHookType.TOOL_PRE_INVOKE)
    assert [h.plugin_ref.name for h in pre_refs] == ["RateLimit", "ArgSetter"]
    assert manager.has_hooks_for(HttpHookType.HTTP_PRE_REQUEST) and not manager.has_hooks_for("agent_pre_invoke")
    await manager.shutdown()
    assert not manager.initialized and manager.plugin_count == 0


async def test_per_tenant_overrides_by_model_copy() -> None:
    base = base_config()
    overridden = base.model_copy(deep=True)
    overridden.plugins = [
        p.model_copy(update={"mode": PluginMode.DISABLED}) if p.name == "RateLimit"
        else p.model_copy(update={"config": {"key": "tenant", "value": "t-2"}}) if p.name == "ArgSetter" else p
        for p in overridden.plugins
    ]
    t1, t2 = await tenant(base), await tenant(overridden)
    gc = GlobalContext(request_id="r")
    r1, _ = await t1.invoke_hook(ToolHookType.TOOL_PRE_INVOKE, ToolPreInvokePayload(name="t", args={}), gc)
    r2, _ = await t2.invoke_hook(ToolHookType.TOOL_PRE_INVOKE, ToolPreInvokePayload(name="t", args={}), gc)
    assert r1.modified_payload.args == {"tenant": "t-1"} and r2.modified_payload.args == {"tenant": "t-2"}
    assert [e.plugin_name for e in r2.executions] == ["ArgSetter"]


def test_config_loader_is_patchable_through_the_manager_module(tmp_path: Any) -> None:
    with patch("cpex.framework.manager.ConfigLoader.load_config", return_value=base_config()) as loader:
        manager = TenantPluginManager(config=str(tmp_path / "plugins.yaml"))
    loader.assert_called_once()
    assert manager._config.plugins[0].name == "HeaderStamp"


# -- 3. a request, hook after hook --------------------------------------------------------------


@pytest.mark.filterwarnings("ignore:.*headers is deprecated:DeprecationWarning")
async def test_request_threads_one_context_table_through_every_hook() -> None:
    manager = await tenant()
    gc = GlobalContext(request_id="corr-1", server_id=None, tenant_id=None, content_type="application/json")
    ext = Extensions(request=RequestExtension(trace_id="t", span_id="s"))

    pre = HttpPreRequestPayload(path="/rpc", method="POST", headers=HttpHeaderPayload({"authorization": "Bearer x"}))
    result, table = await manager.invoke_hook(HttpHookType.HTTP_PRE_REQUEST, pre, gc, None, False, extensions=ext)
    assert isinstance(result.modified_payload, HttpHeaderPayload)
    assert result.modified_payload.root == {"authorization": "Bearer x", "x-stamp": "HeaderStamp"}
    assert gc.state == {"trace_hint": "abc"}
    stamp_key = "corr-1" + manager._registry.get_plugin("HeaderStamp").uuid
    assert list(table) == [stamp_key] and table[stamp_key].get_state("stamped") is True

    resolve = HttpAuthResolveUserPayload(credentials={"scheme": "Bearer", "credentials": "bob"},
                                         headers=HttpHeaderPayload({}))
    result, table = await manager.invoke_hook(HttpHookType.HTTP_AUTH_RESOLVE_USER, resolve, gc,
                                              local_contexts=table, violations_as_exceptions=True, extensions=ext)
    assert result.modified_payload == {"email": "bob@example.com", "is_admin": False}  # a dict, accepted whole
    assert result.metadata == {"auth_method": "plugin_token"}

    check = HttpAuthCheckPermissionPayload(user_email="bob@example.com", permission="tools.execute")
    result, table = await manager.invoke_hook(HttpHookType.HTTP_AUTH_CHECK_PERMISSION, check, gc,
                                              local_contexts=table, extensions=ext)
    assert isinstance(result.modified_payload, HttpAuthCheckPermissionResultPayload)
    assert (result.modified_payload.granted, result.modified_payload.reason) == (True, "trusted")
    assert result.metadata == {"_decision_plugin": "GrantAll"}

    gc.server_id, gc.tenant_id, gc.user = "srv", "team-1", {"email": "bob@example.com"}
    gc.metadata["tool"] = {"name": "search"}
    tool_pre = ToolPreInvokePayload(name="search", args={"q": "x"}, headers=HttpHeaderPayload({"a": "b"}))
    result, table = await manager.invoke_hook(ToolHookType.TOOL_PRE_INVOKE, tool_pre, gc, table, True, ext)
    assert result.modified_payload.args == {"q": "x", "tenant": "t-1"}
    assert result.modified_payload.headers.root == {"a": "b"}
    assert result.metadata == {"RateLimit": {"remaining": 0}, "ArgSetter": {"saw": {"q": "x"}}}
    assert [(e.plugin_name, str(e.mode), str(e.status)) for e in result.executions] == [
        ("RateLimit", "sequential", "completed"), ("ArgSetter", "sequential", "completed")]
    assert tool_pre.args == {"q": "x"}  # the gateway's object is never changed under a policy

    # a returned table holds only the contexts of the plugins that ran in that hook
    assert sorted(table) == sorted("corr-1" + manager._registry.get_plugin(n).uuid for n in ("RateLimit", "ArgSetter"))
    for ctx in table.values():
        ctx.set_state("cb_timeout_failure", True)  # what the gateway does on a tool timeout
    post = ToolPostInvokePayload(name="search", result={"content": [{"type": "text", "text": "ok"}]})
    result, post_table = await manager.invoke_hook(ToolHookType.TOOL_POST_INVOKE, post, gc, table, True, ext)
    assert result.retry_delay_ms == 250 and result.metadata == {"PostRetry": {"stamped": None}}
    assert list(post_table) == ["corr-1" + manager._registry.get_plugin("PostRetry").uuid]


async def test_positional_arguments_like_resource_service() -> None:
    config = Config(plugins=[entry("P", "Passthrough", ["tool_post_invoke"])])
    manager = await tenant(config)
    gc = GlobalContext(request_id="r")
    result, table = await manager.invoke_hook("tool_post_invoke", ToolPostInvokePayload(name="t", result="c"), gc, {})
    assert result.continue_processing and list(table) == ["r" + manager._registry.get_plugin("P").uuid]


async def test_violation_exception_carries_what_the_gateway_maps() -> None:
    manager = await tenant()
    gc = GlobalContext(request_id="r")
    await manager.invoke_hook(ToolHookType.TOOL_PRE_INVOKE, ToolPreInvokePayload(name="t"), gc, None, True)
    with pytest.raises(PluginViolationError) as info:
        await manager.invoke_hook(ToolHookType.TOOL_PRE_INVOKE, ToolPreInvokePayload(name="t"), gc, None, True)
    exc = info.value
    assert exc.message == str(exc) == ("tool_pre_invoke blocked by plugin RateLimit: RATE_LIMIT - "
                                       "Rate limit exceeded (slow down)")
    v = exc.violation
    assert (v.code, v.description, v.details, v.plugin_name) == ("RATE_LIMIT", "slow down", {"limit": 1}, "RateLimit")
    assert (v.mcp_error_code, v.http_status_code, v.http_headers) == (-32000, 429, {"Retry-After": "1"})
    assert [(e.plugin_name, e.effective_allow) for e in exc.executions] == [("RateLimit", False)]


async def test_halt_without_exceptions_drops_retry() -> None:
    manager = await tenant()
    gc = GlobalContext(request_id="r")
    await manager.invoke_hook("tool_pre_invoke", ToolPreInvokePayload(name="t"), gc)
    result, _ = await manager.invoke_hook("tool_pre_invoke", ToolPreInvokePayload(name="t"), gc)
    assert result.continue_processing is False and result.retry_delay_ms == 0
    assert result.violation.http_status_code == 429


async def test_plugin_error_fields() -> None:
    config = Config(plugins=[entry("Broken", "Boom", ["tool_pre_invoke"])])
    manager = await tenant(config)
    with pytest.raises(PluginError) as info:
        await manager.invoke_hook("tool_pre_invoke", ToolPreInvokePayload(name="t"), GlobalContext(request_id="r"))
    err = info.value.error
    assert (err.message, err.plugin_name, err.code, err.details, err.mcp_error_code) == (
        "ValueError('boom')", "Broken", "", {}, -32603)


async def test_transform_violation_is_logged_on_the_manager_logger(caplog: pytest.LogCaptureFixture) -> None:
    config = Config(plugins=[entry("Limiter", "RateLimit", ["tool_pre_invoke"], mode="permissive",
                                   config={"limit": 0})])
    manager = await tenant(config)
    with caplog.at_level("WARNING", logger="cpex.framework.manager"):
        result, _ = await manager.invoke_hook("tool_pre_invoke", ToolPreInvokePayload(name="t"),
                                              GlobalContext(request_id="r"))
    assert result.continue_processing and result.violation is None
    hits = [r for r in caplog.records if r.name == "cpex.framework.manager" and "raised violation" in r.getMessage()]
    assert len(hits) == 1 and hits[0].levelno == logging.WARNING


async def test_rust_direct_plan_reads_hook_refs_and_conditions() -> None:
    from cpex.framework.utils import payload_matches

    config = Config(plugins=[entry("RetryWithBackoffPlugin", "PostRetry", ["tool_post_invoke"],
                                   conditions=[{"tools": ["search"]}], config={"max_retries": 2})])
    manager = await tenant(config)
    gc = GlobalContext(request_id="r")
    refs = manager._registry.get_hook_refs_for_hook(hook_type=ToolHookType.TOOL_POST_INVOKE)
    active = [h for h in refs if h.plugin_ref.mode != PluginMode.DISABLED and payload_matches(
        ToolPostInvokePayload(name="search", result={}), ToolHookType.TOOL_POST_INVOKE, h.plugin_ref.conditions, gc)]
    assert [h.plugin_ref.name for h in active] == ["RetryWithBackoffPlugin"]
    assert active[0].plugin_ref.plugin.config.config == {"max_retries": 2}


async def test_settings_wrapper_the_gateway_reads(monkeypatch: pytest.MonkeyPatch) -> None:
    from cpex.framework.settings import settings

    monkeypatch.setenv("PLUGINS_PLUGIN_TIMEOUT", "12")
    monkeypatch.setenv("PLUGINS_CONFIG_FILE", os.path.join("x", "y.yaml"))
    settings.cache_clear()
    assert settings.plugin_timeout == 12 and settings.config_file == os.path.join("x", "y.yaml")
    assert isinstance(settings.enabled, bool)
