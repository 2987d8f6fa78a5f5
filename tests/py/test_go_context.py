"""Go plugins in Python-driven chains get the context (global state, metadata, their own
local state) and give their changes back (docs/protocol.md, "Context state of go steps";
docs/semantics.md). The Go plugin is builtin/test_context (internal/ctxprobe): it writes
what its config says and, with ``echo``, reports in the result metadata what it saw."""

from __future__ import annotations

from typing import Any

import pytest

from cpex.framework import (
    GlobalContext,
    Plugin,
    PluginContext,
    PluginResult,
    TenantPluginManager,
    ToolPostInvokePayload,
    ToolPreInvokePayload,
)
from cpex.framework._engine import wire
from cpex.framework.models import Config, PluginConfig

SEEN: list[dict[str, Any]] = []


class WritesState(Plugin):
    """A Python plugin that writes the global state and records what it saw."""

    async def tool_pre_invoke(self, payload: ToolPreInvokePayload, context: PluginContext) -> PluginResult:
        SEEN.append(dict(context.global_context.state))
        context.global_context.state["py"] = "written by python"
        return PluginResult()


class Opaque:
    """A value JSON cannot hold."""


def probe(name: str, priority: int, mode: str = "sequential", hooks: tuple[str, ...] = ("tool_pre_invoke",),
          **config: Any) -> PluginConfig:
    return PluginConfig(name=name, kind="builtin/test_context", hooks=list(hooks), priority=priority, mode=mode,
                        config=config)


def py(name: str, priority: int) -> PluginConfig:
    return PluginConfig(name=name, kind="test_go_context.WritesState", hooks=["tool_pre_invoke"], priority=priority)


async def manager_of(*plugins: PluginConfig) -> TenantPluginManager:
    manager = TenantPluginManager(Config(plugins=list(plugins)))
    await manager.initialize()
    return manager


def pre(name: str = "t") -> ToolPreInvokePayload:
    return ToolPreInvokePayload(name=name, args={})


@pytest.fixture(autouse=True)
def _clear() -> None:
    SEEN.clear()


async def test_global_state_and_metadata_in_and_out() -> None:
    m = await manager_of(py("py_first", 1), probe("go", 2, echo=True, gstate={"go": 1}, gmeta={"gm": "x"}),
                         py("py_after", 3))
    gc = GlobalContext(request_id="r1", state={"caller": [1, 2]}, metadata={"trace": "t"})
    result, _ = await m.invoke_hook("tool_pre_invoke", pre(), gc)
    assert result.metadata["go"] == {
        "gstate": {"caller": [1, 2], "py": "written by python"},  # the Python plugin's write before it
        "gmeta": {"trace": "t"},
        "lstate": {},
    }
    assert gc.state == {"caller": [1, 2], "py": "written by python", "go": 1}
    assert gc.metadata == {"trace": "t", "gm": "x"}
    assert SEEN[1] == {"caller": [1, 2], "py": "written by python", "go": 1}, "the next Python plugin sees it"


async def test_local_state_survives_to_the_next_hook() -> None:
    m = await manager_of(probe("go", 1, hooks=("tool_pre_invoke", "tool_post_invoke"), echo=True, lstate={"n": 1}))
    gc = GlobalContext(request_id="r2")
    first, table = await m.invoke_hook("tool_pre_invoke", pre(), gc)
    assert first.metadata["go"]["lstate"] == {}
    assert table is not None
    [ctx] = table.values()
    assert ctx.state == {"n": 1}, "the table keeps the Go plugin's local state"
    ctx.state["from_host"] = "h"  # a host may write it too
    post, _ = await m.invoke_hook("tool_post_invoke", ToolPostInvokePayload(name="t", result={}), gc,
                                  local_contexts=table)
    assert post.metadata["go"]["lstate"] == {"n": 1, "from_host": "h"}
    post, _ = await m.invoke_hook("tool_post_invoke", ToolPostInvokePayload(name="t", result={}), gc)
    assert post.metadata["go"]["lstate"] == {}, "without the table a fresh local state"


