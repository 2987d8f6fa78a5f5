"""Phases, chaining and halts (spec §11.1–§11.3, §11.6, §11.7, §11.9), through the Go core."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

import fixture_plugins as fp
from cpex.framework import GlobalContext, PluginViolationError, ToolPreInvokePayload
from cpex.framework.manager import PluginExecutor


@pytest.fixture(autouse=True)
def _clear_calls() -> None:
    fp.CALLS.clear()
    fp.Recorder.seen = []


def payload(**args: Any) -> ToolPreInvokePayload:
    return ToolPreInvokePayload(name="search", args=args or {"q": "x"})


async def run(refs: list[Any], gctx: GlobalContext, p: Any = None, **kw: Any) -> Any:
    return await PluginExecutor().execute(refs, p or payload(), gctx, "tool_pre_invoke", **kw)


async def test_no_refs_returns_empty_result_and_no_table(gctx: GlobalContext) -> None:
    result, table = await PluginExecutor().execute([], payload(), gctx, "tool_pre_invoke")
    assert table is None
    assert result.continue_processing and result.modified_payload is None and result.executions == []


async def test_phase_order_regardless_of_priority(make_ref: Any, gctx: GlobalContext) -> None:
    refs = [
        make_ref(fp.Passthrough, name="faf", mode="fire_and_forget", priority=1),
        make_ref(fp.Passthrough, name="conc", mode="concurrent", priority=2),
        make_ref(fp.Passthrough, name="audit", mode="audit", priority=3),
        make_ref(fp.Passthrough, name="transform", mode="transform", priority=4),
        make_ref(fp.Passthrough, name="seq", mode="sequential", priority=5),
    ]
    result, _ = await run(refs, gctx)
    await result.wait_for_background_tasks()
    assert fp.CALLS == ["seq", "transform", "audit", "conc", "faf"]
    assert [r.plugin_name for r in result.executions] == ["seq", "transform", "audit", "conc", "faf"]


async def test_priority_ascending_and_stable_on_ties(make_ref: Any, gctx: GlobalContext) -> None:
    refs = [
        make_ref(fp.Passthrough, name="b", priority=20),
        make_ref(fp.Passthrough, name="a1", priority=10),
        make_ref(fp.Passthrough, name="a2", priority=10),
    ]
    await run(refs, gctx)
    assert fp.CALLS == ["a1", "a2", "b"]


async def test_sequential_modifications_chain(make_ref: Any, gctx: GlobalContext) -> None:
    refs = [
        make_ref(fp.SetArg, name="one", priority=1, config={"key": "a", "value": 1}),
        make_ref(fp.SetArg, name="two", priority=2, config={"key": "b", "value": 2}),
    ]
    result, _ = await run(refs, gctx)
    assert result.modified_payload.args == {"q": "x", "a": 1, "b": 2}
    assert result.metadata["two"] == {"saw": {"q": "x", "a": 1}}
    assert [r.payload_modified for r in result.executions] == [True, True]


async def test_sequential_halt_keeps_earlier_changes_and_drops_retry_and_blocker_change(
    make_ref: Any, gctx: GlobalContext
) -> None:
    refs = [
        make_ref(fp.SetArg, name="first", priority=1, config={"key": "a", "value": 1, "retry": 300}),
        make_ref(fp.Block, name="blocker", priority=2),
        make_ref(fp.Passthrough, name="never", priority=3),
        make_ref(fp.Passthrough, name="later_phase", mode="transform"),
    ]
    result, table = await run(refs, gctx)
    assert result.continue_processing is False
    assert result.modified_payload.args == {"q": "x", "a": 1}
    assert result.violation.code == "DENY" and result.violation.plugin_name == "blocker"
    assert result.retry_delay_ms == 0 and result.modified_extensions is None
    assert result.metadata == {"first": {"saw": {"q": "x"}}, "blocker": "blocked"}
    assert "never" not in fp.CALLS and "later_phase" not in fp.CALLS
    blocker = result.executions[-1]
    assert (blocker.requested_allow, blocker.effective_allow, blocker.matched, blocker.applied) == (False, False, True, True)
    assert (blocker.reason, blocker.error_code) == ("Denied", "DENY")
    assert len(table) == 2


async def test_violations_as_exceptions_message_and_records(make_ref: Any, gctx: GlobalContext) -> None:
    refs = [make_ref(fp.Passthrough, name="ok", priority=1), make_ref(fp.Block, name="blocker", priority=2),
            make_ref(fp.Passthrough, name="bg", mode="fire_and_forget")]
    with pytest.raises(PluginViolationError) as info:
        await run(refs, gctx, violations_as_exceptions=True)
    assert str(info.value) == "tool_pre_invoke blocked by plugin blocker: DENY - Denied (not allowed here)"
    assert info.value.violation.plugin_name == "blocker"
    assert [r.plugin_name for r in info.value.executions] == ["ok", "blocker"]
    await asyncio.sleep(0)
    assert "bg" not in fp.CALLS  # fire-and-forget is not scheduled on the raise path


async def test_transform_block_is_suppressed_but_keeps_its_payload(make_ref: Any, gctx: GlobalContext,
                                                                  caplog: pytest.LogCaptureFixture) -> None:
    refs = [make_ref(fp.Block, name="tblock", mode="transform"), make_ref(fp.Passthrough, name="after", mode="transform",
                                                                        priority=200)]
    with caplog.at_level("WARNING", logger="cpex.framework.manager"):
        result, _ = await run(refs, gctx)
    assert result.continue_processing is True and result.violation is None
    assert result.modified_payload.args == {"blocked": True}
    assert result.retry_delay_ms == 0
    assert fp.CALLS == ["tblock", "after"]
    assert any("raised violation" in r.getMessage() for r in caplog.records)


async def test_audit_sees_chain_but_changes_are_discarded(make_ref: Any, gctx: GlobalContext) -> None:
    refs = [
        make_ref(fp.SetArg, name="t", mode="transform", config={"key": "t", "value": 1}),
        make_ref(fp.SetArg, name="aud", mode="audit", config={"key": "audit", "value": 1}),
        make_ref(fp.Block, name="audblock", mode="audit", priority=200),
    ]
    result, _ = await run(refs, gctx)
    assert result.continue_processing is True
    assert result.modified_payload.args == {"q": "x", "t": 1}
    assert result.metadata["aud"] == {"saw": {"q": "x", "t": 1}}  # audit metadata is merged
    assert result.executions[1].payload_modified is False


async def test_concurrent_sees_chain_result_and_modifications_are_discarded(make_ref: Any, gctx: GlobalContext) -> None:
    refs = [
        make_ref(fp.SetArg, name="s", config={"key": "s", "value": 1}),
        make_ref(fp.SetArg, name="c1", mode="concurrent", config={"key": "c1", "value": 1}),
        make_ref(fp.SetArg, name="c2", mode="concurrent", config={"key": "c2", "value": 1}),
    ]
    result, _ = await run(refs, gctx)
    assert result.modified_payload.args == {"q": "x", "s": 1}
    assert result.metadata["c1"] == {"saw": {"q": "x", "s": 1}}
    conc = [r for r in result.executions if r.mode == "concurrent"]
    assert len(conc) == 2 and all(r.duration_ns == 0 and not r.payload_modified for r in conc)


async def test_concurrent_block_halts_and_cancels_slow_siblings(make_ref: Any, gctx: GlobalContext) -> None:
    refs = [
        make_ref(fp.Block, name="fast_block", mode="concurrent"),
        make_ref(fp.Sleeper, name="slow", mode="concurrent", config={"delay": 5}),
        make_ref(fp.Passthrough, name="bg", mode="fire_and_forget"),
    ]
    result, _ = await asyncio.wait_for(run(refs, gctx), 3)
    assert result.continue_processing is False
    assert result.violation.plugin_name == "fast_block"
    names = [r.plugin_name for r in result.executions]
    assert "slow" not in names and names[0] == "fast_block"
    await result.wait_for_background_tasks()
    assert "bg" in fp.CALLS  # fire-and-forget is scheduled at the halt point


async def test_fire_and_forget_gets_the_original_payload(make_ref: Any, gctx: GlobalContext) -> None:
    refs = [make_ref(fp.SetArg, name="s", config={"key": "s", "value": 1}),
            make_ref(fp.Recorder, name="rec", mode="fire_and_forget")]
    result, table = await run(refs, gctx)
    assert len(result.background_tasks) == 1
    assert await result.wait_for_background_tasks() == []
    assert fp.Recorder.seen == [("rec", {"q": "x"})]
    faf = result.executions[-1]
    assert faf.mode == "fire_and_forget" and faf.status == "completed" and faf.effective_allow
    assert len(table) == 2


async def test_fire_and_forget_failure_is_returned_not_raised(make_ref: Any, gctx: GlobalContext) -> None:
    refs = [make_ref(fp.Boom, name="bgboom", mode="fire_and_forget")]
    result, _ = await run(refs, gctx)
    errors = await result.wait_for_background_tasks()
    assert len(errors) == 1 and errors[0].plugin_name == "bgboom" and "boom" in errors[0].message


async def test_disabled_mode_refs_are_skipped(make_ref: Any, gctx: GlobalContext) -> None:
    refs = [make_ref(fp.Passthrough, name="off", mode="disabled")]
    result, table = await run(refs, gctx)
    assert fp.CALLS == [] and table == {} and result.executions == []


async def test_decorated_hook_and_extensions_arg(make_ref: Any, gctx: GlobalContext) -> None:
    from cpex.framework.extensions import Extensions

    refs = [make_ref(fp.Decorated, name="deco"), make_ref(fp.ExtensionsAware, name="ext", priority=200)]
    result, _ = await run(refs, gctx, extensions=Extensions())
    assert fp.CALLS == ["deco", "ext:True"]
    assert result.metadata == {"decorated": True, "ext_seen": True}


async def test_concurrent_invocations_do_not_interfere(make_ref: Any) -> None:
    refs = [make_ref(fp.SetArg, name="s", config={"key": "s", "value": 1}),
            make_ref(fp.Sleeper, name="nap", config={"delay": 0.001})]
    executor = PluginExecutor()

    async def one(i: int) -> Any:
        gc = GlobalContext(request_id=f"r{i}")
        res, _ = await executor.execute(refs, payload(n=i), gc, "tool_pre_invoke")
        return res.modified_payload.args

    outs = await asyncio.gather(*(one(i) for i in range(30)))
    assert outs == [{"n": i, "s": 1} for i in range(30)]


# spec §11.3, one row per mode: (halts, violation kept, modification applied, metadata merged,
# global state merged back) for a plugin that blocks, and whether its change is applied when
# it does not block.
MATRIX = {
    "sequential": (True, True, False, True, True, True),
    "transform": (False, False, True, True, True, True),
    "audit": (False, False, False, True, False, False),
    "concurrent": (True, True, False, True, True, False),
    "fire_and_forget": (False, False, False, False, False, False),
}


@pytest.mark.parametrize("mode", list(MATRIX))
async def test_mode_capability_matrix(make_ref: Any, mode: str) -> None:
    halts, keeps_violation, applies_when_blocking, merges_meta, merges_state, applies = MATRIX[mode]
    gc = GlobalContext(request_id="r")
    result, _ = await run([make_ref(fp.Probe, name="probe", mode=mode, config={"block": True})], gc)
    await result.wait_for_background_tasks()
    assert result.continue_processing is (not halts)
    assert (result.violation is not None) is keeps_violation
    assert (result.modified_payload is not None) is applies_when_blocking
    assert (result.metadata == {"md": "probe"}) is merges_meta
    assert (gc.state == {"written_by": "probe"}) is merges_state
    gc = GlobalContext(request_id="r")
    result, _ = await run([make_ref(fp.Probe, name="probe", mode=mode)], gc)
    await result.wait_for_background_tasks()
    assert result.continue_processing and result.violation is None
    assert (result.modified_payload is not None and result.modified_payload.args == {"changed_by": "probe"}) is applies
