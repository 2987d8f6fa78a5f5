"""invoke_hook_for_plugin of a Go plugin: one crossing (GoPluginSingle, _goplugin.py), and
exactly what the general path (the hook awaited, then RunSinglePlain / RunSingleReport)
gives: results, violations, errors, and the calls the metrics count."""

from __future__ import annotations

from collections import Counter
from typing import Any, Optional

import pytest

from counting import outcome_counts
from cpex.framework import GlobalContext, TenantPluginManager, ToolPreInvokePayload
from cpex.framework._engine import wire
from cpex.framework.models import Config, PluginConfig

HOOK = "tool_pre_invoke"

# (kind, config, args): a plain allow, a modified payload, blocks with violations, an error
PLUGINS: dict[str, tuple[str, dict[str, Any], dict[str, Any]]] = {
    "noop": ("builtin/noop", {}, {"q": "x"}),
    "pii": ("builtin/pii_filter", {"detect_email": True, "include_detection_details": True}, {"q": "mail a.user@example.com"}),
    "deny": ("builtin/deny_list", {"words": ["forbidden"]}, {"q": "a forbidden word"}),
    "secrets": ("builtin/secrets_detection", {"block_on_detection": True}, {"k": "AKIAIOSFODNN7EXAMPLE"}),
    "probe_block": ("builtin/test_context", {"block": True, "echo": True}, {"q": "x"}),
    "probe_fail": ("builtin/test_context", {"fail": "boom"}, {"q": "x"}),
}


async def manager_of(name: str, plugin: str, mode: str, on_error: str, fast: bool) -> TenantPluginManager:
    kind, cfg, _ = PLUGINS[plugin]
    manager = TenantPluginManager(
        Config(plugins=[PluginConfig(name=name, kind=kind, hooks=[HOOK], mode=mode, on_error=on_error, priority=1, config=cfg or None)]),
        metrics=True,
    )
    await manager.initialize()
    if not fast:  # the general path: the hook awaited as any plugin's
        del manager.get_plugin(name).tool_pre_invoke.go_single  # type: ignore[union-attr]
    return manager


def counts(name: str) -> dict[str, int]:
    return outcome_counts(name, HOOK)


async def outcome(manager: TenantPluginManager, name: str, plugin: str, vexc: bool) -> Any:
    payload = ToolPreInvokePayload(name="search", args=PLUGINS[plugin][2])
    try:
        r = await manager.invoke_hook_for_plugin(name, HOOK, payload, GlobalContext(request_id="r", user={"email": "e"}),
                                                 violations_as_exceptions=vexc)
    except Exception as exc:  # noqa: BLE001 - compared by type and text
        violation = getattr(exc, "violation", None)
        return ("raised", type(exc).__name__, str(exc), None if violation is None else violation.model_dump())
    return (
        r.continue_processing,
        None if r.modified_payload is None else r.modified_payload.model_dump(),
        None if r.violation is None else r.violation.model_dump(),
        r.metadata,
        r.retry_delay_ms,
        r.model_fields_set,
    )


@pytest.mark.parametrize("plugin", list(PLUGINS))
@pytest.mark.parametrize("mode", ["sequential", "transform", "audit"])
@pytest.mark.parametrize("on_error", ["fail", "ignore"])
@pytest.mark.parametrize("vexc", [False, True])
async def test_one_crossing_gives_what_the_general_path_gives(
    plugin: str, mode: str, on_error: str, vexc: bool, request: pytest.FixtureRequest
) -> None:
    tag = f"{request.node.name}-"
    fast = await manager_of(tag + "fast", plugin, mode, on_error, fast=True)
    general = await manager_of(tag + "general", plugin, mode, on_error, fast=False)
    got = [await outcome(fast, tag + "fast", plugin, vexc) for _ in range(2)]
    want = [await outcome(general, tag + "general", plugin, vexc) for _ in range(2)]
    assert _renamed(got, tag + "fast") == _renamed(want, tag + "general")
    assert counts(tag + "fast") == counts(tag + "general") and sum(counts(tag + "fast").values()) == 2


def _renamed(v: Any, name: str) -> Any:
    """The outcome with the plugin's name (which differs between the two managers) masked."""
    if isinstance(v, str):
        return v.replace(name, "<plugin>")
    if isinstance(v, (list, tuple)):
        return type(v)(_renamed(x, name) for x in v)
    if isinstance(v, dict):
        return {_renamed(k, name): _renamed(x, name) for k, x in v.items()}
    return v


async def test_a_call_crosses_once(monkeypatch: pytest.MonkeyPatch, request: pytest.FixtureRequest) -> None:
    seen: Counter[str] = Counter()
    for fn in ("go_plugin_single", "go_plugin_invoke", "run_single_plain", "run_single_report", "run_single", "run_report"):
        real = getattr(wire, fn)

        def counted(*args: Any, _real: Any = real, _fn: str = fn) -> Any:
            seen[_fn] += 1
            return _real(*args)

        monkeypatch.setattr(wire, fn, counted)
    name = request.node.name
    for plugin in ("noop", "pii", "deny"):
        manager = await manager_of(name + plugin, plugin, "sequential", "fail", fast=True)
        await outcome(manager, name + plugin, plugin, False)
    # the PII filter's modified payload is validated by the driver before the core decides
    # on the call: it is reported as any hook's outcome (a second crossing)
    assert seen == Counter({"go_plugin_single": 3, "run_single_report": 1})
    # a failing call is reported as the hook's error, as on the general path
    manager = await manager_of(name + "fail", "probe_fail", "sequential", "ignore", fast=True)
    result: Optional[Any] = await outcome(manager, name + "fail", "probe_fail", False)
    assert result is not None and result[0] is True
    assert seen == Counter({"go_plugin_single": 4, "run_single_report": 2})
