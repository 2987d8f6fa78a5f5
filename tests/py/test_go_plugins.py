"""Go built-ins (kind: builtin/<name>) loaded from the same YAML as Python plugins and run in the
same chain, every rule applying to them as to Python plugins."""

from __future__ import annotations

import os
from typing import Any

import pytest

import fixture_plugins as fp
from cpex.framework import (
    GlobalContext,
    HookPayloadPolicy,
    Plugin,
    PluginCondition,
    PluginError,
    PluginViolationError,
    TenantPluginManager,
    ToolPreInvokePayload,
)
from cpex.framework.models import Config, PluginConfig

CONFIG = os.path.join(os.path.dirname(__file__), "configs", "go_mixed.yaml")


@pytest.fixture(autouse=True)
def _clear() -> None:
    fp.CALLS.clear()
    fp.Recorder.seen = []


def go(name: str, kind: str = "builtin/noop", hooks: tuple[str, ...] = ("tool_pre_invoke",), **fields: Any) -> PluginConfig:
    return PluginConfig(name=name, kind=kind, hooks=list(hooks), **fields)


def py(name: str, cls: str, **fields: Any) -> PluginConfig:
    return PluginConfig(name=name, kind=f"fixture_plugins.{cls}", hooks=["tool_pre_invoke"], **fields)


async def manager_of(*plugins: PluginConfig, **kw: Any) -> TenantPluginManager:
    manager = TenantPluginManager(Config(plugins=list(plugins)), **kw)
    await manager.initialize()
    return manager


async def invoke(manager: TenantPluginManager, name: str = "search", **kw: Any) -> Any:
    args = kw.pop("args", {"q": "x"})
    return await manager.invoke_hook("tool_pre_invoke", ToolPreInvokePayload(name=name, args=args),
                                     GlobalContext(request_id="r", server_id="srv"), **kw)


async def test_mixed_chain_from_yaml() -> None:
    manager = TenantPluginManager(CONFIG)
    await manager.initialize()
    assert manager.plugin_count == 6 and manager.get_plugin("go_off") is None
    result, table = await invoke(manager)
    await result.wait_for_background_tasks()
    # the Go plugin rewrote the Python plugin's output, and the next Python plugin saw that
    assert fp.Recorder.seen == [("py_after_go", {"q": "x", "note": "my [redacted] plan"})]
    assert result.modified_payload.args == {"q": "x", "note": "my [redacted] plan"}
    assert [(r.plugin_name, r.plugin_kind, str(r.mode), r.payload_modified) for r in result.executions] == [
        ("py_first", "fixture_plugins.SetArg", "sequential", True),
        ("go_redact", "builtin/regex_replace", "sequential", True),
        ("py_after_go", "fixture_plugins.Recorder", "sequential", False),
        ("go_noop_transform", "builtin/noop", "transform", False),
        ("go_deny", "builtin/deny_list", "concurrent", False),
        ("go_noop_background", "builtin/noop", "fire_and_forget", False),
    ]
    # every plugin that ran, Go or Python, has its context in the table
    assert len(table) == 6
    await manager.shutdown()


async def test_go_concurrent_block_halts_the_chain() -> None:
    manager = TenantPluginManager(CONFIG)
    await manager.initialize()
    result, _ = await invoke(manager, args={"q": "a forbidden word"})
    assert result.continue_processing is False
    assert result.violation.plugin_name == "go_deny" and result.violation.code
    assert result.modified_payload.args["note"] == "my [redacted] plan"  # the serial phases' chain
    with pytest.raises(PluginViolationError) as info:
        await invoke(manager, args={"q": "a forbidden word"}, violations_as_exceptions=True)
    assert str(info.value).startswith("tool_pre_invoke blocked by plugin go_deny: ")
    assert info.value.violation.plugin_name == "go_deny"
    assert [r.plugin_name for r in info.value.executions][-1] == "go_deny"


async def test_go_sequential_block_and_records() -> None:
    manager = await manager_of(go("deny", "builtin/deny_list", config={"words": ["drop"]}, priority=1),
                               py("later", "Passthrough", priority=2))
    result, _ = await invoke(manager, args={"sql": "drop table"})
    assert result.continue_processing is False and fp.CALLS == []
    rec = result.executions[0]
    assert (rec.plugin_name, rec.effective_allow, rec.requested_allow, rec.matched) == ("deny", False, False, True)
    assert rec.error_code == result.violation.code and rec.duration_ns >= 0