async def test_values_json_cannot_hold_stay_in_python_untouched() -> None:
    m = await manager_of(probe("go", 1, echo=True, gstate={"go": True}, lstate={"k": "v"}), py("py", 2))
    obj, pair = Opaque(), (1, 2)
    gc = GlobalContext(request_id="r3", state={"obj": obj, "pair": pair, "n": 2**70})
    gc.state[5] = "int key"  # type: ignore[index]  # a host may put what the model would refuse
    result, table = await m.invoke_hook("tool_pre_invoke", pre(), gc)
    assert result.metadata["go"]["gstate"] == {"pair": [1, 2]}, "Go plugins see only what JSON holds"
    assert gc.state["obj"] is obj and gc.state["pair"] is pair, "unchanged keys keep their Python objects"
    assert gc.state["n"] == 2**70 and gc.state[5] == "int key" and gc.state["go"] is True
    assert SEEN[0]["obj"] is obj, "the Python plugin after the Go one gets the object"
    # a local state with an object: the object stays, the Go plugin's keys are merged
    assert table is not None
    [ctx] = [c for c in table.values() if "k" in c.state]
    ctx.state["mine"] = obj
    result, _ = await m.invoke_hook("tool_pre_invoke", pre(), gc, local_contexts=table)
    assert result.metadata["go"]["lstate"] == {"k": "v"}
    assert ctx.state == {"k": "v", "mine": obj}


async def test_concurrent_go_plugins_see_the_state_before_the_phase() -> None:
    m = await manager_of(probe("a", 1, mode="concurrent", echo=True, gstate={"a": 1}),
                         probe("b", 2, mode="concurrent", echo=True, gstate={"b": 2}))
    gc = GlobalContext(request_id="r4", state={"s": 0})
    result, _ = await m.invoke_hook("tool_pre_invoke", pre(), gc)
    assert result.metadata["a"]["gstate"] == {"s": 0} and result.metadata["b"]["gstate"] == {"s": 0}
    assert gc.state == {"s": 0, "a": 1, "b": 2}


async def test_a_blocked_go_plugin_still_merges_its_state() -> None:
    # as for Python plugins: the merge comes with the return, whatever the decision
    m = await manager_of(probe("go", 1, gstate={"why": "blocked"}, block=True))
    gc = GlobalContext(request_id="r5")
    result, _ = await m.invoke_hook("tool_pre_invoke", pre(), gc)
    assert not result.continue_processing
    assert gc.state == {"why": "blocked"}


