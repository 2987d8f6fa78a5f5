"""Execution records as the caller sees them (spec §4.7, §11.10), one test per row of the tables."""

from __future__ import annotations

from typing import Any

import pytest

import fixture_plugins as fp
from cpex.framework import (
    GlobalContext,
    PluginContext,
    PluginError,
    PluginResult,
    PluginViolation,
    PluginViolationError,
    ToolHookType,
    ToolPreInvokePayload,
)
from cpex.framework.extensions import Extensions
from cpex.framework.manager import PluginExecutor
from cpex.framework.models import ControlExecutionRecord, ControlExecutionStatus, PluginMode, _truncate


def payload() -> ToolPreInvokePayload:
    return ToolPreInvokePayload(name="search", args={"q": "x"})


def flags(rec: ControlExecutionRecord) -> tuple[Any, ...]:
    return (str(rec.status), rec.requested_allow, rec.effective_allow, rec.matched, rec.applied,
            rec.payload_modified, rec.extensions_modified)


async def run(refs: list[Any], gctx: GlobalContext, **kw: Any) -> Any:
    timeout = kw.pop("timeout", 30)
    result, _ = await PluginExecutor(timeout=timeout).execute(refs, payload(), gctx, "tool_pre_invoke", **kw)
    return result


class NoViolationBlock(fp.Plugin):
    async def tool_pre_invoke(self, payload: Any, context: PluginContext) -> PluginResult:
        return PluginResult(continue_processing=False)


class AllowWithViolation(fp.Plugin):
    """Allows but still attaches a violation (concurrent records copy it even on allow)."""

    async def tool_pre_invoke(self, payload: Any, context: PluginContext) -> PluginResult:
        return PluginResult(violation=PluginViolation(reason="fyi", description="d", code="NOTE"))


class NewExtensions(fp.Plugin):
    async def tool_pre_invoke(self, payload: Any, context: PluginContext, extensions: Any) -> PluginResult:
        return PluginResult(modified_extensions=Extensions(custom={"by": self.name}))


class ReturnsInput(fp.Plugin):
    """Returns the very payload object it was given as its modification."""

    async def tool_pre_invoke(self, payload: Any, context: PluginContext) -> PluginResult:
        return PluginResult(modified_payload=payload)


async def test_identity_fields_come_from_the_trusted_config(make_ref: Any, gctx: GlobalContext) -> None:
    ref = make_ref(fp.Passthrough, name="ident", priority=7, config={"b": 1, "a": {"secret": "v"}})
    rec = (await run([ref], gctx)).executions[0]
    assert rec.plugin_id == ref.plugin_ref.uuid and rec.plugin_name == "ident"
    assert rec.plugin_kind == "fixture_plugins.Passthrough"
    assert rec.hook_name == "tool_pre_invoke" and rec.mode == PluginMode.SEQUENTIAL
    assert rec.config_keys == ["b", "a"]  # names only, in order; values never stored
    assert isinstance(rec.status, ControlExecutionStatus) and isinstance(rec.mode, PluginMode)


async def test_hook_name_of_an_enum_hook_type_is_its_value(make_ref: Any, gctx: GlobalContext) -> None:
    result, _ = await PluginExecutor().execute([make_ref(fp.Passthrough)], payload(), gctx,
                                               ToolHookType.TOOL_PRE_INVOKE)
    assert result.executions[0].hook_name == "tool_pre_invoke"


async def test_long_kind_and_many_config_keys_are_bounded(make_ref: Any, gctx: GlobalContext) -> None:
    from cpex.framework.base import HookRef, PluginRef
    from cpex.framework.models import PluginConfig

    kind = "fixture_plugins." + "é" * 200 + ".Passthrough"
    config = {f"k{i:03d}" + "x" * 300: i for i in range(80)}
    cfg = PluginConfig(name="long", kind=kind, hooks=["tool_pre_invoke"], config=config)
    ref = HookRef("tool_pre_invoke", PluginRef(fp.Passthrough(cfg)))
    rec = (await run([ref], gctx)).executions[0]
    assert rec.plugin_kind == _truncate(kind) and len(rec.plugin_kind.encode()) <= 256
    assert len(rec.config_keys) == 64
    assert rec.config_keys == [_truncate(k) for k in list(config)[:64]]


async def test_clean_allow(make_ref: Any, gctx: GlobalContext) -> None:
    rec = (await run([make_ref(fp.Passthrough)], gctx)).executions[0]
    assert flags(rec) == ("completed", True, True, False, False, False, False)
    assert rec.reason is None and rec.error_code is None and rec.duration_ns > 0


