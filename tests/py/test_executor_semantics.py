"""More rules of spec §11–§14 seen from Python: extensions, the concurrent phase, execute_plugin on
its own, isolation of RootModel payloads, fire-and-forget contexts, conditions."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

import fixture_plugins as fp
from cpex.framework import (
    GlobalContext,
    HttpHeaderPayload,
    PluginCondition,
    PluginContext,
    PluginError,
    PluginResult,
    PluginViolation,
    PluginViolationError,
    ToolPreInvokePayload,
)
from cpex.framework.extensions import Extensions
from cpex.framework.manager import PluginExecutor, PluginTimeoutError


@pytest.fixture(autouse=True)
def _clear_calls() -> None:
    fp.CALLS.clear()


def payload(**args: Any) -> ToolPreInvokePayload:
    return ToolPreInvokePayload(name="search", args=args or {"q": "x"})


async def run(refs: list[Any], gctx: GlobalContext, p: Any = None, hook: str = "tool_pre_invoke", **kw: Any) -> Any:
    executor = kw.pop("executor", None) or PluginExecutor(timeout=kw.pop("timeout", 30))
    return await executor.execute(refs, p if p is not None else payload(), gctx, hook, **kw)


class ExtWriter(fp.Plugin):
    """Returns new extensions (custom={"by": name}); may block or continue per config."""

    async def tool_pre_invoke(self, payload: Any, context: PluginContext, extensions: Any) -> PluginResult:
        fp.CALLS.append(f"{self.name}:{sorted((extensions.custom or {}).items()) if extensions else None}")
        block = (self.config.config or {}).get("block", False)
        return PluginResult(continue_processing=not block, modified_extensions=Extensions(custom={"by": self.name}),
                            retry_delay_ms=(self.config.config or {}).get("retry", 0))


class Capabilities(fp.Plugin):
    async def tool_pre_invoke(self, payload: Any, context: PluginContext, extensions: Any) -> PluginResult:
        return PluginResult(metadata={"http": extensions.http is not None, "custom": extensions.custom})


async def test_modified_extensions_last_writer_wins_and_audit_is_dropped(make_ref: Any, gctx: GlobalContext) -> None:
    refs = [make_ref(ExtWriter, name="s1"), make_ref(ExtWriter, name="t1", mode="transform"),
            make_ref(ExtWriter, name="a1", mode="audit"), make_ref(ExtWriter, name="c1", mode="concurrent")]
    result, _ = await run(refs, gctx, extensions=Extensions(custom={"in": 1}))
    assert result.modified_extensions.custom == {"by": "t1"}
    # every plugin is handed the caller's extensions (filtered), never another plugin's output
    assert fp.CALLS == ["s1:[('in', 1)]", "t1:[('in', 1)]", "a1:[('in', 1)]", "c1:[('in', 1)]"]


async def test_transform_that_blocks_loses_its_extensions_and_retry(make_ref: Any, gctx: GlobalContext) -> None:
    refs = [make_ref(ExtWriter, name="s1", config={"retry": 50}),
            make_ref(ExtWriter, name="tblock", mode="transform", config={"block": True, "retry": 900})]
    result, _ = await run(refs, gctx, extensions=Extensions())
    assert result.continue_processing and result.modified_extensions.custom == {"by": "s1"}
    assert result.retry_delay_ms == 50


async def test_halt_drops_extensions(make_ref: Any, gctx: GlobalContext) -> None:
    refs = [make_ref(ExtWriter, name="s1"), make_ref(fp.Block, name="stop", priority=200)]
    result, _ = await run(refs, gctx, extensions=Extensions())
    assert result.continue_processing is False and result.modified_extensions is None


async def test_two_argument_hooks_never_see_extensions_and_capabilities_filter(make_ref: Any,
                                                                              gctx: GlobalContext) -> None:
    from cpex.framework.extensions import HttpExtension

    ext = Extensions(custom={"c": 1}, http=HttpExtension(headers={"x-a": "1"}))
    refs = [make_ref(Capabilities, name="blind"),
            make_ref(Capabilities, name="reader", priority=200, capabilities=["read_headers"])]
    result, _ = await run(refs, gctx, extensions=ext)
    # later plugins overwrite equal metadata keys: the reader (with the capability) ran last
    assert result.metadata == {"http": True, "custom": {"c": 1}}
    blind_only, _ = await run(refs[:1], gctx, extensions=ext)
    assert blind_only.metadata == {"http": False, "custom": {"c": 1}}


async def test_violation_error_raised_by_a_hook_ignores_on_error(make_ref: Any, gctx: GlobalContext) -> None:
    with pytest.raises(PluginViolationError, match="^raised by plugin$"):
        await run([make_ref(fp.RaisesViolation, on_error="ignore")], gctx)


async def test_plugin_error_under_ignore_continues(make_ref: Any, gctx: GlobalContext) -> None:
    refs = [make_ref(fp.RaisesPluginError, name="pe", on_error="ignore"), make_ref(fp.Passthrough, priority=200)]
    result, _ = await run(refs, gctx)
    assert result.continue_processing and fp.CALLS == ["Passthrough"]


async def test_timeout_under_disable_runtime_disables(make_ref: Any, gctx: GlobalContext) -> None:
    executor = PluginExecutor(timeout=0.05)  # type: ignore[arg-type]
    refs = [make_ref(fp.Sleeper, name="slow", on_error="disable", config={"delay": 5})]
    result, _ = await run(refs, gctx, executor=executor)
    assert result.executions[0].status == "timeout"
    assert executor._runtime_disabled == {"slow"}
    again, table = await run(refs, gctx, executor=executor)
    assert again.executions == [] and table == {}


# -- concurrent phase -----------------------------------------------------------------------


class Gauge(fp.Plugin):
    """Tracks how many of its kind run at once (yields to the loop while inside)."""

    inside = 0
    peak = 0

    async def tool_pre_invoke(self, payload: Any, context: PluginContext) -> PluginResult:
        Gauge.inside += 1
        Gauge.peak = max(Gauge.peak, Gauge.inside)
        for _ in range(5):
            await asyncio.sleep(0)
        Gauge.inside -= 1
        context.global_context.state[self.name] = True
        return PluginResult(metadata={self.name: True}, retry_delay_ms=(self.config.config or {}).get("retry", 0))


@pytest.mark.parametrize("pool,peak", [("1", 1), ("3", 3), ("4", 4), ("0", 4), ("10", 4)])
async def test_execution_pool_bounds_the_concurrent_phase(make_ref: Any, gctx: GlobalContext,
                                                          monkeypatch: pytest.MonkeyPatch, pool: str,
                                                          peak: int) -> None:
    from cpex.framework.settings import settings

    monkeypatch.setenv("PLUGINS_EXECUTION_POOL", pool)
    settings.cache_clear()
    Gauge.inside = Gauge.peak = 0
    refs = [make_ref(Gauge, name=f"g{i}", mode="concurrent") for i in range(4)]
    result, _ = await run(refs, gctx)
    assert Gauge.peak == peak
    assert result.metadata == {"g0": True, "g1": True, "g2": True, "g3": True}
    assert gctx.state == {"g0": True, "g1": True, "g2": True, "g3": True}  # merged at completion


@pytest.mark.parametrize("pool,peak", [("2", 2), ("4", 4), ("0", 4)])
async def test_execution_pool_bounds_the_fire_and_forget_tasks(make_ref: Any, gctx: GlobalContext,
                                                               monkeypatch: pytest.MonkeyPatch, pool: str,
                                                               peak: int) -> None:
    from cpex.framework.settings import settings

    monkeypatch.setenv("PLUGINS_EXECUTION_POOL", pool)
    settings.cache_clear()
    Gauge.inside = Gauge.peak = 0
    refs = [make_ref(Gauge, name=f"f{i}", mode="fire_and_forget") for i in range(4)]
    result, _ = await run(refs, gctx)
    assert await result.wait_for_background_tasks() == []
    assert Gauge.peak == peak


async def test_concurrent_retry_delay_counts(make_ref: Any, gctx: GlobalContext) -> None:
    refs = [make_ref(Gauge, name="g", mode="concurrent", config={"retry": 250})]
    result, _ = await run(refs, gctx)
    assert result.retry_delay_ms == 250


async def test_concurrent_violation_exception_cancels_and_carries_records(make_ref: Any,
                                                                           gctx: GlobalContext) -> None:
    refs = [make_ref(fp.Block, name="cblock", mode="concurrent"),
            make_ref(fp.Sleeper, name="sleepy", mode="concurrent", config={"delay": 30}),
            make_ref(fp.Passthrough, name="bg", mode="fire_and_forget")]
    with pytest.raises(PluginViolationError) as info:
        await asyncio.wait_for(run(refs, gctx, violations_as_exceptions=True), 10)
    assert str(info.value) == "tool_pre_invoke blocked by plugin cblock: DENY - Denied (not allowed here)"
    assert [r.plugin_name for r in info.value.executions] == ["cblock"]
    await asyncio.sleep(0)
    assert "sleepy" not in fp.CALLS and "bg" not in fp.CALLS


async def test_concurrent_fail_error_propagates(make_ref: Any, gctx: GlobalContext) -> None:
    refs = [make_ref(fp.Boom, name="cboom", mode="concurrent"),
            make_ref(fp.Sleeper, name="later", mode="concurrent", config={"delay": 0.01})]
    with pytest.raises(PluginError, match=r"^ValueError\('boom'\)$"):
        await run(refs, gctx)
    # Upstream leaves the sibling running detached (§11.4, quirk §30.6); cpex-go cancels and
    # awaits it before the error propagates (docs/semantics.md, decided by the core).
    await asyncio.sleep(0.05)
    assert fp.CALLS == ["cboom"]


# -- execute_plugin on its own (spec §11.5) ------------------------------------------------


def ctx_for(gctx: GlobalContext) -> PluginContext:
    return PluginContext(global_context=gctx)


async def test_execute_plugin_returns_the_plugin_result_as_is(make_ref: Any, gctx: GlobalContext) -> None:
    ref = make_ref(fp.SetArg, name="s")
    result = await PluginExecutor().execute_plugin(ref, payload(), ctx_for(gctx), False)
    assert result.modified_payload.args == {"q": "x", "k": "s"} and result.metadata == {"s": {"saw": {"q": "x"}}}


async def test_execute_plugin_block_conversion(make_ref: Any, gctx: GlobalContext) -> None:
    meta: dict[str, Any] = {"earlier": 1}
    ref = make_ref(fp.Block, name="b")
    result = await PluginExecutor().execute_plugin(ref, payload(), ctx_for(gctx), False, gctx, meta)
    assert result.continue_processing is False and result.modified_payload is None
    assert result.violation.plugin_name == "b" and result.retry_delay_ms == 0
    assert meta == {"earlier": 1, "b": "blocked"} and result.metadata == meta


async def test_execute_plugin_block_without_accumulator_has_no_metadata(make_ref: Any,
                                                                         gctx: GlobalContext) -> None:
    result = await PluginExecutor().execute_plugin(make_ref(fp.Block, name="b"), payload(), ctx_for(gctx), False)
    assert result.continue_processing is False and result.metadata is None


@pytest.mark.parametrize("mode,keeps_payload", [("transform", True), ("audit", False)])
async def test_execute_plugin_suppressed_block(make_ref: Any, gctx: GlobalContext, mode: str,
                                               keeps_payload: bool) -> None:
    result = await PluginExecutor().execute_plugin(make_ref(fp.Block, mode=mode), payload(), ctx_for(gctx), False)
    assert result.continue_processing is True and result.violation is None
    assert (result.modified_payload is not None) is keeps_payload


async def test_execute_plugin_violation_exception(make_ref: Any, gctx: GlobalContext) -> None:
    with pytest.raises(PluginViolationError) as info:
        await PluginExecutor().execute_plugin(make_ref(fp.Block, name="b"), payload(), ctx_for(gctx), True)
    assert str(info.value) == "tool_pre_invoke blocked by plugin b: DENY - Denied (not allowed here)"
    assert info.value.violation.plugin_name == "b"


async def test_execute_plugin_merges_state_only_with_a_global_context(make_ref: Any) -> None:
    caller = GlobalContext(request_id="r")
    plugin_ctx = PluginContext(global_context=GlobalContext(request_id="r"))
    await PluginExecutor().execute_plugin(make_ref(fp.StateWriter, name="w"), payload(), plugin_ctx, False, caller)
    assert caller.state == {"w": "pre"}
    other = GlobalContext(request_id="r")
    plugin_ctx = PluginContext(global_context=GlobalContext(request_id="r"))
    await PluginExecutor().execute_plugin(make_ref(fp.StateWriter, name="w", mode="audit"), payload(), plugin_ctx,
                                          False, other)
    assert other.state == {}


async def test_execute_plugin_timeout_under_ignore_raises_plugin_timeout(make_ref: Any, gctx: GlobalContext) -> None:
    ref = make_ref(fp.Sleeper, name="slow", on_error="ignore", config={"delay": 5})
    with pytest.raises(PluginTimeoutError, match="^Plugin slow exceeded 0.05s timeout$"):
        await PluginExecutor(timeout=0.05).execute_plugin(ref, payload(), ctx_for(gctx), False)  # type: ignore[arg-type]


async def test_execute_plugin_error_under_ignore_is_an_empty_allow(make_ref: Any, gctx: GlobalContext) -> None:
    result = await PluginExecutor().execute_plugin(make_ref(fp.Boom, on_error="ignore"), payload(), ctx_for(gctx),
                                                   False)
    assert result.continue_processing and result.modified_payload is None and result.violation is None


# -- isolation (spec §14) -------------------------------------------------------------------


class HeaderMutator(fp.Plugin):
    async def http_pre_request(self, payload: Any, context: PluginContext) -> PluginResult:
        payload["x-added"] = "1"  # mutates whatever it was handed
        return PluginResult()


async def test_rootmodel_payloads_are_always_isolated(make_ref: Any, gctx: GlobalContext) -> None:
    headers = HttpHeaderPayload({"a": "1"})
    await run([make_ref(HeaderMutator, hook="http_pre_request")], gctx, p=headers, hook="http_pre_request")
    assert dict(headers.root) == {"a": "1"}


async def test_fire_and_forget_gets_a_copy_and_a_fresh_context(make_ref: Any, gctx: GlobalContext) -> None:
    ref = make_ref(fp.InPlaceMutator, name="bgmut", mode="fire_and_forget")
    original = payload()
    stale = PluginContext(global_context=gctx, state={"old": True})
    key = gctx.request_id + ref.plugin_ref.uuid
    result, table = await run([ref], gctx, p=original, local_contexts={key: stale})
    assert await result.wait_for_background_tasks() == []
    assert original.args == {"q": "x"}
    assert table[key] is not stale and table[key].state == {}


async def test_fire_and_forget_handles_are_tasks(make_ref: Any, gctx: GlobalContext) -> None:
    refs = [make_ref(fp.Sleeper, name="nap", mode="fire_and_forget", config={"delay": 0.01})]
    result, _ = await run(refs, gctx)
    assert len(result.background_tasks) == 1 and isinstance(result.background_tasks[0], asyncio.Task)
    assert "background_tasks" not in result.model_dump()
    assert await result.wait_for_background_tasks() == []
    assert fp.CALLS == ["nap"]


async def test_fire_and_forget_timeout_is_returned_as_an_error_model(make_ref: Any, gctx: GlobalContext) -> None:
    refs = [make_ref(fp.Sleeper, name="nap", mode="fire_and_forget", config={"delay": 5})]
    result, _ = await run(refs, gctx, timeout=0.05)
    errors = await result.wait_for_background_tasks()
    assert len(errors) == 1 and errors[0].plugin_name == "nap" and "TimeoutError" in errors[0].message


# -- conditions (spec §12) ------------------------------------------------------------------


async def test_condition_context_fields(make_ref: Any) -> None:
    refs = [
        make_ref(fp.Passthrough, name="json", conditions=[PluginCondition(content_types=["application/json"])]),
        make_ref(fp.Passthrough, name="xml", conditions=[PluginCondition(content_types=["text/xml"])]),
        make_ref(fp.Passthrough, name="dict_user", conditions=[PluginCondition(user_patterns=["email"])]),
        make_ref(fp.Passthrough, name="not_a_value", conditions=[PluginCondition(user_patterns=["bob"])]),
        make_ref(fp.Passthrough, name="and_fails",
                 conditions=[PluginCondition(tools={"search"}, server_ids={"other"})]),
    ]
    gc = GlobalContext(request_id="r", content_type=" Application/JSON; charset=utf-8",
                       user={"email": "bob@example.com"})
    await run(refs, gc)
    assert fp.CALLS == ["json", "dict_user"]


async def test_conditions_ignore_a_missing_payload_value(make_ref: Any, gctx: GlobalContext) -> None:
    from cpex.framework import ResourcePreFetchPayload

    class Res(fp.Plugin):
        async def resource_pre_fetch(self, payload: Any, context: PluginContext) -> PluginResult:
            fp.CALLS.append(self.name)
            return PluginResult()

    refs = [make_ref(Res, hook="resource_pre_fetch", name="match", conditions=[PluginCondition(resources={"a://x"})]),
            make_ref(Res, hook="resource_pre_fetch", name="nomatch",
                     conditions=[PluginCondition(resources={"a://y"})]),
            make_ref(Res, hook="resource_pre_fetch", name="other_hook_field",
                     conditions=[PluginCondition(tools={"zzz"})])]
    await run(refs, gctx, p=ResourcePreFetchPayload(uri="a://x"), hook="resource_pre_fetch")
    assert fp.CALLS == ["match", "other_hook_field"]
    fp.CALLS.clear()
    await run(refs, gctx, p=ResourcePreFetchPayload(uri=""), hook="resource_pre_fetch")
    assert fp.CALLS == ["match", "nomatch", "other_hook_field"]


async def test_conditions_use_the_original_payload(make_ref: Any, gctx: GlobalContext) -> None:
    refs = [make_ref(fp.Rename, name="renamer"),
            make_ref(fp.Passthrough, name="for_search", priority=200, conditions=[PluginCondition(tools={"search"})])]
    result, _ = await run(refs, gctx)
    assert result.modified_payload.name == "renamed" and fp.CALLS == ["renamer", "for_search"]


async def test_violation_plugin_name_is_stamped_from_the_trusted_name(make_ref: Any, gctx: GlobalContext) -> None:
    class Liar(fp.Plugin):
        async def tool_pre_invoke(self, payload: Any, context: PluginContext) -> PluginResult:
            violation = PluginViolation(reason="r", description="d", code="C")
            violation.plugin_name = "someone-else"
            return PluginResult(continue_processing=False, violation=violation)

    result, _ = await run([make_ref(Liar, name="truthful")], gctx)
    assert result.violation.plugin_name == "truthful"


@pytest.mark.parametrize("mode", ["sequential", "transform", "audit", "concurrent"])
async def test_a_raised_violation_error_escapes_every_blocking_or_serial_mode(make_ref: Any, gctx: GlobalContext,
                                                                            mode: str) -> None:
    refs = [make_ref(fp.RaisesViolation, name="raiser", mode=mode, on_error="ignore"),
            make_ref(fp.Passthrough, name="bg", mode="fire_and_forget")]
    with pytest.raises(PluginViolationError, match="^raised by plugin$") as info:
        await run(refs, gctx)
    assert [(r.plugin_name, r.effective_allow, r.error_code) for r in info.value.executions] == [("raiser", False, "C")]
    await asyncio.sleep(0)
    assert fp.CALLS == []


async def test_a_raised_violation_error_in_the_background_is_only_reported(make_ref: Any,
                                                                           gctx: GlobalContext) -> None:
    result, _ = await run([make_ref(fp.RaisesViolation, name="bgraiser", mode="fire_and_forget")], gctx)
    errors = await result.wait_for_background_tasks()
    assert [e.plugin_name for e in errors] == ["bgraiser"] and "raised by plugin" in errors[0].message


async def test_http_headers_reach_only_a_direct_call(make_ref: Any, gctx: GlobalContext) -> None:
    class Headers(fp.Plugin):
        async def tool_pre_invoke(self, payload: Any, context: PluginContext) -> PluginResult:
            return PluginResult(http_headers={"x-plugin": "1"})

    ref = make_ref(Headers, name="h")
    result, _ = await run([ref], gctx)
    assert result.http_headers is None  # never aggregated by the executor (§30.24)
    direct = await PluginExecutor().execute_plugin(ref, payload(), PluginContext(global_context=gctx), False)
    assert direct.http_headers == {"x-plugin": "1"}


async def test_execute_plugin_message_formats_the_hook_ref_name(gctx: GlobalContext) -> None:
    from cpex.framework import PromptHookType, PromptPrehookPayload
    from cpex.framework.base import HookRef, PluginRef
    from cpex.framework.models import PluginConfig

    class Deny(fp.Plugin):
        async def prompt_pre_fetch(self, payload: Any, context: PluginContext) -> PluginResult:
            return PluginResult(continue_processing=False,
                                violation=PluginViolation(reason="r", description="d", code="C"))

    ref = HookRef(PromptHookType.PROMPT_PRE_FETCH,
                  PluginRef(Deny(PluginConfig(name="deny", kind="k", hooks=["prompt_pre_fetch"]))))
    with pytest.raises(PluginViolationError) as info:
        await PluginExecutor().execute_plugin(ref, PromptPrehookPayload(prompt_id="p"),
                                              PluginContext(global_context=gctx), True)
    assert str(info.value) == f"{PromptHookType.PROMPT_PRE_FETCH} blocked by plugin deny: C - r (d)"


# -- how a hook is awaited ---------------------------------------------------------------------


class Suspends(fp.Plugin):
    """Awaits a few times, then returns or raises (config.raise)."""

    async def tool_pre_invoke(self, payload: Any, context: PluginContext) -> PluginResult:
        for _ in range(3):
            await asyncio.sleep(0)
        if (self.config.config or {}).get("raise"):
            raise KeyError("late")
        return PluginResult(metadata={self.name: "done"})


async def test_a_suspending_hook_finishes_or_fails_like_any_other(make_ref: Any, gctx: GlobalContext) -> None:
    result, _ = await run([make_ref(Suspends, name="s")], gctx, timeout=5)
    assert result.metadata == {"s": "done"}
    with pytest.raises(PluginError, match=r"^KeyError\('late'\)$"):
        await run([make_ref(Suspends, name="s", config={"raise": True})], gctx)


async def test_cancelling_the_caller_cancels_the_waiting_hook(make_ref: Any, gctx: GlobalContext) -> None:
    started = asyncio.Event()
    cancelled: list[bool] = []

    class Waits(fp.Plugin):
        async def tool_pre_invoke(self, payload: Any, context: PluginContext) -> PluginResult:
            started.set()
            try:
                await asyncio.sleep(30)
            except asyncio.CancelledError:
                cancelled.append(True)
                raise
            return PluginResult()

    task = asyncio.ensure_future(run([make_ref(Waits)], gctx))
    await started.wait()
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert cancelled == [True]
    again, _ = await run([make_ref(fp.Passthrough)], gctx)  # the executor is still usable
    assert again.continue_processing


async def test_hooks_returning_other_awaitables(gctx: GlobalContext) -> None:
    from unittest.mock import AsyncMock

    from cpex.framework.base import HookRef, PluginRef
    from cpex.framework.models import PluginConfig

    plugin = fp.Passthrough(PluginConfig(name="mocked", kind="k", hooks=["tool_pre_invoke"]))
    ref = HookRef("tool_pre_invoke", PluginRef(plugin))
    ref._func = AsyncMock(return_value=PluginResult(metadata={"mock": True}))
    result, _ = await PluginExecutor().execute([ref], payload(), gctx, "tool_pre_invoke")
    assert result.metadata == {"mock": True}

    loop = asyncio.get_running_loop()

    def future_hook(payload: Any, context: Any) -> asyncio.Future[PluginResult]:
        fut: asyncio.Future[PluginResult] = loop.create_future()
        loop.call_soon(fut.set_result, PluginResult(metadata={"future": True}))
        return fut

    ref._func = future_hook
    result, _ = await PluginExecutor().execute([ref], payload(), gctx, "tool_pre_invoke")
    assert result.metadata == {"future": True}
    never: asyncio.Future[PluginResult] = loop.create_future()
    ref._func = lambda payload, context: never
    with pytest.raises(PluginError, match="^Plugin mocked exceeded 0.05s timeout$"):
        await PluginExecutor(timeout=0.05).execute([ref], payload(), gctx, "tool_pre_invoke")  # type: ignore[arg-type]


async def test_violation_message_formats_enum_built_hook_refs_in_full_runs(gctx: GlobalContext) -> None:
    from cpex.framework import PromptHookType, PromptPrehookPayload
    from cpex.framework.base import HookRef, PluginRef
    from cpex.framework.models import PluginConfig

    class Deny(fp.Plugin):
        async def prompt_pre_fetch(self, payload: Any, context: PluginContext) -> PluginResult:
            return PluginResult(continue_processing=False)

    ref = HookRef(PromptHookType.PROMPT_PRE_FETCH,
                  PluginRef(Deny(PluginConfig(name="deny", kind="k", hooks=["prompt_pre_fetch"]))))
    with pytest.raises(PluginViolationError) as info:
        await PluginExecutor().execute([ref], PromptPrehookPayload(prompt_id="p"), gctx,
                                       PromptHookType.PROMPT_PRE_FETCH, violations_as_exceptions=True)
    assert str(info.value) == f"{PromptHookType.PROMPT_PRE_FETCH} blocked by plugin"
    assert info.value.executions[0].hook_name == "prompt_pre_fetch"
    assert info.value.executions[0].reason == str(info.value)
