"""Chain rules (pybind/runchain.go, docs/protocol.md "Chain rules"): a run of Python
plugins that the core's standing answer covers crosses with ints only, and answers
exactly what the general protocol answers: result, records, metadata, contexts, logs,
errors. Each case runs both paths on managers of the same config and compares."""

from __future__ import annotations

import asyncio
import logging
from typing import Any, Optional

import pytest

import fixture_plugins as fp
from cpex.framework import GlobalContext, PluginResult, ToolPreInvokePayload
from cpex.framework._engine import wire
from cpex.framework.manager import PayloadSizeError, TenantPluginManager
from cpex.framework.models import Config, PluginConfig

HOOK = "tool_pre_invoke"


def _config(*plugins: tuple[str, str, str], on_error: str = "fail") -> Config:
    return Config(plugins=[
        PluginConfig(name=name, kind=f"fixture_plugins.{kind}", hooks=[HOOK], mode=mode, priority=k,
                     on_error=on_error, config={"k": k})
        for k, (name, kind, mode) in enumerate(plugins, start=1)
    ])


class Suspends(fp.Plugin):
    """A plain outcome after a suspension (the timeout's path)."""

    async def tool_pre_invoke(self, payload: Any, context: Any) -> PluginResult:
        await asyncio.sleep(0)
        context.state["after"] = True
        return PluginResult(metadata={"late": self.name})


fp.Suspends = Suspends  # type: ignore[attr-defined]

CONFIGS = {
    "one no-op": _config(("p", "Passthrough", "sequential")),
    "state and metadata": _config(
        ("w1", "StateWriter", "sequential"), ("w2", "StateWriter", "transform"), ("a", "Recorder", "audit"),
        ("s", "Suspends", "sequential")),
    "a modification mid-chain": _config(
        ("w", "StateWriter", "sequential"), ("set", "SetArg", "transform"), ("p", "Passthrough", "sequential")),
    "a block mid-chain": _config(("p", "Passthrough", "sequential"), ("b", "Block", "sequential"),
                                 ("q", "Passthrough", "sequential")),
    "an ignored failure": _config(("p", "Passthrough", "sequential"), ("x", "Boom", "sequential"),
                                  ("q", "Passthrough", "sequential"), on_error="ignore"),
}


def _shape(result: PluginResult, table: Any) -> dict[str, Any]:
    """What a caller observes of a chain's answer, without durations and plugin ids (each
    manager's plugins have their own); the context table in its order."""
    return {
        "cont": result.continue_processing,
        "payload": result.modified_payload.model_dump() if result.modified_payload is not None else None,
        "violation": result.violation.model_dump() if result.violation is not None else None,
        "metadata": result.metadata,
        "tasks": result.background_tasks,
        "retry": result.retry_delay_ms,
        "records": [r.model_dump(exclude={"duration_ns", "plugin_id"}) for r in result.executions],
        "record_types": [(type(r.mode), type(r.status), type(r.config_keys)) for r in result.executions],
        "fields_set": [r.model_fields_set for r in result.executions],
        "table": [(v.state, v.global_context.state, v.global_context.metadata) for v in (table or {}).values()],
    }


