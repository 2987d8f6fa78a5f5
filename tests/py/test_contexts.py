"""Context tables, private state across hooks, and global-state merge-back (spec §13)."""

from __future__ import annotations

from typing import Any

import fixture_plugins as fp
from cpex.framework import GlobalContext, ToolPostInvokePayload, ToolPreInvokePayload
from cpex.framework.manager import PluginExecutor


async def test_table_keys_are_request_id_plus_uuid(make_ref: Any, gctx: GlobalContext) -> None:
    ref = make_ref(fp.StateWriter, name="w")
    _, table = await PluginExecutor().execute([ref], ToolPreInvokePayload(name="t"), gctx, "tool_pre_invoke")
    assert list(table) == ["req-1" + ref.plugin_ref.uuid]


async def test_state_merges_back_and_later_plugins_see_it(make_ref: Any, gctx: GlobalContext) -> None:
    refs = [make_ref(fp.StateWriter, name="w1"), make_ref(fp.StateWriter, name="w2", priority=200)]
    result, _ = await PluginExecutor().execute(refs, ToolPreInvokePayload(name="t"), gctx, "tool_pre_invoke")
    assert gctx.state == {"w1": "pre", "w2": "pre"}
    assert gctx.metadata == {"meta_w1": 1, "meta_w2": 1}
    assert result.metadata["w2"] == {"seen_global": ["w1"]}


async def test_audit_and_faf_never_write_back(make_ref: Any, gctx: GlobalContext) -> None:
    refs = [make_ref(fp.StateWriter, name="aud", mode="audit"),
            make_ref(fp.StateWriter, name="bg", mode="fire_and_forget")]
    result, table = await PluginExecutor().execute(refs, ToolPreInvokePayload(name="t"), gctx, "tool_pre_invoke")
    await result.wait_for_background_tasks()
    assert gctx.state == {}
    audit_ctx = table["req-1" + refs[0].plugin_ref.uuid]
    assert audit_ctx.global_context.state == {"aud": "pre"}  # visible only in its own entry


async def test_private_state_survives_from_pre_to_post(make_ref: Any, gctx: GlobalContext) -> None:
    pre_ref = make_ref(fp.StateWriter, name="w")
    post_ref = type(pre_ref)("tool_post_invoke", pre_ref.plugin_ref)
    executor = PluginExecutor()
    _, table = await executor.execute([pre_ref], ToolPreInvokePayload(name="t"), gctx, "tool_pre_invoke")
    result, table2 = await executor.execute([post_ref], ToolPostInvokePayload(name="t", result={}), gctx,
                                            "tool_post_invoke", local_contexts=table)
    assert result.metadata == {"w": {"private_at_post": "w-pre"}}
    key = "req-1" + pre_ref.plugin_ref.uuid
    assert table2[key] is table[key]


async def test_without_table_private_state_is_fresh(make_ref: Any, gctx: GlobalContext) -> None:
    pre_ref = make_ref(fp.StateWriter, name="w")
    post_ref = type(pre_ref)("tool_post_invoke", pre_ref.plugin_ref)
    executor = PluginExecutor()
    await executor.execute([pre_ref], ToolPreInvokePayload(name="t"), gctx, "tool_pre_invoke")
    result, _ = await executor.execute([post_ref], ToolPostInvokePayload(name="t", result={}), gctx, "tool_post_invoke")
    assert result.metadata == {"w": {"private_at_post": None}}


async def test_conditions_filter_on_original_payload_and_context(make_ref: Any) -> None:
    from cpex.framework import PluginCondition

    refs = [
        make_ref(fp.Passthrough, name="for_search", conditions=[PluginCondition(tools={"search"})]),
        make_ref(fp.Passthrough, name="for_other", conditions=[PluginCondition(tools={"other"})]),
        make_ref(fp.Passthrough, name="tenant_t1", conditions=[PluginCondition(tenant_ids={"t-1"})]),
        make_ref(fp.Passthrough, name="tenant_t2", conditions=[PluginCondition(tenant_ids={"t-2"})]),
        make_ref(fp.Passthrough, name="user_sub", conditions=[PluginCondition(user_patterns=["alice"])]),
        make_ref(fp.Passthrough, name="either", conditions=[PluginCondition(tools={"zzz"}),
                                                             PluginCondition(server_ids={"srv-1"})]),
        make_ref(fp.Passthrough, name="prompt_only", conditions=[PluginCondition(prompts={"p"})]),
    ]
    fp.CALLS.clear()
    gc = GlobalContext(request_id="r", server_id="srv-1", tenant_id="t-1", user="alice@example.com")
    await PluginExecutor().execute(refs, ToolPreInvokePayload(name="search"), gc, "tool_pre_invoke")
    assert fp.CALLS == ["for_search", "tenant_t1", "user_sub", "either", "prompt_only"]


async def test_plugins_get_private_shallow_copies_of_the_shared_dicts(make_ref: Any) -> None:
    from cpex.framework import PluginContext, PluginResult

    seen: dict[str, Any] = {}

    class Peek(fp.Plugin):
        async def tool_pre_invoke(self, payload: Any, context: PluginContext) -> PluginResult:
            gc = context.global_context
            seen.update(state=gc.state, metadata=gc.metadata, user=gc.user, user_context=gc.user_context)
            gc.user["mutated"] = True  # type: ignore[index]
            gc.state["nested"]["deep"] = "shared"  # shallow: nested objects are the caller's
            return PluginResult()

    from cpex.framework import UserContext

    nested: dict[str, Any] = {}
    caller = GlobalContext(request_id="r", user={"email": "a@b.c"}, user_context=UserContext(user_id="u"),
                           state={"nested": nested}, metadata={"m": 1})
    await PluginExecutor().execute([make_ref(Peek, mode="audit")], ToolPreInvokePayload(name="t"), caller,
                                   "tool_pre_invoke")
    assert type(seen["state"]) is dict and seen["state"] is not caller.state and seen["state"] == {"nested": nested}
    assert type(seen["metadata"]) is dict and seen["metadata"] is not caller.metadata
    assert seen["user"] is not caller.user and caller.user == {"email": "a@b.c"}
    assert seen["user_context"] is caller.user_context
    assert nested == {"deep": "shared"}
