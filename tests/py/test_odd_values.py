"""Odd but valid values never become host exceptions (issue 10, item 5).

Each row is one value that Python accepts and JSON or int64 cannot hold as is: lone
surrogates (``json.loads`` makes them from client input), ints beyond 64 bits, payloads
nested deeper than orjson writes or holding themselves. The call carries on as upstream
cpex 0.1.4 does, or fails with the exception class upstream raises, naming the plugin and
the field (docs/semantics.md, "Odd values").
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from typing import Any, Callable

import pytest

from cpex.framework import (
    GlobalContext,
    Plugin,
    PluginContext,
    PluginError,
    PluginResult,
    PluginViolation,
    PluginViolationError,
    TenantPluginManager,
    ToolPreInvokePayload,
)
from cpex.framework.models import Config, PluginConfig

S = "\ud800"  # a lone surrogate
S2 = "\ud801"  # another one: encoding/json would read both as U+FFFD


class SurrogateViolation(Plugin):
    """Blocks with a violation whose texts hold a lone surrogate."""

    async def tool_pre_invoke(self, payload: ToolPreInvokePayload, context: PluginContext) -> PluginResult:
        return PluginResult(
            continue_processing=False,
            violation=PluginViolation(reason=f"r{S}", description=f"d{S}", code=f"c{S}", details={"k": S}),
        )


class HugeRetry(Plugin):
    """Asks for a retry delay beyond int64 (pydantic accepts any int)."""

    async def tool_pre_invoke(self, payload: ToolPreInvokePayload, context: PluginContext) -> PluginResult:
        return PluginResult(retry_delay_ms=2**63)


def py(name: str = "allow", kind: str = "fixture_plugins.Passthrough", **fields: Any) -> PluginConfig:
    return PluginConfig(name=name, kind=kind, hooks=["tool_pre_invoke"], **fields)


def deny(words: list[str], name: str = "deny", **fields: Any) -> PluginConfig:
    return PluginConfig(name=name, kind="builtin/deny_list", hooks=["tool_pre_invoke"], config={"words": words}, **fields)


def nested(depth: int, leaf: Any) -> dict[str, Any]:
    d: dict[str, Any] = {"leaf": leaf}
    for _ in range(depth):
        d = {"a": d}
    return d


def circular() -> dict[str, Any]:
    d: dict[str, Any] = {"q": "x"}
    d["me"] = d
    return d


@dataclass
class Case:
    id: str
    plugins: list[PluginConfig]
    check: Callable[[Any], None]  # gets the PluginResult, or the exception raised
    name: str = "search"
    args: Any = field(default_factory=lambda: {"q": "x"})
    gc: dict[str, Any] = field(default_factory=dict)
    kw: dict[str, Any] = field(default_factory=dict)  # invoke_hook's keyword arguments


def ran(*names: str) -> Callable[[Any], None]:
    def check(res: Any) -> None:
        assert not isinstance(res, BaseException), repr(res)
        assert res.continue_processing is True
        assert [r.plugin_name for r in res.executions] == list(names)

    return check


def blocked_by(name: str) -> Callable[[Any], None]:
    def check(res: Any) -> None:
        assert not isinstance(res, BaseException), repr(res)
        assert res.continue_processing is False and res.violation.plugin_name == name

    return check


def plugin_error(plugin: str, *words: str) -> Callable[[Any], None]:
    def check(res: Any) -> None:
        assert type(res) is PluginError, repr(res)
        assert res.error.plugin_name == plugin
        for word in words:
            assert word in res.error.message

    return check


def raises(cls: type[BaseException]) -> Callable[[Any], None]:
    def check(res: Any) -> None:
        assert type(res) is cls, repr(res)

    return check


def exact_violation(res: Any) -> None:
    blocked_by("v")(res)
    v = res.violation
    # the texts went through the core (which builds the chain's violation) unchanged
    assert (v.reason, v.description, v.code, v.details) == (f"r{S}", f"d{S}", f"c{S}", {"k": S})


def violation_error(res: Any) -> None:
    assert type(res) is PluginViolationError, repr(res)
    assert res.violation is not None and res.violation.plugin_name == "v"
    assert (res.violation.reason, res.violation.code) == (f"r{S}", f"c{S}")
    assert f"r{S}" in str(res)  # the core's message carries the exact text


def retry_clamped(res: Any) -> None:
    ran("r")(res)
    # upstream passes 2**63 through; the core holds int64: the nearest bound (documented)
    assert res.retry_delay_ms == 2**63 - 1


CASES = [
    Case("request_id", [py()], ran("allow"), gc={"request_id": f"r{S}"}),
    Case("user_str", [py()], ran("allow"), gc={"user": f"u{S}"}),
    Case("user_dict", [py()], ran("allow"), gc={"user": {"id": f"u{S}", f"k{S}": 1}}),
    Case("tenant_id", [py()], ran("allow"), gc={"tenant_id": f"t{S}"}),
    Case("server_id", [py()], ran("allow"), gc={"server_id": f"s{S}"}),
    Case("tool_name", [py()], ran("allow"), name=f"t{S}"),
    Case("args_with_go_guard", [py(), deny(["zzz"])], ran("allow", "deny"), args={"q": f"x{S}"}),
    # the guard still reads the rest of the text around the surrogate
    Case("args_go_guard_blocks", [deny(["zzz"])], blocked_by("deny"), args={"q": f"{S}zzz{S}"}),
    Case("violation_text", [py("v", "test_odd_values.SurrogateViolation")], exact_violation),
    Case("violation_text_concurrent", [py("v", "test_odd_values.SurrogateViolation", mode="concurrent")],
         exact_violation),
    Case("violation_text_as_exception", [py("v", "test_odd_values.SurrogateViolation")], violation_error,
         kw={"violations_as_exceptions": True}),
    Case("plugin_name", [py(f"p{S}")], ran(f"p{S}")),
    Case("go_plugin_name", [deny(["zzz"], name=f"g{S}")], ran(f"g{S}")),
    Case("go_plugin_name_blocks", [deny(["zzz"], name=f"g{S}")], blocked_by(f"g{S}"), args={"q": "zzz"}),
    # conditions compare the exact string: not another surrogate, not U+FFFD
    Case("condition_tool_matches", [py(conditions=[{"tools": [f"t{S}"]}])], ran("allow"), name=f"t{S}"),
    Case("condition_tool_other_surrogate", [py(conditions=[{"tools": [f"t{S}"]}])], ran(), name=f"t{S2}"),
    Case("condition_tool_fffd", [py(conditions=[{"tools": ["t\ufffd"]}])], ran(), name=f"t{S}"),
    Case("condition_fffd_tool", [py(conditions=[{"tools": [f"t{S}"]}])], ran(), name="t\ufffd"),
    Case("condition_tenant", [py(conditions=[{"tenant_ids": [f"t{S}"]}])], ran("allow"), gc={"tenant_id": f"t{S}"}),
    Case("condition_tenant_other", [py(conditions=[{"tenant_ids": [f"t{S}"]}])], ran(), gc={"tenant_id": f"t{S2}"}),
    Case("condition_server", [py(conditions=[{"server_ids": [f"s{S}"]}])], ran("allow"), gc={"server_id": f"s{S}"}),
    Case("condition_user", [py(conditions=[{"user_patterns": [S]}])], ran("allow"), gc={"user": f"a{S}b"}),
    Case("condition_user_other", [py(conditions=[{"user_patterns": [S]}])], ran(), gc={"user": f"a{S2}b"}),
    Case("retry_delay_beyond_int64", [py("r", "test_odd_values.HugeRetry")], retry_clamped),
    # upstream sorts by the Python int: 10**30 runs after 5
    Case("priority_beyond_int64", [py("big", priority=10**30), py("small", priority=5)], ran("small", "big")),
    Case("priority_below_int64", [py("small", priority=5), py("neg", priority=-(10**30))], ran("neg", "small")),
    # deeper than orjson's 255 levels: Go guards still scan it (and block what they find)
    Case("nested_300_go_guard", [py(), deny(["zzz"])], ran("allow", "deny"), args=nested(300, "x")),
    Case("nested_300_go_guard_blocks", [deny(["zzz"])], blocked_by("deny"), args=nested(300, "zzz")),
    # what upstream does when a plugin scans such a payload: PluginError naming the plugin
    Case("circular_go_guard", [py(), deny(["zzz"])], plugin_error("deny", "args", "circular")),
    # deeper than the interpreter's recursion limit: upstream's payload-size check
    # (str() of every argument) raises RecursionError before any plugin runs; so does ours
    Case("nested_beyond_recursion_limit", [deny(["zzz"])], raises(RecursionError), args=nested(5000, "x")),
]
CASES[-2].args = circular()  # a dataclass default cannot build it


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
async def test_odd_value(case: Case) -> None:
    manager = TenantPluginManager(Config(plugins=case.plugins))
    await manager.initialize()
    try:
        payload = ToolPreInvokePayload(name=case.name, args=case.args)
        gc = GlobalContext(**{"request_id": "r", **case.gc})
        try:
            res, _ = await manager.invoke_hook("tool_pre_invoke", payload, gc, **case.kw)
        except Exception as exc:  # noqa: BLE001 - the check says which exception is right
            res = exc
        case.check(res)
    finally:
        await manager.shutdown()


async def test_go_plugin_called_directly_with_surrogates() -> None:
    """A fire-and-forget Go guard is called through its own hook coroutine (not a core
    step): its facts and payload cross with the same escapes."""
    manager = TenantPluginManager(Config(plugins=[deny(["zzz"], mode="fire_and_forget")]))
    await manager.initialize()
    try:
        res, _ = await manager.invoke_hook(
            "tool_pre_invoke", ToolPreInvokePayload(name=f"t{S}", args={"q": f"x{S}"}),
            GlobalContext(request_id=f"r{S}", user={"id": f"u{S}"}, tenant_id=f"t{S}"),
        )
        assert res.continue_processing is True
        assert await asyncio.gather(*res.background_tasks) == [None]  # no failure
    finally:
        await manager.shutdown()