class _Counter:
    """Counts the crossings of the protocol functions that start and end runs."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch, no_rules: bool) -> None:
        wire._bind()
        self.calls: list[str] = []
        for name in ("run_start", "run_chain_rule", "run_chain_start", "run_chain_end", "run_report_plain"):
            real = getattr(wire, name)

            def spy(*args: Any, _real: Any = real, _name: str = name) -> Any:
                self.calls.append(_name)
                if _name == "run_chain_rule" and no_rules:
                    return '{"rule":0}'
                return _real(*args)

            monkeypatch.setattr(wire, name, spy)


async def _both(config: Config, monkeypatch: pytest.MonkeyPatch, runs: int = 3, **kwargs: Any) -> list[Any]:
    """Runs the hook ``runs`` times on each path (the rule's, then the general one): the
    answers (or errors), the logs and the crossings of each."""
    out = []
    for no_rules in (False, True):
        with monkeypatch.context() as m:
            counter = _Counter(m, no_rules)
            manager = TenantPluginManager(config)
            await manager.initialize()
            shapes: list[Any] = []
            for k in range(runs):
                payload = kwargs.get("payload") or ToolPreInvokePayload(name="t", args={"q": "x"})
                try:
                    shapes.append(_shape(*await manager.invoke_hook(
                        HOOK, payload, GlobalContext(request_id=f"r{k}", state={"seed": k}),
                        violations_as_exceptions=kwargs.get("vexc", False))))
                except Exception as exc:  # noqa: BLE001 - compared below
                    shapes.append((type(exc), str(exc)))
            out.append((shapes, counter.calls))
            await manager.shutdown()
    return out


@pytest.mark.parametrize("name", list(CONFIGS))
@pytest.mark.parametrize("vexc", [False, True])
async def test_a_chain_rule_answers_what_the_general_protocol_answers(
    name: str, vexc: bool, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    (rule_shapes, rule_calls), (general_shapes, general_calls) = await _both(CONFIGS[name], monkeypatch, vexc=vexc)
    assert rule_shapes == general_shapes
    # the rule's path was taken, asked once; the general one never starts a run with it
    assert rule_calls.count("run_chain_rule") == 1 and rule_calls.count("run_chain_start") == 3
    assert "run_start" not in rule_calls and "run_chain_start" not in general_calls
    # logs: the same lines on both paths, in the same order (each path logs its three runs)
    lines = [(r.levelno, r.getMessage()) for r in caplog.records if r.name.startswith("cpex")]
    half = len(lines) // 2
    assert lines[:half] == lines[half:]


async def test_a_plain_chain_crosses_twice_with_ints_only(monkeypatch: pytest.MonkeyPatch) -> None:
    (shapes, calls), _ = await _both(CONFIGS["one no-op"], monkeypatch, runs=2)
    assert calls == ["run_chain_rule", "run_chain_start", "run_chain_end", "run_chain_start", "run_chain_end"]
    assert shapes[0]["records"][0]["plugin_name"] == "p" and shapes[0]["records"][0]["config_keys"] == ["k"]


async def test_records_are_objects_of_their_own_per_run(monkeypatch: pytest.MonkeyPatch) -> None:
    manager = TenantPluginManager(CONFIGS["one no-op"])
    await manager.initialize()
    first, _ = await manager.invoke_hook(HOOK, ToolPreInvokePayload(name="t"), GlobalContext(request_id="a"))
    first.executions[0].config_keys.append("mine")
    second, _ = await manager.invoke_hook(HOOK, ToolPreInvokePayload(name="t"), GlobalContext(request_id="b"))
    assert second.executions[0].config_keys == ["k"]
    assert second.executions[0] is not first.executions[0]
    assert second.executions[0].duration_ns > 0
    await manager.shutdown()


async def test_a_plugin_disabled_after_the_rule_is_skipped_as_on_the_general_path(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    config = CONFIGS["state and metadata"]
    answers = []
    for no_rules in (False, True):
        with monkeypatch.context() as m:
            _Counter(m, no_rules)
            manager = TenantPluginManager(config)
            await manager.initialize()
            await manager.invoke_hook(HOOK, ToolPreInvokePayload(name="t"), GlobalContext(request_id="a"))
            manager.executor._runtime_disabled.add("w2")
            result = await manager.invoke_hook(HOOK, ToolPreInvokePayload(name="t"), GlobalContext(request_id="b"))
            answers.append(_shape(*result))
            await manager.shutdown()
    assert answers[0] == answers[1]
    assert [r["plugin_name"] for r in answers[0]["records"]] == ["w1", "s", "a"]


async def test_the_size_guard_still_raises_on_the_rules_path(monkeypatch: pytest.MonkeyPatch) -> None:
    big = ToolPreInvokePayload(name="t", args={"q": "x" * 1_000_001})
    (shapes, calls), (general, _) = await _both(CONFIGS["one no-op"], monkeypatch, runs=2, payload=big)
    assert shapes == general
    assert shapes[0][0] is PayloadSizeError and "exceeds limit" in shapes[0][1]
    assert "run_chain_start" in calls


async def test_an_option_change_is_seen_by_the_next_run(monkeypatch: pytest.MonkeyPatch) -> None:
    seen: list[Optional[float]] = []
    manager = TenantPluginManager(CONFIGS["one no-op"])
    await manager.initialize()
    real = wire.run_chain_start

    def spy(rule: int, attr: str, size: int) -> str:
        answer = real(rule, attr, size)
        seen.append(None if answer[0] != "{" else float(wire_loads(answer)["timeout"]))
        return answer

    wire._bind()
    monkeypatch.setattr(wire, "run_chain_start", spy)
    await manager.invoke_hook(HOOK, ToolPreInvokePayload(name="t"), GlobalContext(request_id="a"))
    manager.executor.timeout = 7
    result, _ = await manager.invoke_hook(HOOK, ToolPreInvokePayload(name="t"), GlobalContext(request_id="b"))
    assert result.continue_processing and len(result.executions) == 1
    # the option change dropped the rules: asked again, the new rule holds
    assert seen == [None, None]
    await manager.shutdown()


def wire_loads(text: str) -> dict[str, Any]:
    import orjson

    loaded: dict[str, Any] = orjson.loads(text)
    return loaded


async def test_concurrent_runs_on_the_rules_path_answer_as_the_general_path(monkeypatch: pytest.MonkeyPatch) -> None:
    # interleaved runs of one rule (a hook suspends in each): each run keeps its own id,
    # contexts and records
    answers = []
    for no_rules in (False, True):
        with monkeypatch.context() as m:
            counter = _Counter(m, no_rules)
            manager = TenantPluginManager(CONFIGS["state and metadata"])
            await manager.initialize()
            results = await asyncio.gather(*[
                manager.invoke_hook(HOOK, ToolPreInvokePayload(name="t", args={"k": k}),
                                    GlobalContext(request_id=f"r{k}", state={"seed": k}))
                for k in range(20)
            ])
            answers.append([_shape(*r) for r in results])
            if not no_rules:
                assert counter.calls.count("run_chain_end") == 20 and "run_start" not in counter.calls
            await manager.shutdown()
    assert answers[0] == answers[1]
