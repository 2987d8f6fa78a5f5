"""The concurrent phase reports completions in the order the tasks finished (issue 10,
item 7), as upstream consumes them with asyncio.as_completed.

Plugins that never await (every Rust/PyO3 plugin) all finish in the loop turn that
starts them, in the order they were started: the first of them to block halts the call,
whatever order a set of finished tasks would have. Expected values were checked against
upstream cpex 0.1.4.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from typing import Any

import fixture_plugins as fp
from cpex.framework import GlobalContext, PluginContext, PluginResult, PluginViolation, ToolPreInvokePayload
from cpex.framework.manager import PluginExecutor

CALLS = 40


class Blocker(fp.Plugin):
    """Blocks at once, without ever awaiting; the violation names the plugin."""

    async def tool_pre_invoke(self, payload: Any, context: PluginContext) -> PluginResult:
        return PluginResult(continue_processing=False,
                            violation=PluginViolation(reason=self.name, description="d", code=self.name.upper()))


class Allow(fp.Plugin):
    async def tool_pre_invoke(self, payload: Any, context: PluginContext) -> PluginResult:
        return PluginResult()


class YieldThen(fp.Plugin):
    """Yields to the loop config.yields times, then allows or blocks (config.block)."""

    async def tool_pre_invoke(self, payload: Any, context: PluginContext) -> PluginResult:
        cfg = self.config.config or {}
        for _ in range(cfg.get("yields", 1)):
            await asyncio.sleep(0)
        if cfg.get("block"):
            return PluginResult(continue_processing=False,
                                violation=PluginViolation(reason=self.name, description="d", code="Y"))
        return PluginResult()


async def _gathered(refs: list[Any]) -> Counter[tuple[Any, ...]]:
    executor = PluginExecutor(timeout=30)

    async def one(k: int) -> tuple[Any, ...]:
        result, _ = await executor.execute(refs, ToolPreInvokePayload(name="t", args={}),
                                           GlobalContext(request_id=f"r{k}"), "tool_pre_invoke")
        halted_by = result.violation.plugin_name if result.violation else None
        return halted_by, tuple((r.plugin_name, r.status.value, r.effective_allow) for r in result.executions)

    return Counter(await asyncio.gather(*(one(k) for k in range(CALLS))))


async def test_the_first_blocker_to_finish_halts_every_call(make_ref: Any) -> None:
    refs = [make_ref(Blocker, name="A", mode="concurrent", priority=10),
            make_ref(Blocker, name="B", mode="concurrent", priority=20)]
    outcomes = await _gathered(refs)
    assert outcomes == Counter({("A", (("A", "completed", False),)): CALLS})


async def test_records_follow_completion_order(make_ref: Any) -> None:
    refs = [make_ref(Allow, name="C1", mode="concurrent", priority=5),
            make_ref(Blocker, name="A", mode="concurrent", priority=10),
            make_ref(Blocker, name="B", mode="concurrent", priority=20),
            make_ref(Allow, name="C2", mode="concurrent", priority=30)]
    outcomes = await _gathered(refs)
    assert outcomes == Counter({("A", (("C1", "completed", True), ("A", "completed", False))): CALLS})


async def test_a_plugin_that_awaits_finishes_after_those_that_do_not(make_ref: Any) -> None:
    refs = [make_ref(YieldThen, name="Y2", mode="concurrent", priority=1, config={"yields": 2}),
            make_ref(Allow, name="C1", mode="concurrent", priority=5),
            make_ref(YieldThen, name="Y1", mode="concurrent", priority=2, config={"yields": 1}),
            make_ref(Allow, name="C2", mode="concurrent", priority=30)]
    outcomes = await _gathered(refs)
    expected = (None, (("C1", "completed", True), ("C2", "completed", True),
                       ("Y1", "completed", True), ("Y2", "completed", True)))
    assert outcomes == Counter({expected: CALLS})


async def test_an_earlier_priority_that_awaits_loses_to_a_blocker_that_does_not(make_ref: Any) -> None:
    refs = [make_ref(YieldThen, name="Y", mode="concurrent", priority=1, config={"yields": 1, "block": True}),
            make_ref(Blocker, name="A", mode="concurrent", priority=10),
            make_ref(Blocker, name="B", mode="concurrent", priority=20)]
    outcomes = await _gathered(refs)
    assert outcomes == Counter({("A", (("A", "completed", False),)): CALLS})
