"""HookPayloadPolicy and the default policy as applied by the executor (spec §15, §11.8)."""

from __future__ import annotations

from typing import Any

import pytest

import fixture_plugins as fp
from cpex.framework import (
    GlobalContext,
    HookPayloadPolicy,
    HttpAuthCheckPermissionPayload,
    HttpAuthCheckPermissionResultPayload,
    Plugin,
    PluginContext,
    PluginError,
    PluginResult,
    ToolPreInvokePayload,
)
from cpex.framework.manager import PluginExecutor


class Grant(Plugin):
    async def http_auth_check_permission(self, payload: Any, context: PluginContext) -> PluginResult:
        return PluginResult(
            modified_payload=HttpAuthCheckPermissionResultPayload(granted=True, reason=self.name),
            metadata={"_decision_plugin": "forged", self.name: 1},
        )


def payload() -> ToolPreInvokePayload:
    return ToolPreInvokePayload(name="search", args={"q": "x"})


async def test_policy_keeps_only_writable_fields(make_ref: Any, gctx: GlobalContext) -> None:
    policies = {"tool_pre_invoke": HookPayloadPolicy(writable_fields=frozenset({"args"}))}
    result, _ = await PluginExecutor(hook_policies=policies).execute(
        [make_ref(fp.Rename)], payload(), gctx, "tool_pre_invoke")
    assert result.modified_payload.name == "search"
    assert result.modified_payload.args == {"renamed": True}


async def test_policy_rejecting_everything_means_no_modification(make_ref: Any, gctx: GlobalContext) -> None:
    policies = {"tool_pre_invoke": HookPayloadPolicy(writable_fields=frozenset({"headers"}))}
    result, _ = await PluginExecutor(hook_policies=policies).execute(
        [make_ref(fp.Rename)], payload(), gctx, "tool_pre_invoke")
    assert result.modified_payload is None
    rec = result.executions[0]
    assert rec.payload_modified is False and rec.matched is False


async def test_default_deny_without_policy_rejects(make_ref: Any, gctx: GlobalContext) -> None:
    result, _ = await PluginExecutor(default_hook_policy="deny").execute(
        [make_ref(fp.Rename)], payload(), gctx, "tool_pre_invoke")
    assert result.modified_payload is None


async def test_policy_isolates_in_place_mutation(make_ref: Any, gctx: GlobalContext) -> None:
    policies = {"tool_pre_invoke": HookPayloadPolicy(writable_fields=frozenset({"args"}))}
    original = payload()
    await PluginExecutor(hook_policies=policies).execute([make_ref(fp.InPlaceMutator)], original, gctx, "tool_pre_invoke")
    assert original.args == {"q": "x"}


async def test_without_policy_in_place_mutation_leaks(make_ref: Any, gctx: GlobalContext) -> None:
    original = payload()
    result, _ = await PluginExecutor().execute([make_ref(fp.InPlaceMutator)], original, gctx, "tool_pre_invoke")
    assert original.args == {"q": "x", "mutated": True}
    assert result.modified_payload is None


async def test_decision_plugin_for_permission_hook(make_ref: Any, gctx: GlobalContext) -> None:
    policies = {"http_auth_check_permission": HookPayloadPolicy(writable_fields=frozenset({"reason"}))}
    refs = [make_ref(Grant, hook="http_auth_check_permission", name="g1"),
            make_ref(Grant, hook="http_auth_check_permission", name="g2", priority=200)]
    p = HttpAuthCheckPermissionPayload(user_email="a@b.c", permission="tools.read")
    result, _ = await PluginExecutor(hook_policies=policies).execute(refs, p, gctx, "http_auth_check_permission")
    assert isinstance(result.modified_payload, HttpAuthCheckPermissionResultPayload)  # cross-type accepted whole
    assert result.modified_payload.reason == "g2"
    assert result.metadata == {"g1": 1, "g2": 1, "_decision_plugin": "g2"}


async def test_decision_plugin_absent_when_nothing_accepted(make_ref: Any, gctx: GlobalContext) -> None:
    class Quiet(Plugin):
        async def http_auth_check_permission(self, payload: Any, context: PluginContext) -> PluginResult:
            return PluginResult(metadata={"_decision_plugin": "forged"})

    p = HttpAuthCheckPermissionPayload(user_email="a@b.c", permission="tools.read")
    result, _ = await PluginExecutor().execute(
        [make_ref(Quiet, hook="http_auth_check_permission")], p, gctx, "http_auth_check_permission")
    assert result.metadata == {}