async def test_policy_applies_to_go_plugins() -> None:
    regex = go("redact", "builtin/regex_replace", config={"words": [{"search": "x", "replace": "y"}]})
    policies = {"tool_pre_invoke": HookPayloadPolicy(writable_fields=frozenset({"name"}))}
    manager = await manager_of(regex, hook_policies=policies)
    result, _ = await invoke(manager)
    assert result.modified_payload is None and result.executions[0].payload_modified is False
    allowed = await manager_of(regex, hook_policies={
        "tool_pre_invoke": HookPayloadPolicy(writable_fields=frozenset({"args"}))})
    result, _ = await invoke(allowed)
    assert result.modified_payload.args == {"q": "y"}


async def test_conditions_apply_to_go_plugins() -> None:
    manager = await manager_of(
        go("only_other", "builtin/deny_list", config={"words": ["x"]}, conditions=[PluginCondition(tools={"other"})]))
    result, table = await invoke(manager)
    assert result.continue_processing and result.executions == [] and table == {}


async def test_runtime_disabled_go_plugin_is_skipped() -> None:
    manager = await manager_of(go("deny", "builtin/deny_list", config={"words": ["x"]}))
    manager.executor._runtime_disabled.add("deny")
    result, _ = await invoke(manager)
    assert result.continue_processing and result.executions == []


async def test_go_plugin_seen_from_python() -> None:
    manager = await manager_of(go("redact", "builtin/regex_replace", config={"words": [{"search": "x", "replace": "y"}]}))
    plugin = manager.get_plugin("redact")
    assert isinstance(plugin, Plugin) and plugin.name == "redact" and plugin.hooks == ["tool_pre_invoke"]
    assert plugin.config.config == {"words": [{"search": "x", "replace": "y"}]}
    result = await manager.invoke_hook_for_plugin("redact", "tool_pre_invoke", ToolPreInvokePayload(name="t",
                                                  args={"a": "xx"}), GlobalContext(request_id="r"))
    assert result.continue_processing and result.modified_payload.args == {"a": "yy"}
    blocker = await manager_of(go("deny", "builtin/deny_list", config={"words": ["xx"]}))
    result = await blocker.invoke_hook_for_plugin("deny", "tool_pre_invoke", {"name": "t", "args": {"a": "xx"}},
                                                  GlobalContext(request_id="r"), payload_as_json=True)
    assert result.continue_processing is False and result.violation.plugin_name == "deny"
    await manager.shutdown()
    assert not plugin._finalizer.alive  # the core released it


async def test_unknown_builtin_kind_is_a_load_error(monkeypatch: pytest.MonkeyPatch,
                                                    caplog: pytest.LogCaptureFixture) -> None:
    # fail_on_plugin_error false (the default) still fails: a Go guard is never skipped
    with pytest.raises(RuntimeError, match="^Plugin initialization failed: ghost - .*builtin/does_not_exist"):
        await manager_of(go("ghost", "builtin/does_not_exist"), py("fine", "Passthrough"))
    assert "builtin/does_not_exist" in caplog.text
    monkeypatch.setenv("PLUGINS_FAIL_ON_PLUGIN_ERROR", "true")
    from cpex.framework.settings import settings

    settings.cache_clear()
    with pytest.raises(RuntimeError, match="^Plugin initialization failed: ghost - .*builtin/does_not_exist"):
        await manager_of(go("ghost", "builtin/does_not_exist"))


async def test_bad_go_plugin_config_names_the_key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PLUGINS_FAIL_ON_PLUGIN_ERROR", "true")
    from cpex.framework.settings import settings

    settings.cache_clear()
    with pytest.raises(RuntimeError) as info:
        await manager_of(go("bad", config={"unexpected": 1}))
    assert "unexpected" in str(info.value) and "bad" in str(info.value)
    assert isinstance(info.value.__cause__, PluginError)


