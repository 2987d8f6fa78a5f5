"""Plugin, PluginRef, HookRef and PluginInstanceRegistry (spec §7.1, §7.2, §8)."""

from __future__ import annotations

import re
import weakref
from typing import Any, Optional

import pytest

from cpex.framework.base import ExternalHookRef, HookRef, Plugin, PluginRef
from cpex.framework.decorator import hook
from cpex.framework.errors import PluginError
from cpex.framework.extensions import Extensions
from cpex.framework.hooks import registry as hook_registry_module
from cpex.framework.hooks.registry import HookRegistry
from cpex.framework.hooks.tools import ToolPostInvokePayload, ToolPreInvokePayload, ToolPreInvokeResult
from cpex.framework.models import OnError, PluginConfig, PluginMode, PluginPayload, PluginResult
from cpex.framework.registry import PluginInstanceRegistry
from cpex.framework.registry import PluginRef as RegistryPluginRef


def config(name: str = "p", hooks: Optional[list[str]] = None, **fields: Any) -> PluginConfig:
    return PluginConfig(name=name, kind="tests.Plugin", hooks=hooks or ["tool_pre_invoke"], **fields)


class ConventionPlugin(Plugin):
    async def tool_pre_invoke(self, payload: Any, context: Any) -> PluginResult[Any]:
        return PluginResult()


class ExtensionsPlugin(Plugin):
    async def tool_pre_invoke(self, payload: Any, context: Any, extensions: Optional[Extensions]) -> PluginResult[Any]:
        return PluginResult()


class DecoratedPlugin(Plugin):
    @hook("tool_pre_invoke")
    async def zeta(self, payload: Any, context: Any) -> PluginResult[Any]:
        return PluginResult(metadata={"by": "zeta"})

    @hook(["tool_pre_invoke", "tool_post_invoke"])
    async def alpha(self, payload: Any, context: Any) -> PluginResult[Any]:
        return PluginResult(metadata={"by": "alpha"})

    @hook("tool_pre_invoke")
    async def _private(self, payload: Any, context: Any) -> PluginResult[Any]:
        return PluginResult(metadata={"by": "private"})


class ConventionBeatsDecoratorPlugin(Plugin):
    @hook("tool_pre_invoke")
    async def aaa(self, payload: Any, context: Any) -> PluginResult[Any]:
        return PluginResult()

    async def tool_pre_invoke(self, payload: Any, context: Any) -> PluginResult[Any]:
        return PluginResult()


class PrivateOnlyPlugin(Plugin):
    @hook("tool_pre_invoke")
    async def _hidden(self, payload: Any, context: Any) -> PluginResult[Any]:
        return PluginResult()


class OneParamPlugin(Plugin):
    async def tool_pre_invoke(self, payload: Any) -> PluginResult[Any]:
        return PluginResult()


class FourParamPlugin(Plugin):
    async def tool_pre_invoke(self, payload: Any, context: Any, extensions: Any, extra: Any) -> PluginResult[Any]:
        return PluginResult()


class SyncPlugin(Plugin):
    def tool_pre_invoke(self, payload: Any, context: Any) -> PluginResult[Any]:
        return PluginResult()


class AttributePlugin(Plugin):
    tool_pre_invoke = "not callable"


class RemotePlugin(Plugin):
    def __init__(self, cfg: PluginConfig) -> None:
        super().__init__(cfg)
        self.calls: list[tuple[Any, ...]] = []

    async def invoke_hook(self, hook_type: str, payload: Any, context: Any) -> PluginResult[Any]:
        self.calls.append((hook_type, payload, context))
        return PluginResult()


# --- Plugin ----------------------------------------------------------------------------------


def test_plugin_base_is_instantiable_and_delegates_to_config() -> None:
    cfg = config(priority=7, tags=["a"], mode=PluginMode.TRANSFORM)
    plugin = Plugin(cfg)
    assert plugin._config is cfg and plugin.config is cfg
    assert (plugin.name, plugin.priority, plugin.mode, plugin.hooks, plugin.tags, plugin.conditions) == (
        "p",
        7,
        PluginMode.TRANSFORM,
        ["tool_pre_invoke"],
        ["a"],
        [],
    )
    assert plugin._hook_payloads is None and plugin._hook_results is None


async def test_plugin_lifecycle_defaults_are_noops() -> None:
    plugin = Plugin(config())
    assert await plugin.initialize() is None
    assert await plugin.shutdown() is None