@pytest.mark.parametrize("hook_policy", [None, "allow"])
async def test_no_policy_default_allow_accepts_any_type(make_ref: Any, gctx: GlobalContext, hook_policy: Any) -> None:
    result, _ = await PluginExecutor(default_hook_policy=hook_policy).execute(
        [make_ref(fp.Rename)], payload(), gctx, "tool_pre_invoke")
    assert result.modified_payload.name == "renamed"


class UserDict(Plugin):
    """A cross-type hook: answers a user dict built from what it was given."""

    async def resolve(self, payload: Any, context: PluginContext) -> PluginResult:
        seen = dict(payload) if isinstance(payload, dict) else {"from": type(payload).__name__}
        return PluginResult(modified_payload={**seen, "by": self.name}, metadata={self.name: seen})


class DictMutator(Plugin):
    """Mutates the dict it is handed in place and returns no modification."""

    async def resolve(self, payload: Any, context: PluginContext) -> PluginResult:
        payload["mutated_in_place"] = True
        return PluginResult()


async def test_dict_payload_chains_through_plugins_and_go(make_ref: Any, gctx: GlobalContext) -> None:
    from cpex.framework._goplugin import GoPlugin
    from cpex.framework.base import HookRef, PluginRef
    from cpex.framework.models import PluginConfig

    noop = GoPlugin(PluginConfig(name="go", kind="builtin/noop", hooks=["resolve"], priority=15))
    refs = [make_ref(UserDict, hook="resolve", name="first", priority=10),
            HookRef("resolve", PluginRef(noop)),
            make_ref(DictMutator, hook="resolve", name="mutator", priority=17),
            make_ref(UserDict, hook="resolve", name="second", priority=20)]
    policies = {"resolve": HookPayloadPolicy(writable_fields=frozenset())}
    result, _ = await PluginExecutor(hook_policies=policies).execute(refs, payload(), gctx, "resolve")
    # each plugin got a deep copy of the current dict: the in-place write never reached the chain
    assert result.metadata["second"] == {"from": "ToolPreInvokePayload", "by": "first"}
    assert result.modified_payload == {"from": "ToolPreInvokePayload", "by": "second"}
    assert [r.payload_modified for r in result.executions] == [True, False, False, True]
    await noop.shutdown()


async def test_empty_dict_modification_is_kept(make_ref: Any, gctx: GlobalContext) -> None:
    class Empty(Plugin):
        async def resolve(self, payload: Any, context: PluginContext) -> PluginResult:
            return PluginResult(modified_payload={})

    policies = {"resolve": HookPayloadPolicy(writable_fields=frozenset())}
    result, _ = await PluginExecutor(hook_policies=policies).execute([make_ref(Empty, hook="resolve")], payload(),
                                                                     gctx, "resolve")
    assert result.modified_payload == {} and result.executions[0].payload_modified is True


async def test_changing_policies_on_a_live_executor_takes_effect(make_ref: Any, gctx: GlobalContext) -> None:
    executor = PluginExecutor()
    refs = [make_ref(fp.Rename)]
    first, _ = await executor.execute(refs, payload(), gctx, "tool_pre_invoke")
    assert first.modified_payload.name == "renamed"
    executor.default_hook_policy = "deny"  # type: ignore[assignment]
    denied, _ = await executor.execute(refs, payload(), gctx, "tool_pre_invoke")
    assert denied.modified_payload is None
    executor.hook_policies["tool_pre_invoke"] = HookPayloadPolicy(writable_fields=frozenset({"args"}))
    filtered, _ = await executor.execute(refs, payload(), gctx, "tool_pre_invoke")
    assert (filtered.modified_payload.name, filtered.modified_payload.args) == ("search", {"renamed": True})
    del executor.hook_policies["tool_pre_invoke"]
    executor.default_hook_policy = "allow"  # type: ignore[assignment]
    again, _ = await executor.execute(refs, payload(), gctx, "tool_pre_invoke")
    assert again.modified_payload.name == "renamed"
    executor.timeout = 0.05  # type: ignore[assignment]
    with pytest.raises(PluginError, match="^Plugin slow exceeded 0.05s timeout$"):
        await executor.execute([make_ref(fp.Sleeper, name="slow", config={"delay": 5})], payload(), gctx,
                               "tool_pre_invoke")
