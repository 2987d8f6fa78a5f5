"""The concurrent phase runs each call in a task of its own (run.py, _concurrent), as
upstream: context variables are private to each call, completions are reported in the
order the calls finished, a suspended hook is still timed out, and a hook's own
asyncio.timeout (wait_for's on Python 3.12) binds to its own task, never the caller's.
"""

from __future__ import annotations

import asyncio
import contextvars
from typing import Any

import fixture_plugins as fp
from cpex.framework import GlobalContext, PluginContext, PluginResult, ToolPreInvokePayload
from cpex.framework.manager import PluginExecutor

SEEN: contextvars.ContextVar[str] = contextvars.ContextVar("test_concurrent_inline_seen", default="")
TASKS: list[tuple[str, Any]] = []


class SetsVar(fp.Plugin):
    """Sets SEEN to its name, optionally after yielding; reports what it saw before."""

    async def tool_pre_invoke(self, payload: Any, context: PluginContext) -> PluginResult:
        before = SEEN.get()
        SEEN.set(self.name)
        TASKS.append((self.name, asyncio.current_task()))
        if (self.config.config or {}).get("yield"):
            await asyncio.sleep(0)
        return PluginResult(metadata={"k": self.name, f"saw_{self.name}": before, f"after_{self.name}": SEEN.get()})


class Hangs(fp.Plugin):
    async def tool_pre_invoke(self, payload: Any, context: PluginContext) -> PluginResult:
        await asyncio.Event().wait()
        return PluginResult()


async def _run(refs: list[Any], timeout: float = 30) -> Any:
    TASKS.clear()
    result, _ = await PluginExecutor(timeout=timeout).execute(
        refs, ToolPreInvokePayload(name="t", args={}), GlobalContext(request_id="r1"), "tool_pre_invoke"
    )
    return result


async def test_each_concurrent_call_has_a_task_of_its_own_created_in_order(make_ref: Any) -> None:
    refs = [make_ref(SetsVar, name="A", mode="concurrent", priority=1),
            make_ref(SetsVar, name="Y", mode="concurrent", priority=2, config={"yield": True}),
            make_ref(SetsVar, name="B", mode="concurrent", priority=3)]
    result = await _run(refs)
    tasks = dict(TASKS)
    me = asyncio.current_task()
    assert [name for name, _ in TASKS] == ["A", "Y", "B"], "first steps run in creation order"
    assert me not in tasks.values() and len(set(map(id, tasks.values()))) == 3
    # the one that suspended finished last: its metadata is merged last, as upstream's
    # as_completed order gives, and its record comes last
    assert result.metadata["k"] == "Y"
    assert [r.plugin_name for r in result.executions] == ["A", "B", "Y"]


class OwnTimeout(fp.Plugin):
    """Times out in its own asyncio.timeout, long before the executor's timeout."""

    async def tool_pre_invoke(self, payload: Any, context: PluginContext) -> PluginResult:
        async with asyncio.timeout(0.001):
            await asyncio.sleep(5)
        return PluginResult()


async def test_a_hooks_own_timeout_is_its_own_not_the_callers(make_ref: Any) -> None:
    # A first step run outside the task that runs the rest would bind the hook's
    # asyncio.timeout to the caller, whose task it would then cancel.
    refs = [make_ref(OwnTimeout, name="T", mode="concurrent", priority=1, on_error="ignore"),
            make_ref(SetsVar, name="A", mode="concurrent", priority=2)]
    result = await _run(refs)
    statuses = {r.plugin_name: r.status.value for r in result.executions}
    assert statuses == {"T": "timeout", "A": "completed"}
    assert result.continue_processing
    await asyncio.sleep(0.01)  # the caller was not cancelled


async def test_context_variables_stay_private_to_each_concurrent_call(make_ref: Any) -> None:
    refs = [make_ref(SetsVar, name="A", mode="concurrent", priority=1),
            make_ref(SetsVar, name="Y", mode="concurrent", priority=2, config={"yield": True}),
            make_ref(SetsVar, name="B", mode="concurrent", priority=3)]
    token = SEEN.set("caller")
    try:
        result = await _run(refs)
        assert SEEN.get() == "caller"  # no plugin's write reached the caller
    finally:
        SEEN.reset(token)
    md = result.metadata
    # each saw the caller's value, not another plugin's; the one that suspended kept its own
    assert (md["saw_A"], md["saw_Y"], md["saw_B"]) == ("caller", "caller", "caller")
    assert (md["after_A"], md["after_Y"], md["after_B"]) == ("A", "Y", "B")


async def test_a_concurrent_hook_that_suspends_is_still_timed_out(make_ref: Any) -> None:
    refs = [make_ref(SetsVar, name="A", mode="concurrent", priority=1, on_error="ignore"),
            make_ref(Hangs, name="H", mode="concurrent", priority=2, on_error="ignore")]
    result = await _run(refs, timeout=0.05)
    statuses = {r.plugin_name: r.status.value for r in result.executions}
    assert statuses == {"A": "completed", "H": "timeout"}
    assert result.continue_processing


async def test_a_failing_concurrent_hook_is_reported_as_before(make_ref: Any, caplog: Any) -> None:
    refs = [make_ref(fp.Boom, name="E", mode="concurrent", priority=1, on_error="ignore"),
            make_ref(SetsVar, name="A", mode="concurrent", priority=2)]
    result = await _run(refs)
    # the error of a hook that raised in its first step reaches the core as an error
    # outcome: it applies on_error (ignore: logged, the call goes on)
    assert [r.plugin_name for r in result.executions] == ["E", "A"]
    assert result.continue_processing and result.metadata["k"] == "A"
    assert any("Plugin E failed on tool_pre_invoke (on_error=ignore): ValueError('boom')" in r.getMessage()
               for r in caplog.records)