def test_json_to_payload_and_result_use_the_global_registry() -> None:
    plugin = Plugin(config())
    assert plugin.json_to_payload("tool_pre_invoke", '{"name": "t"}') == ToolPreInvokePayload(name="t")
    assert plugin.json_to_payload("tool_pre_invoke", {"name": "t"}) == ToolPreInvokePayload(name="t")
    result = plugin.json_to_result("tool_pre_invoke", {"modified_payload": {"name": "x"}})
    assert isinstance(result, ToolPreInvokeResult)


def test_json_to_payload_prefers_the_instance_mapping() -> None:
    plugin = Plugin(
        config(),
        hook_payloads={"tool_pre_invoke": ToolPostInvokePayload},
        hook_results={"custom": PluginResult[ToolPostInvokePayload]},
    )
    payload = plugin.json_to_payload("tool_pre_invoke", {"name": "t", "result": 1})
    assert type(payload) is ToolPostInvokePayload
    assert isinstance(plugin.json_to_result("custom", "{}"), PluginResult)


def test_json_conversion_of_unknown_hook_raises_plugin_error() -> None:
    plugin = Plugin(config(name="conv"))
    with pytest.raises(PluginError) as info:
        plugin.json_to_payload("unknown_hook", "{}")
    assert str(info.value) == "No payload defined for hook unknown_hook."
    assert info.value.error.plugin_name == "conv"
    with pytest.raises(PluginError, match=r"^No result defined for hook unknown_hook\.$"):
        plugin.json_to_result("unknown_hook", "{}")


def test_json_to_payload_looks_up_the_registry_at_call_time(monkeypatch: pytest.MonkeyPatch) -> None:
    class Custom(PluginPayload):
        v: int

    class FakeRegistry(HookRegistry):
        pass

    fake = object.__new__(FakeRegistry)
    monkeypatch.setattr(FakeRegistry, "_hook_payloads", {"tool_pre_invoke": Custom})
    monkeypatch.setattr(hook_registry_module, "get_hook_registry", lambda: fake)
    assert Plugin(config()).json_to_payload("tool_pre_invoke", {"v": 3}) == Custom(v=3)


# --- PluginRef ---------------------------------------------------------------------------------


def test_plugin_ref_reads_everything_from_the_trusted_config() -> None:
    plugin = Plugin(config(name="self-declared", priority=1, mode=PluginMode.AUDIT))
    trusted = config(
        name="trusted",
        priority=50,
        tags=["t"],
        mode=PluginMode.SEQUENTIAL,
        on_error=OnError.IGNORE,
        hooks=["tool_post_invoke"],
        capabilities=["read_headers"],
    )
    ref = PluginRef(plugin, trusted)
    assert ref.plugin is plugin and ref._plugin is plugin
    assert ref.trusted_config is trusted and ref._trusted_config is trusted
    assert (ref.name, ref.priority, ref.mode, ref.on_error) == ("trusted", 50, PluginMode.SEQUENTIAL, OnError.IGNORE)
    assert (ref.hooks, ref.tags, ref.conditions) == (["tool_post_invoke"], ["t"], [])
    assert ref.capabilities == frozenset({"read_headers"})


def test_plugin_ref_defaults_trusted_config_to_plugin_config() -> None:
    plugin = Plugin(config(name="own"))
    ref = PluginRef(plugin)
    assert ref.trusted_config is plugin.config and ref.name == "own"


def test_plugin_ref_uuid_is_fresh_32_hex() -> None:
    plugin = Plugin(config())
    a, b = PluginRef(plugin), PluginRef(plugin)
    assert re.fullmatch(r"[0-9a-f]{32}", a.uuid)
    assert a.uuid != b.uuid
    assert a.uuid == a._uuid.hex


def test_plugin_ref_core_id_slot_and_weak_references() -> None:
    ref = PluginRef(Plugin(config()))
    assert ref._core_id == 0
    ref._core_id = 42
    assert ref._core_id == 42 and PluginRef(Plugin(config()))._core_id == 0
    assert weakref.ref(ref)() is ref


def test_plugin_ref_is_importable_from_registry() -> None:
    assert RegistryPluginRef is PluginRef


# --- HookRef discovery ----------------------------------------------------------------------


def ref_for(cls: type[Plugin], hooks: Optional[list[str]] = None, name: str = "p") -> PluginRef:
    return PluginRef(cls(config(name=name, hooks=hooks)))


