"""The rule for running Go work on or off the event loop follows the stall it is expected
to cause (pybind/offloop.go, docs/protocol.md ``async``), not a fixed payload size: the
four built-in guards go off the loop on a 64 KB payload already (a 256 KiB threshold
kept them on it, stalling the loop for milliseconds), never on a trivial one (payloads stay under the 1,000,000-byte size guard). Not timed:
the first call of a fresh manager is decided by the prior cost, the next ones by what was
measured, and both sides of the test are far from the budget."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest

from cpex.framework import GlobalContext, TenantPluginManager, ToolPreInvokePayload, _gowait
from offloop_spy import OffLoopSpy

GUARDS = Path(__file__).resolve().parents[2] / "bench" / "configs" / "s4_guards_builtin.yaml"


@pytest.fixture
def spy(monkeypatch: pytest.MonkeyPatch) -> OffLoopSpy:
    s = OffLoopSpy()
    monkeypatch.setattr(_gowait, "run_off_loop", s)
    return s


def text(size: int) -> str:
    words = "the analysts compare quarterly figures contact alice@example.com crap ".split()
    out, n, i = [], 0, 0
    while n < size:
        w = words[i % len(words)]
        out.append(w)
        n += len(w) + 1
        i += 1
    return " ".join(out)[:size]


async def call(manager: TenantPluginManager, args: dict[str, Any]) -> Any:
    result, _ = await manager.invoke_hook(
        "tool_pre_invoke", ToolPreInvokePayload(name="ingest", args=args), GlobalContext(request_id="r"))
    return result


@pytest.mark.parametrize("size", [64 << 10, 900_000], ids=["64KB", "900KB"])
async def test_a_guard_chain_on_a_large_payload_runs_off_the_loop(spy: OffLoopSpy, size: int) -> None:
    manager = TenantPluginManager(config=str(GUARDS))
    await manager.initialize()
    try:
        args = {"doc": text(size)}
        first = await call(manager, args)
        assert spy.calls == 1, "the first call, on the prior cost"
        second = await call(manager, args)
        if size > 64 << 10:  # no machine scans 900 KB through four guards within the budget
            assert spy.calls == 2, "and once the cost was measured"
        assert first.continue_processing and second.continue_processing
        assert "crud" in first.modified_payload.args["doc"]
        assert "[REDACTED]" in first.modified_payload.args["doc"]
    finally:
        await manager.shutdown()


async def test_a_guard_chain_on_a_trivial_payload_stays_on_the_loop(spy: OffLoopSpy) -> None:
    manager = TenantPluginManager(config=str(GUARDS))
    await manager.initialize()
    try:
        await call(manager, {"doc": text(900_000)})  # teaches the core the chain's cost
        assert spy.calls == 1
        for _ in range(3):
            result = await call(manager, {"q": "what crap"})
            assert result.modified_payload.args == {"q": "what crud"}
        assert spy.calls == 1, "a trivial payload is a plain call"
    finally:
        await manager.shutdown()


async def test_the_loop_keeps_running_while_a_large_guard_call_is_in_flight(spy: OffLoopSpy) -> None:
    manager = TenantPluginManager(config=str(GUARDS))
    await manager.initialize()
    try:
        ticks = 0
        done = asyncio.Event()

        async def ticker() -> None:
            nonlocal ticks
            while not done.is_set():
                ticks += 1
                await asyncio.sleep(0)

        t = asyncio.create_task(ticker())
        await asyncio.sleep(0)
        before = ticks
        await call(manager, {"doc": text(900_000)})
        done.set()
        await t
        assert ticks > before + 1, "other tasks ran while the guards scanned 900 KB"
    finally:
        await manager.shutdown()


async def test_direct_calls_of_a_go_guard_follow_the_threshold_each_answer_carries(spy: OffLoopSpy) -> None:
    # invoke_hook_for_plugin on a Go plugin: the first call is decided by the threshold
    # the plugin was created with, later ones by the one each answer carries (pybind
    # GoPluginInvoke "async"), measured from the plugin's own calls.
    manager = TenantPluginManager(config=str(GUARDS))
    await manager.initialize()
    try:
        big = ToolPreInvokePayload(name="ingest", args={"doc": text(900_000)})
        small = ToolPreInvokePayload(name="ingest", args={"q": "what crap"})
        for expected in (1, 2):
            result = await manager.invoke_hook_for_plugin("regex_replace", "tool_pre_invoke", big, GlobalContext(request_id="d"))
            assert "crud" in result.modified_payload.args["doc"]
            assert spy.calls == expected
        for _ in range(3):
            result = await manager.invoke_hook_for_plugin("regex_replace", "tool_pre_invoke", small, GlobalContext(request_id="d"))
            assert result.modified_payload.args == {"q": "what crud"}
        assert spy.calls == 2, "a trivial payload is a plain call"
    finally:
        await manager.shutdown()