async def test_allow_with_accepted_modification(make_ref: Any, gctx: GlobalContext) -> None:
    rec = (await run([make_ref(fp.SetArg)], gctx)).executions[0]
    assert flags(rec) == ("completed", True, True, True, True, True, False)


async def test_returning_the_current_payload_object_is_not_a_modification(make_ref: Any, gctx: GlobalContext) -> None:
    # The first plugin's object becomes the current payload; the second hands that very
    # object back: accepted, but nothing changed (identity), so payload_modified stays False.
    refs = [make_ref(fp.SetArg, name="s"), make_ref(ReturnsInput, name="same", priority=200)]
    result = await run(refs, gctx)
    assert [r.payload_modified for r in result.executions] == [True, False]
    assert result.executions[1].matched is False
    assert result.modified_payload.args == {"q": "x", "k": "s"}


async def test_handing_back_the_original_object_is_a_modification(make_ref: Any, gctx: GlobalContext) -> None:
    original = payload()
    result, _ = await PluginExecutor().execute([make_ref(ReturnsInput, name="echo")], original, gctx,
                                               "tool_pre_invoke")
    assert result.modified_payload is original  # nothing was current: None -> the object
    assert result.executions[0].payload_modified is True


async def test_sequential_block_with_and_without_violation(make_ref: Any, gctx: GlobalContext) -> None:
    rec = (await run([make_ref(fp.Block)], gctx)).executions[0]
    assert flags(rec) == ("completed", False, False, True, True, False, False)
    assert (rec.reason, rec.error_code) == ("Denied", "DENY")
    rec = (await run([make_ref(NoViolationBlock)], gctx)).executions[0]
    assert flags(rec) == ("completed", False, False, True, True, False, False)
    assert (rec.reason, rec.error_code) == (None, None)


async def test_transform_block_is_recorded_as_a_converted_allow(make_ref: Any, gctx: GlobalContext) -> None:
    rec = (await run([make_ref(fp.Block, mode="transform")], gctx)).executions[0]
    # the converted result still carries the transform's modification
    assert flags(rec) == ("completed", True, True, True, True, True, False)
    assert rec.reason is None and rec.error_code is None


@pytest.mark.parametrize("mode,applied", [("sequential", True), ("transform", False), ("audit", False)])
async def test_timeout_under_ignore(make_ref: Any, gctx: GlobalContext, mode: str, applied: bool) -> None:
    ref = make_ref(fp.Sleeper, name="slow", mode=mode, on_error="ignore", config={"delay": 5})
    rec = (await run([ref], gctx, timeout=0.05)).executions[0]
    assert flags(rec) == ("timeout", None, True, None, applied, False, False)
    assert (rec.reason, rec.error_code) == ("Plugin slow exceeded 0.05s timeout", "plugin_timeout")


async def test_swallowed_exception_looks_like_a_clean_allow(make_ref: Any, gctx: GlobalContext) -> None:
    rec = (await run([make_ref(fp.Boom, on_error="disable")], gctx)).executions[0]
    assert flags(rec) == ("completed", True, True, False, False, False, False)


async def test_violation_exception_records(make_ref: Any, gctx: GlobalContext) -> None:
    refs = [make_ref(fp.Passthrough, name="first"), make_ref(fp.RaisesViolation, name="raiser", priority=200)]
    with pytest.raises(PluginViolationError) as info:
        await run(refs, gctx)
    assert str(info.value) == "raised by plugin"  # the plugin's own exception, re-raised
    first, denial = info.value.executions
    assert first.plugin_name == "first"
    assert flags(denial) == ("completed", False, False, True, True, False, False)
    assert (denial.reason, denial.error_code) == ("r", "C")


async def test_violation_exception_without_violation(make_ref: Any, gctx: GlobalContext) -> None:
    with pytest.raises(PluginViolationError) as info:
        await run([make_ref(NoViolationBlock, name="nv")], gctx, violations_as_exceptions=True)
    assert str(info.value) == "tool_pre_invoke blocked by plugin"
    denial = info.value.executions[0]
    assert denial.reason == "tool_pre_invoke blocked by plugin" and denial.error_code == "plugin_violation"


async def test_plugin_error_propagates_without_records(make_ref: Any, gctx: GlobalContext) -> None:
    with pytest.raises(PluginError) as info:
        await run([make_ref(fp.Boom)], gctx)
    assert not hasattr(info.value, "executions")


async def test_extensions_records_and_audit_extensions(make_ref: Any, gctx: GlobalContext) -> None:
    refs = [make_ref(NewExtensions, name="ext_seq"), make_ref(NewExtensions, name="ext_audit", mode="audit")]
    result = await run(refs, gctx, extensions=Extensions())
    seq, audit = result.executions
    assert flags(seq) == ("completed", True, True, True, True, False, True)
    # an audit plugin's extensions are recorded as a change although they are dropped
    assert flags(audit) == ("completed", True, True, True, True, False, True)
    assert result.modified_extensions.custom == {"by": "ext_seq"}