def test_hook_ref_by_convention() -> None:
    plugin_ref = ref_for(ConventionPlugin)
    hook_ref = HookRef("tool_pre_invoke", plugin_ref)
    assert hook_ref.name == "tool_pre_invoke" and hook_ref._hook == "tool_pre_invoke"
    assert hook_ref.plugin_ref is plugin_ref and hook_ref._plugin_ref is plugin_ref
    assert hook_ref.hook == plugin_ref.plugin.tool_pre_invoke  # type: ignore[attr-defined]
    assert hook_ref._func == hook_ref.hook
    assert hook_ref.accepts_extensions is False and hook_ref._accepts_extensions is False


def test_hook_ref_three_parameters_accept_extensions() -> None:
    assert HookRef("tool_pre_invoke", ref_for(ExtensionsPlugin)).accepts_extensions is True


async def test_hook_ref_by_decorator_alphabetical_first_match_wins() -> None:
    hook_ref = HookRef("tool_pre_invoke", ref_for(DecoratedPlugin))
    result = await hook_ref.hook(None, None)
    assert result.metadata == {"by": "alpha"}
    post = HookRef("tool_post_invoke", ref_for(DecoratedPlugin))
    assert (await post.hook(None, None)).metadata == {"by": "alpha"}


def test_hook_ref_convention_beats_decorator() -> None:
    plugin_ref = ref_for(ConventionBeatsDecoratorPlugin)
    assert HookRef("tool_pre_invoke", plugin_ref).hook == plugin_ref.plugin.tool_pre_invoke  # type: ignore[attr-defined]


def test_hook_ref_missing_hook_message() -> None:
    with pytest.raises(PluginError) as info:
        HookRef("tool_pre_invoke", ref_for(PrivateOnlyPlugin, name="nohook"))
    assert str(info.value) == (
        "Plugin 'nohook' has no hook: 'tool_pre_invoke'. "
        "Method must either be named 'tool_pre_invoke' or decorated with @hook('tool_pre_invoke')"
    )
    assert info.value.error.plugin_name == "nohook"


@pytest.mark.parametrize("cls", [OneParamPlugin, FourParamPlugin, AttributePlugin])
def test_hook_ref_rejects_wrong_parameter_counts(cls: type[Plugin]) -> None:
    with pytest.raises(PluginError, match=r"^Plugin 'p' hook 'tool_pre_invoke' has invalid signature\. "
                                          r"Expected 2 or 3 parameters \(payload, context\[, extensions\]\), got "):
        HookRef("tool_pre_invoke", ref_for(cls))


def test_hook_ref_wrong_parameter_count_names_the_parameters() -> None:
    with pytest.raises(PluginError) as info:
        HookRef("tool_pre_invoke", ref_for(OneParamPlugin))
    assert "got 1: ['payload']. Correct signature: async def tool_pre_invoke(self, payload: PayloadType, " in str(
        info.value)


def test_hook_ref_rejects_sync_handlers() -> None:
    with pytest.raises(PluginError, match=r"^Plugin 'p' hook 'tool_pre_invoke' must be async\. Method "
                                          r"'tool_pre_invoke' is not a coroutine function\. Use 'async def "):
        HookRef("tool_pre_invoke", ref_for(SyncPlugin))


def test_hook_ref_accepts_plain_coroutine_attributes() -> None:
    plugin = Plugin(config())

    async def handler(payload: Any, context: Any) -> PluginResult[Any]:
        return PluginResult()

    plugin.tool_pre_invoke = handler  # type: ignore[attr-defined]
    assert HookRef("tool_pre_invoke", PluginRef(plugin)).hook is handler


