"""Rules decided once, in the Go core, and applied by the Python driver (issue 11).

Python reports facts (changed fields, the kind of a returned payload, an exception's two
texts, an unencodable payload) and applies the core's answer; these tests pin that the
answers reach callers of the real PluginExecutor / PluginManager, with the core's texts.
"""

from __future__ import annotations

import logging
from typing import Any

import pytest

import fixture_plugins as fp
from cpex.framework import GlobalContext, ToolPreInvokePayload
from cpex.framework._engine import wire
from cpex.framework.hooks.policies import HookPayloadPolicy, apply_policy
from cpex.framework.manager import PluginExecutor

ARGS_ONLY = {"tool_pre_invoke": HookPayloadPolicy(writable_fields=frozenset({"args"}))}


# -- policy acceptance (core.PolicyDecision) --------------------------------------------


def test_apply_policy_takes_the_cores_decision(caplog: pytest.LogCaptureFixture) -> None:
    original = ToolPreInvokePayload(name="t", args={"a": 1})
    modified = ToolPreInvokePayload(name="other", args={"a": 2})
    with caplog.at_level(logging.WARNING, logger="cpex.framework.hooks.policies"):
        out = apply_policy(original, modified, ARGS_ONLY["tool_pre_invoke"])
    assert out is not None and out.name == "t" and out.args == {"a": 2}
    # upstream's text, on upstream's logger
    assert [r.getMessage() for r in caplog.records] == [
        "Policy rejected modifications to non-writable fields: ['name']"
    ]
    assert wire.policy_decide(["name"], ["args"]) == (
        [], "Policy rejected modifications to non-writable fields: ['name']")


def test_apply_policy_returns_none_when_nothing_changed_or_nothing_is_writable() -> None:
    p = ToolPreInvokePayload(name="t", args={"a": 1})
    assert apply_policy(p, p.model_copy(), ARGS_ONLY["tool_pre_invoke"]) is None
    assert apply_policy(p, p.model_copy(update={"name": "x"}), ARGS_ONLY["tool_pre_invoke"]) is None


async def test_a_run_applies_the_accepted_fields_and_logs_the_cores_warning(
    make_ref: Any, gctx: GlobalContext, caplog: pytest.LogCaptureFixture,
) -> None:
    refs = [make_ref(fp.Rename, name="ren")]
    with caplog.at_level(logging.WARNING, logger="cpex.framework.hooks.policies"):
        result, _ = await PluginExecutor(hook_policies=ARGS_ONLY).execute(
            refs, ToolPreInvokePayload(name="t", args={}), gctx, "tool_pre_invoke")
    assert result.modified_payload.name == "t" and result.modified_payload.args == {"renamed": True}
    # the executor's warning is apply_policy's (upstream calls it from the executor)
    assert "Policy rejected modifications to non-writable fields: ['name']" in [
        r.getMessage() for r in caplog.records if r.name == "cpex.framework.hooks.policies"
    ]
    [rec] = result.executions
    assert rec.payload_modified


# -- fire-and-forget (core.Executor.FireAndForgetFailure) ----------------------------------


async def test_a_fire_and_forget_failure_is_logged_as_the_core_says(
    make_ref: Any, gctx: GlobalContext, caplog: pytest.LogCaptureFixture,
) -> None:
    executor = PluginExecutor(timeout=30)
    refs = [make_ref(fp.Boom, name="bg", mode="fire_and_forget", on_error="disable")]
    with caplog.at_level(logging.ERROR, logger="cpex.framework.manager"):
        result, _ = await executor.execute(refs, ToolPreInvokePayload(name="t", args={}), gctx, "tool_pre_invoke")
        [failure] = await result.wait_for_background_tasks()
    [line] = [r for r in caplog.records if "fire-and-forget" in r.getMessage()]
    assert line.levelno == logging.ERROR
    assert line.getMessage() == "Plugin bg failed in fire-and-forget mode (ignored)"  # upstream's line
    assert failure.message == "ValueError('boom')"
    assert failure.plugin_name == "bg" and "bg" in executor._runtime_disabled