async def test_no_state_no_crossing(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[str] = []
    real = wire.run_go_context
    monkeypatch.setattr(wire, "run_go_context", lambda run, doc: calls.append(doc) or real(run, doc))
    m = await manager_of(probe("go", 1))
    await m.invoke_hook("tool_pre_invoke", pre(), GlobalContext(request_id="r6"))
    assert calls == [], "an empty context sends nothing"
    await m.invoke_hook("tool_pre_invoke", pre(), GlobalContext(request_id="r6", state={"a": 1}))
    assert calls == ['{"gs":{"a":1}}']


# --- extensions (issue 16): the policy input of the embedded engines -----------------------

LABEL_POLICY = '!("PII" in extensions.security.labels) || extensions.request.environment == "dev"'


async def test_pdp_cel_decides_on_the_extensions_it_may_read() -> None:
    from cpex.framework.extensions import Extensions
    from cpex.framework.extensions.request import RequestExtension
    from cpex.framework.extensions.security import SecurityExtension

    m = await manager_of(
        PluginConfig(name="labels", kind="builtin/pdp_cel", hooks=["tool_pre_invoke"], priority=1,
                     capabilities={"read_labels"}, config={"policy": LABEL_POLICY, "reason": "PII outside dev"}))
    ext = Extensions(request=RequestExtension(environment="prod"), security=SecurityExtension(labels=frozenset({"PII"})))
    result, _ = await m.invoke_hook("tool_pre_invoke", pre(), GlobalContext(request_id="x1"), extensions=ext)
    assert not result.continue_processing
    assert result.violation is not None and result.violation.reason == "PII outside dev"
    dev = ext.model_copy(update={"request": RequestExtension(environment="dev")})
    result, _ = await m.invoke_hook("tool_pre_invoke", pre(), GlobalContext(request_id="x2"), extensions=dev)
    assert result.continue_processing
    clean = ext.model_copy(update={"security": SecurityExtension(labels=frozenset({"public"}))})
    result, _ = await m.invoke_hook("tool_pre_invoke", pre(), GlobalContext(request_id="x3"), extensions=clean)
    assert result.continue_processing


async def test_extensions_are_filtered_by_the_go_plugins_capabilities() -> None:
    from cpex.framework.extensions import Extensions
    from cpex.framework.extensions.request import RequestExtension
    from cpex.framework.extensions.security import SecurityExtension

    # without read_labels the labels are hidden from the policy (as from a Python plugin)
    m = await manager_of(
        PluginConfig(name="labels", kind="builtin/pdp_cel", hooks=["tool_pre_invoke"], priority=1,
                     config={"policy": LABEL_POLICY}))
    ext = Extensions(request=RequestExtension(environment="prod"), security=SecurityExtension(labels=frozenset({"PII"})))
    result, _ = await m.invoke_hook("tool_pre_invoke", pre(), GlobalContext(request_id="x4"), extensions=ext)
    assert result.continue_processing


async def test_no_extensions_an_empty_map() -> None:
    m = await manager_of(
        PluginConfig(name="p", kind="builtin/pdp_cel", hooks=["tool_pre_invoke"], priority=1,
                     config={"policy": "size(extensions) == 0"}))
    result, _ = await m.invoke_hook("tool_pre_invoke", pre(), GlobalContext(request_id="x5"))
    assert result.continue_processing


async def test_extensions_cross_only_for_go_plugins_that_read_them(monkeypatch: pytest.MonkeyPatch) -> None:
    from cpex.framework.extensions import Extensions
    from cpex.framework.extensions.request import RequestExtension

    calls: list[str] = []
    real = wire.run_go_context
    monkeypatch.setattr(wire, "run_go_context", lambda run, doc: calls.append(doc) or real(run, doc))
    ext = Extensions(request=RequestExtension(trace_id="t1"))
    m = await manager_of(probe("plain", 1, echo=True))
    await m.invoke_hook("tool_pre_invoke", pre(), GlobalContext(request_id="x6"), extensions=ext)
    assert calls == [], "the gateway's request extensions on every call cost nothing for guards that ignore them"
    m = await manager_of(probe("plain", 1, echo=True), probe("reader", 2, echo=True, ext=True))
    result, _ = await m.invoke_hook("tool_pre_invoke", pre(), GlobalContext(request_id="x7"), extensions=ext)
    assert calls == ['{"ext":[[1,{"request":{"trace_id":"t1"}}]]}']
    assert result.metadata["reader"]["ext"] == {"request": {"trace_id": "t1"}}
    assert "ext" not in result.metadata["plain"]


async def test_a_go_plugins_denial_metadata_reaches_the_violation_error() -> None:
    # upstream's executor raises PluginViolationError._from_framework_denial with the
    # blocking result's denial_metadata, whatever the plugin; a Go plugin's travels with
    # the raise step
    from cpex.framework import PluginViolationError

    manager = await manager_of(probe("denier", 1, block=True, denial={"score": 7, "ratio": 0.5, "bad key!": 1}))
    with pytest.raises(PluginViolationError) as info:
        await manager.invoke_hook("tool_pre_invoke", pre(), GlobalContext(request_id="r"), violations_as_exceptions=True)
    outcome = info.value.denial_outcome
    assert outcome is not None, "the error is the executor's own, with the denying record"
    assert dict(outcome.metadata) == {"score": 7, "ratio": 0.5}, "sanitized as upstream sanitizes"
    assert outcome.execution.plugin_name == "denier"
    # without it, the outcome is there and empty
    manager = await manager_of(probe("plain", 1, block=True))
    with pytest.raises(PluginViolationError) as info:
        await manager.invoke_hook("tool_pre_invoke", pre(), GlobalContext(request_id="r"), violations_as_exceptions=True)
    assert info.value.denial_outcome is not None and dict(info.value.denial_outcome.metadata) == {}