def test_validate_type_hints() -> None:
    import inspect

    class Typed(Plugin):
        async def tool_pre_invoke(self, payload: ToolPreInvokePayload, context: Any) -> ToolPreInvokeResult:
            return ToolPreInvokeResult()

        async def wrong_payload(self, payload: ToolPostInvokePayload, context: Any) -> ToolPreInvokeResult:
            return ToolPreInvokeResult()

        async def untyped(self, payload, context):  # type: ignore[no-untyped-def]
            return PluginResult()

        async def no_return(self, payload: ToolPreInvokePayload, context: Any):  # type: ignore[no-untyped-def]
            return PluginResult()

        async def wrong_return(self, payload: ToolPreInvokePayload, context: Any) -> int:
            return 0

    plugin_ref = ref_for(Typed)
    hook_ref = HookRef("tool_pre_invoke", plugin_ref)

    def check(method: Any, hook: str = "tool_pre_invoke") -> None:
        hook_ref._validate_type_hints(hook, method, list(inspect.signature(method).parameters.values()), "p")

    check(hook_ref.hook)
    check(plugin_ref.plugin.untyped, hook="my_unregistered_hook")  # no registered types: nothing to check
    cases = {
        "wrong_payload": "parameter 'payload' has incorrect type hint. Expected: ToolPreInvokePayload, Got: ",
        "untyped": "missing type hint for parameter 'payload'. Expected: payload: ToolPreInvokePayload",
        "no_return": "missing return type hint. Expected: -> ",
        "wrong_return": "has incorrect return type hint. Expected: ",
    }
    for name, message in cases.items():
        with pytest.raises(PluginError) as info:
            check(getattr(plugin_ref.plugin, name))
        assert str(info.value).startswith("Plugin 'p' hook 'tool_pre_invoke' ") and message in str(info.value)


async def test_external_hook_ref_binds_invoke_hook() -> None:
    plugin_ref = ref_for(RemotePlugin)
    hook_ref = ExternalHookRef("tool_pre_invoke", plugin_ref)
    assert hook_ref.accepts_extensions is False and hook_ref.name == "tool_pre_invoke"
    await hook_ref.hook("payload", "context")
    assert plugin_ref.plugin.calls == [("tool_pre_invoke", "payload", "context")]  # type: ignore[attr-defined]
    with pytest.raises(PluginError, match="^Plugin: p is not an external plugin$"):
        ExternalHookRef("tool_pre_invoke", ref_for(ConventionPlugin))


# --- PluginInstanceRegistry -------------------------------------------------------------------


def make_plugin(name: str, priority: int = 100, cls: type[Plugin] = ConventionPlugin, **fields: Any) -> Plugin:
    return cls(config(name=name, priority=priority, **fields))


def test_registry_register_and_lookups() -> None:
    registry = PluginInstanceRegistry()
    plugin = make_plugin("a", hooks=["tool_pre_invoke"])
    registry.register(plugin)
    ref = registry.get_plugin("a")
    assert ref is not None and ref.plugin is plugin
    assert registry.get_plugin("missing") is None
    hook_ref = registry.get_plugin_hook_by_name("a", "tool_pre_invoke")
    assert hook_ref is not None and hook_ref.plugin_ref is ref
    assert registry.get_plugin_hook_by_name("a", "tool_post_invoke") is None
    assert registry.get_plugin_hook_by_name("zzz", "tool_pre_invoke") is None
    assert registry.has_hooks_for("tool_pre_invoke") and not registry.has_hooks_for("tool_post_invoke")
    assert registry.plugin_count == 1


def test_registry_duplicate_name_message() -> None:
    registry = PluginInstanceRegistry()
    registry.register(make_plugin("dup"))
    with pytest.raises(ValueError, match="^Plugin dup already registered$"):
        registry.register(make_plugin("dup"))


def test_registry_uses_trusted_config_for_scheduling() -> None:
    registry = PluginInstanceRegistry()
    plugin = make_plugin("self", priority=1)
    registry.register(plugin, trusted_config=config(name="trusted", priority=999))
    ref = registry.get_plugin("trusted")
    assert ref is not None and ref.priority == 999
    assert registry.get_plugin("self") is None


def test_registry_priority_order_is_ascending_and_stable() -> None:
    registry = PluginInstanceRegistry()
    for name, priority in [("b", 20), ("a", 10), ("c", 20), ("d", 5), ("e", 20)]:
        registry.register(make_plugin(name, priority))
    names = [r.plugin_ref.name for r in registry.get_hook_refs_for_hook("tool_pre_invoke")]
    assert names == ["d", "a", "b", "c", "e"]


def test_registry_hook_list_is_cached_until_the_hook_changes() -> None:
    registry = PluginInstanceRegistry()
    registry.register(make_plugin("a", hooks=["tool_pre_invoke", "tool_post_invoke"], cls=DecoratedPlugin))
    first = registry.get_hook_refs_for_hook("tool_pre_invoke")
    post = registry.get_hook_refs_for_hook("tool_post_invoke")
    assert registry.get_hook_refs_for_hook("tool_pre_invoke") is first
    registry.register(make_plugin("b", hooks=["tool_post_invoke"], cls=DecoratedPlugin))
    assert registry.get_hook_refs_for_hook("tool_pre_invoke") is first  # other hook changed
    new_post = registry.get_hook_refs_for_hook("tool_post_invoke")
    assert new_post is not post and len(new_post) == 2
    registry.unregister("b")
    assert registry.get_hook_refs_for_hook("tool_post_invoke") is not new_post
    assert registry.get_hook_refs_for_hook("unknown") == []