# -- the runtime-disabled view writes through on every mutation --------------------------


def _disabled_in_core(executor: PluginExecutor) -> set[str]:
    return set(wire.executor_runtime_disabled(executor._core()).strip("[]").replace('"', "").split(",")) - {""}


@pytest.mark.parametrize("mutate, want", [
    (lambda v: v.add("a"), {"a", "x"}),
    (lambda v: v.discard("x"), set()),
    (lambda v: v.remove("x"), set()),
    (lambda v: v.pop(), set()),
    (lambda v: v.clear(), set()),
    (lambda v: v.update({"a"}, ["b"]), {"a", "b", "x"}),
    (lambda v: v.difference_update({"x"}), set()),
    (lambda v: v.intersection_update({"x", "q"}), {"x"}),
    (lambda v: v.symmetric_difference_update({"x", "y"}), {"y"}),
])
def test_every_mutator_of_the_runtime_disabled_view_writes_through(mutate: Any, want: set[str]) -> None:
    executor = PluginExecutor()
    executor._runtime_disabled.add("x")
    mutate(executor._runtime_disabled)
    assert _disabled_in_core(executor) == want
    assert executor._runtime_disabled == want


def test_augmented_assignments_write_through() -> None:
    executor = PluginExecutor()
    executor._runtime_disabled |= {"a", "b"}
    assert _disabled_in_core(executor) == {"a", "b"}
    executor._runtime_disabled -= {"a"}
    assert _disabled_in_core(executor) == {"b"}
    executor._runtime_disabled ^= {"b", "c"}
    assert _disabled_in_core(executor) == {"c"}
    executor._runtime_disabled &= {"z"}
    assert _disabled_in_core(executor) == set()
    with pytest.raises(KeyError):
        executor._runtime_disabled.remove("nope")


# -- the plan cache follows the core's one bound ------------------------------------------


def test_the_plan_cache_is_emptied_with_the_cores(make_ref: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    executor = PluginExecutor()
    refs = [make_ref(fp.Passthrough)]
    real = wire.plan_get
    answers = iter(['"flush":true}', None])

    def flushing_once(*args: Any) -> str:
        text = str(real(*args))
        marker = next(answers, None)
        return text[:-1] + "," + marker if marker else text

    executor._plan("tool_pre_invoke", refs)
    executor.hook_policies = ARGS_ONLY  # a new key
    assert len(executor._plans) == 1
    monkeypatch.setattr(wire, "plan_get", flushing_once)
    executor._plan("tool_pre_invoke", refs)
    assert len(executor._plans) == 1, "the flush emptied the cache before the new plan went in"


# -- the protocol version ------------------------------------------------------------------


def test_a_stale_extension_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    wire.run_report  # noqa: B018 - bound now
    monkeypatch.setattr(wire, "PROTOCOL_VERSION", wire.PROTOCOL_VERSION + 1)
    with pytest.raises(wire.ProtocolMismatchError, match="protocol"):
        wire._bind()


# -- the empty chain: the manager's shortcut is the core's answer -------------------------


def test_the_empty_chain_shortcut_is_the_cores_answer() -> None:
    import orjson

    from cpex.framework._driver import empty_chain_result

    executor = PluginExecutor()
    plan = orjson.loads(wire.plan_get(executor._core(), "tool_pre_invoke", "", "null"))
    facts = {"rid": "r", "server_id": None, "tenant_id": None, "content_type": None, "user": None, "match": None,
             "size": ["args", 10**9], "pool": 0, "vexc": True, "trace": True, "ext": False}
    step = orjson.loads(wire.run_start(plan["plan"], orjson.dumps(facts).decode()))
    assert step["op"] == "done" and "chain_span" not in step, "no size check, no span: an allow before any rule"
    result = empty_chain_result()
    assert (step["cont"], step["payload"], step["ext"], step["retry"]) == (
        result.continue_processing, result.modified_payload is not None, result.modified_extensions is not None,
        result.retry_delay_ms)
    assert step["records"] == [] and step["faf"] == [] and step["decision"] is None and step["viol"] == -1
    assert step["chain_end"] is None
