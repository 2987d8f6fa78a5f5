"""The driver's shortcuts on the per-plugin path must be observably the slow way:
preformatted outcome text, context snapshots built without validation, isolation copies
built without model_copy, and the deadline armed only when a hook suspends."""

from __future__ import annotations

from typing import Any

import orjson
import pytest
from pydantic import BaseModel

import fixture_plugins as fp
from cpex.framework import GlobalContext, PluginError, PluginResult, PluginViolation, ToolPreInvokePayload
from cpex.framework._driver import _Call, _Run
from cpex.framework.manager import PluginExecutor
from cpex.framework.memory import CopyOnWriteDict, wrap_payload_for_isolation
from cpex.framework.models import PluginContext


def a_run(refs: list[Any], gctx: GlobalContext) -> _Run:
    payload = ToolPreInvokePayload(name="t", args={"q": "x"})
    return _Run(PluginExecutor(), refs, payload, gctx, "tool_pre_invoke", None, None, None, None, 0)


def a_call(result: Any, duration: int = 1234) -> _Call:
    call = _Call()
    call.result, call.duration = result, duration
    return call


@pytest.mark.parametrize("result, ret", [
    (PluginResult(), None),
    (PluginResult(continue_processing=False), None),
    (PluginResult(modified_payload=ToolPreInvokePayload(name="m")), ("same", False, ["name"])),
    (PluginResult(metadata={"a": 1}, http_headers={"x": "y"}), ("payload", True, None)),
    # not the common case: the general encoder answers
    (PluginResult(retry_delay_ms=250), None),
    (PluginResult(continue_processing=False, violation=PluginViolation(reason="r", description="d", code="C")), None),
])
def test_outcome_text_is_the_json_of_the_outcome_fields(make_ref: Any, gctx: GlobalContext,
                                                      result: PluginResult, ret: Any) -> None:
    run = a_run([make_ref(fp.Passthrough)], gctx)
    text = run._outcome(3, a_call(result), ret)
    assert orjson.loads(text) == run._outcome_fields(3, a_call(result), ret)


def test_an_outcome_with_truthy_non_bool_fields_still_encodes_plain_json(make_ref: Any, gctx: GlobalContext) -> None:
    result = PluginResult.model_construct(continue_processing=1, retry_delay_ms=0)
    fields = orjson.loads(a_run([make_ref(fp.Passthrough)], gctx)._outcome(0, a_call(result), None))
    assert fields["cont"] is True and fields["st"] == "ok" and fields["ret"] == "none"


class RichContext(GlobalContext):
    """A caller's own GlobalContext subclass (upstream hands plugins a plain GlobalContext)."""

    note: str = "caller-only"


@pytest.mark.parametrize("gc_type", [GlobalContext, RichContext])
def test_a_plugins_snapshot_equals_a_validated_global_context(make_ref: Any, gc_type: type) -> None:
    gc = gc_type(request_id="r", user={"id": "u"}, tenant_id="t", server_id="s", content_type="text/plain",
                 state={"k": [1]}, metadata={"m": 1})
    ctx = a_run([make_ref(fp.Passthrough)], gc)._context(0)
    snap = ctx.global_context
    expected = GlobalContext(**{name: getattr(gc, name) for name in GlobalContext.model_fields})
    assert type(snap) is GlobalContext and snap == expected and snap.model_fields_set == expected.model_fields_set
    assert list(snap.model_dump()) == list(GlobalContext.model_fields)
    # the snapshot's dicts are its own (shallow copies), so writes do not reach the caller's object
    snap.state["new"] = 1
    snap.metadata["new"] = 1
    snap.user["new"] = 1  # type: ignore[index]
    assert "new" not in gc.state and "new" not in gc.metadata and "new" not in gc.user  # type: ignore[operator]
    assert type(ctx) is PluginContext and ctx.state == {} and ctx.metadata == {}
    assert ctx.model_fields_set == PluginContext(global_context=expected).model_fields_set


def test_an_isolated_payload_equals_its_model_copy() -> None:
    payload = ToolPreInvokePayload(name="t", args={"q": "x"}, headers=None)
    copy = wrap_payload_for_isolation(payload)
    expected = payload.model_copy(update={"args": CopyOnWriteDict(payload.args)})
    assert copy is not payload and copy == expected and copy.model_fields_set == expected.model_fields_set
    assert isinstance(copy.args, CopyOnWriteDict) and copy.args == payload.args
    copy.args["q"] = "changed"
    assert payload.args == {"q": "x"}
    # nothing to wrap (only scalars): the payload itself
    bare = Flat()
    assert wrap_payload_for_isolation(bare) is bare


class Flat(BaseModel):
    a: int = 1
    b: str = "x"


async def test_a_hook_that_suspends_gets_the_timeout(make_ref: Any, gctx: GlobalContext) -> None:
    # the timer is armed only once the hook suspends; it must still fire
    ref = make_ref(fp.Sleeper, config={"delay": 5})
    with pytest.raises(PluginError, match="exceeded 0.05s timeout"):
        await PluginExecutor(timeout=0.05).execute_plugin(ref, ToolPreInvokePayload(name="t"),
                                                          PluginContext(global_context=gctx), False)