def test_registry_get_all_plugins_in_registration_order() -> None:
    registry = PluginInstanceRegistry()
    for name, priority in [("z", 1), ("a", 50), ("m", 2)]:
        registry.register(make_plugin(name, priority))
    assert [r.name for r in registry.get_all_plugins()] == ["z", "a", "m"]


def test_registry_unregister() -> None:
    registry = PluginInstanceRegistry()
    registry.register(make_plugin("a"))
    registry.register(make_plugin("b"))
    registry.unregister("a")
    registry.unregister("never-registered")
    assert registry.get_plugin("a") is None and registry.plugin_count == 1
    assert [r.plugin_ref.name for r in registry.get_hook_refs_for_hook("tool_pre_invoke")] == ["b"]
    assert registry.get_plugin_hook_by_name("a", "tool_pre_invoke") is None
    registry.unregister("b")
    assert not registry.has_hooks_for("tool_pre_invoke")


def test_registry_registers_hooks_from_the_plugin_own_config() -> None:
    registry = PluginInstanceRegistry()
    plugin = make_plugin("p", hooks=["tool_pre_invoke"])
    registry.register(plugin, trusted_config=config(name="p", hooks=["tool_pre_invoke", "tool_post_invoke"]))
    assert registry.has_hooks_for("tool_pre_invoke") and not registry.has_hooks_for("tool_post_invoke")


def test_registry_partial_registration_when_a_later_hook_fails() -> None:
    registry = PluginInstanceRegistry()
    with pytest.raises(PluginError):
        registry.register(make_plugin("half", hooks=["tool_pre_invoke", "tool_post_invoke"]))
    assert registry.get_plugin("half") is not None
    assert registry.has_hooks_for("tool_pre_invoke")
    assert registry.get_plugin_hook_by_name("half", "tool_pre_invoke") is None
    registry.unregister("half")
    assert not registry.has_hooks_for("tool_pre_invoke")


def test_registry_uses_external_hook_refs_for_invoke_hook_plugins() -> None:
    registry = PluginInstanceRegistry()
    registry.register(make_plugin("remote", cls=RemotePlugin))
    (hook_ref,) = registry.get_hook_refs_for_hook("tool_pre_invoke")
    assert isinstance(hook_ref, ExternalHookRef)


async def test_registry_shutdown_reverse_order_errors_logged(caplog: pytest.LogCaptureFixture) -> None:
    order: list[str] = []

    class Tracking(ConventionPlugin):
        async def shutdown(self) -> None:
            order.append(self.name)
            if self.name == "b":
                raise RuntimeError("shutdown failed")

    registry = PluginInstanceRegistry()
    for name in ("a", "b", "c"):
        registry.register(make_plugin(name, cls=Tracking))
    await registry.shutdown()
    assert order == ["c", "b", "a"]
    assert "shutdown failed" in caplog.text
    # the message is preformatted: the record's msg itself names the plugin (no %-args)
    failures = [r for r in caplog.records if r.levelname == "ERROR"]
    assert len(failures) == 1 and failures[0].args in ((), None)
    assert failures[0].msg == "Error shutting down plugin b: RuntimeError('shutdown failed')"
    assert registry.plugin_count == 0 and not registry.has_hooks_for("tool_pre_invoke")
    assert registry.get_hook_refs_for_hook("tool_pre_invoke") == []
    # Upstream keeps the by-name index: a shut-down plugin stays reachable by name.
    assert registry.get_plugin_hook_by_name("a", "tool_pre_invoke") is not None


def test_validate_hook_signature_answers_the_parameter_count() -> None:
    hook_ref = HookRef("tool_pre_invoke", ref_for(ConventionPlugin))

    async def three(payload: Any, context: Any, extensions: Any) -> PluginResult[Any]:
        return PluginResult()

    assert hook_ref._validate_hook_signature("tool_pre_invoke", hook_ref.hook, "p") == 2
    assert hook_ref._validate_hook_signature("tool_pre_invoke", three, "p") == 3
    with pytest.raises(PluginError, match="^Plugin 'named' hook 'h' must be async"):
        hook_ref._validate_hook_signature("h", lambda payload, context: None, "named")