async def test_go_and_python_plugins_share_on_error_and_timeouts() -> None:
    manager = await manager_of(py("boom", "Boom", on_error="ignore"),
                               go("redact", "builtin/regex_replace", config={"words": [{"search": "x", "replace": "z"}]},
                                  priority=200))
    result, _ = await invoke(manager)
    assert result.modified_payload.args == {"q": "z"}
    assert [r.plugin_name for r in result.executions] == ["boom", "redact"]


async def test_fire_and_forget_go_plugin_and_go_only_chain() -> None:
    manager = await manager_of(go("bg", mode="fire_and_forget"), go("n1"), go("n2", priority=200))
    result, table = await invoke(manager)
    assert result.continue_processing and result.modified_payload is None
    assert [r.plugin_name for r in result.executions] == ["n1", "n2", "bg"]
    assert result.background_tasks == [] or await result.wait_for_background_tasks() == []
    assert len(table) == 3


async def test_payload_values_json_cannot_hold_reach_go_plugins_as_text() -> None:
    from cpex.framework import ToolPostInvokePayload

    class Opaque:
        def __repr__(self) -> str:
            return "Opaque(forbidden)"

    manager = await manager_of(go("pass", hooks=("tool_post_invoke",)),
                               go("deny", "builtin/deny_list", hooks=("tool_post_invoke",),
                                  config={"words": ["forbidden"]}, priority=200))
    thing = Opaque()
    payload = ToolPostInvokePayload(name="t", result={"obj": thing, "raw": b"\xff"})
    result, _ = await manager.invoke_hook("tool_post_invoke", payload, GlobalContext(request_id="r"))
    assert result.continue_processing is False and result.violation.plugin_name == "deny"
    assert payload.result["obj"] is thing  # the caller's object is untouched


async def test_concurrent_phase_mixing_go_and_python() -> None:
    manager = await manager_of(py("slow", "Sleeper", mode="concurrent", config={"delay": 0.01}),
                               go("deny", "builtin/deny_list", mode="concurrent", config={"words": ["bad"]}),
                               go("n", mode="concurrent"))
    result, table = await invoke(manager)
    assert result.continue_processing and sorted(r.plugin_name for r in result.executions) == ["deny", "n", "slow"]
    assert fp.CALLS == ["slow"] and len(table) == 3
    fp.CALLS.clear()
    blocked, _ = await invoke(manager, args={"q": "bad"})
    assert blocked.continue_processing is False and blocked.violation.plugin_name == "deny"
    assert "slow" not in [r.plugin_name for r in blocked.executions]


async def test_a_dropped_manager_releases_its_core_objects(monkeypatch: pytest.MonkeyPatch) -> None:
    import gc
    import weakref

    from cpex.framework._engine import wire

    released: dict[str, list[int]] = {"RefRelease": [], "GoPluginRelease": [], "ExecutorRelease": []}
    for name, seen in released.items():
        fn = {"RefRelease": "ref_release", "GoPluginRelease": "go_plugin_release", "ExecutorRelease": "executor_release"}[name]
        real = getattr(wire, fn)
        monkeypatch.setattr(wire, fn, lambda i, real=real, seen=seen: (seen.append(i), real(i))[1])
    manager = await manager_of(py("p", "Passthrough"), go("g"))
    await invoke(manager)
    refs = [weakref.ref(r) for r in manager._registry.get_all_plugins()]
    ref_ids = {r()._core_id for r in refs}
    exec_id = manager.executor._exec_id
    go_id = manager.get_plugin("g")._go_plugin_id
    del manager
    gc.collect()  # (garbage of earlier tests may be released too: check membership)
    assert all(r() is None for r in refs)  # nothing on the Python side keeps plugins alive
    assert ref_ids <= set(released["RefRelease"])
    assert exec_id in released["ExecutorRelease"] and go_id in released["GoPluginRelease"]