async def test_concurrent_records(make_ref: Any, gctx: GlobalContext) -> None:
    refs = [make_ref(AllowWithViolation, name="note", mode="concurrent"),
            make_ref(fp.SetArg, name="mod", mode="concurrent", priority=200)]
    result = await run(refs, gctx)
    by_name = {r.plugin_name: r for r in result.executions}
    assert flags(by_name["note"]) == ("completed", True, True, False, False, False, False)
    assert (by_name["note"].reason, by_name["note"].error_code) == ("fyi", "NOTE")
    assert flags(by_name["mod"]) == ("completed", True, True, False, False, False, False)
    assert all(r.duration_ns == 0 for r in result.executions)


async def test_concurrent_timeout_record(make_ref: Any, gctx: GlobalContext) -> None:
    refs = [make_ref(fp.Sleeper, name="slow", mode="concurrent", on_error="ignore", config={"delay": 5}),
            make_ref(fp.Passthrough, name="quick", mode="concurrent", priority=200)]
    result = await run(refs, gctx, timeout=0.05)
    assert [r.plugin_name for r in result.executions] == ["quick", "slow"]  # completion order
    slow = result.executions[1]
    assert flags(slow) == ("timeout", None, True, None, False, False, False)
    assert (slow.reason, slow.error_code) == ("Plugin slow exceeded 0.05s timeout", "plugin_timeout")
    assert result.continue_processing


async def test_concurrent_block_record(make_ref: Any, gctx: GlobalContext) -> None:
    result = await run([make_ref(fp.Block, name="cb", mode="concurrent")], gctx)
    rec = result.executions[0]
    assert flags(rec) == ("completed", False, False, True, True, False, False)
    assert (rec.reason, rec.error_code, rec.duration_ns) == ("Denied", "DENY", 0)


async def test_fire_and_forget_record_is_written_at_spawn(make_ref: Any, gctx: GlobalContext) -> None:
    result = await run([make_ref(fp.Boom, name="bg", mode="fire_and_forget")], gctx)
    rec = result.executions[0]
    assert rec.mode == "fire_and_forget"
    assert flags(rec) == ("completed", None, True, None, False, False, False) and rec.duration_ns == 0
    await result.wait_for_background_tasks()


async def test_records_follow_execution_order_and_skip_filtered(make_ref: Any, gctx: GlobalContext) -> None:
    from cpex.framework import PluginCondition

    refs = [
        make_ref(fp.Passthrough, name="aud", mode="audit", priority=1),
        make_ref(fp.Passthrough, name="skipped", conditions=[PluginCondition(tools={"other"})]),
        make_ref(fp.Passthrough, name="s2", priority=50),
        make_ref(fp.Passthrough, name="s1", priority=10),
        make_ref(fp.Passthrough, name="t", mode="transform", priority=0),
    ]
    result = await run(refs, gctx)
    assert [r.plugin_name for r in result.executions] == ["s1", "s2", "t", "aud"]


async def test_result_objects_are_ordinary_valid_models(make_ref: Any, gctx: GlobalContext) -> None:
    from cpex.framework.models import GlobalContext as GC
    from cpex.framework.models import PluginContext as PC

    refs = [make_ref(fp.StateWriter, name="w"), make_ref(fp.SetArg, name="s", priority=200)]
    result, table = await PluginExecutor().execute(refs, payload(), gctx, "tool_pre_invoke")
    for rec in result.executions:
        assert ControlExecutionRecord.model_validate(rec.model_dump()) == rec
        assert repr(rec).startswith("ControlExecutionRecord(") and rec.model_fields_set == set(rec.model_dump())
    dumped = result.model_dump()
    assert list(dumped) == ["continue_processing", "modified_payload", "modified_extensions", "violation",
                            "metadata", "denial_metadata", "http_headers", "retry_delay_ms", "executions"]
    assert dumped["denial_metadata"] is None
    assert dumped["executions"][0]["mode"] == "sequential" and dumped["metadata"]["s"] == {"saw": {"q": "x"}}
    ctx = next(iter(table.values()))
    assert isinstance(ctx, PC) and isinstance(ctx.global_context, GC)
    assert ctx.global_context.request_id == "req-1" and ctx.global_context.state == {"w": "pre"}
    assert ctx.model_fields_set == {"global_context"}
    assert GC.model_validate(ctx.global_context.model_dump()).tenant_id == "t-1"
    ctx.set_state("k", 1)
    assert ctx.get_state("k") == 1 and not ctx.is_empty()