def test_the_demo_runs_its_mixed_chain() -> None:
    """`make demo`: every plugin of examples/config.yaml loads and each hook shows its chain."""
    import subprocess
    import sys

    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    env = dict(os.environ, PYTHONPATH=os.path.join(root, "python"))
    proc = subprocess.run([sys.executable, "examples/demo.py"], cwd=root, env=env, capture_output=True, text=True,
                          timeout=120)
    assert proc.returncode == 0, proc.stderr
    out = proc.stdout
    assert "10 plugins from config.yaml (5 Python, 5 Go built-ins" in out
    for expected in ("builtin/pii_filter", "builtin/deny_list", "builtin/regex_replace", "builtin/secrets_detection",
                     "builtin/noop", "BLOCKED by ToolGate", "BLOCKED by DenyList", "quarter 3", "[SECRET]",
                     "counted 2 tool calls in the background"):
        assert expected in out, expected
    assert "Traceback" not in proc.stderr and "ERROR" not in proc.stderr


async def test_a_go_plugin_is_released_as_soon_as_it_is_dropped(monkeypatch: pytest.MonkeyPatch) -> None:
    from cpex.framework._engine import wire
    from cpex.framework._goplugin import GoPlugin

    released: list[int] = []
    real = wire.go_plugin_release
    monkeypatch.setattr(wire, "go_plugin_release", lambda i: (released.append(i), real(i))[1])
    plugin = GoPlugin(go("solo", config=None))
    go_id = plugin._go_plugin_id
    del plugin  # reference counting alone frees it: no cycle through its hook coroutines
    assert released == [go_id]


async def test_go_plugins_see_who_a_dict_user_is() -> None:
    limiter = go("limit", "builtin/rate_limiter", config={"by_user": "1/m"})
    manager = await manager_of(limiter)

    async def call(user: Any) -> bool:
        result, _ = await manager.invoke_hook("tool_pre_invoke", ToolPreInvokePayload(name="t", args={}),
                                              GlobalContext(request_id="r", user=user))
        return result.continue_processing

    assert await call({"email": "ann@example.com", "groups": ["a"]}) is True
    assert await call({"email": "ann@example.com", "groups": ["a"]}) is False  # same user: over 1/m
    assert await call({"email": "bob@example.com"}) is True  # another user has their own counter


async def test_user_values_json_cannot_carry_are_left_out() -> None:
    manager = await manager_of(go("limit", "builtin/rate_limiter", config={"by_user": "5/m"}))
    user = {"email": "c@example.com", "huge": 2**70, "obj": object(), "nested": {"a": 1}}
    result, _ = await manager.invoke_hook("tool_pre_invoke", ToolPreInvokePayload(name="t", args={}),
                                          GlobalContext(request_id="r", user=user))
    assert result.continue_processing


async def test_direct_go_plugin_calls_carry_the_executors_timeout(monkeypatch: pytest.MonkeyPatch) -> None:
    """invoke_hook_for_plugin (through GoPluginSingle) and fire-and-forget (through
    GoPluginInvoke) reach a Go plugin with the executor's timeout, so the core does not
    apply its own 30 s default."""
    import orjson

    from cpex.framework._engine import wire

    real, real_single = wire.go_plugin_invoke, wire.go_plugin_single
    timeouts: list[Any] = []

    def spy(go_id: int, hook: str, payload: str, facts: str) -> str:
        timeouts.append(orjson.loads(facts).get("timeout", "absent"))
        return real(go_id, hook, payload, facts)

    def spy_single(rule: int, go_id: int, hook: str, payload: str, facts: str) -> str:
        timeouts.append(orjson.loads(facts).get("timeout", "absent"))
        return real_single(rule, go_id, hook, payload, facts)

    monkeypatch.setattr(wire, "go_plugin_invoke", spy)
    monkeypatch.setattr(wire, "go_plugin_single", spy_single)
    manager = await manager_of(go("direct"), go("bg", mode="fire_and_forget"), timeout=7)
    await manager.invoke_hook_for_plugin("direct", "tool_pre_invoke", ToolPreInvokePayload(name="t", args={}),
                                         GlobalContext(request_id="r"))
    assert timeouts == [7]
    result, _ = await invoke(manager)
    await result.wait_for_background_tasks()
    assert timeouts == [7, 7]
    # a caller awaiting the plugin's hook itself (no executor around it) sends none
    from cpex.framework.models import PluginContext

    plugin = manager.get_plugin("direct")
    await plugin.tool_pre_invoke(ToolPreInvokePayload(name="t", args={}),
                                 PluginContext(global_context=GlobalContext(request_id="r")))
    assert timeouts == [7, 7, "absent"]
