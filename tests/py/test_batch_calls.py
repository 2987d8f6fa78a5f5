"""Batched serial calls (docs/protocol.md, "Batches"): identical to one report per plugin.

Batching is the driver's only path. Each scenario runs twice on fresh executors: as the
driver runs it, and with a driver that ignores a call step's "next" (one RunReport per
plugin, which the protocol allows), and everything a
caller can observe is compared: the result (payload, metadata, violation, retry,
records), the raised error, the global context, the context table, which plugins ran
and what they saw, and the log lines. The crossing counts show the batching happens.
Chain rules (test_chain_rules.py), which take plain chains off this path, are refused
here: these tests are about the batches.
"""

from __future__ import annotations

import logging
from typing import Any, Callable, Optional

import pytest

import fixture_plugins as fp
from cpex.framework import GlobalContext, ToolPreInvokePayload, _driver
from cpex.framework._engine import wire
from cpex.framework.manager import PluginExecutor

Spec = tuple[type, str, dict[str, Any]]  # plugin class, mode, extra config fields


@pytest.fixture(autouse=True)
def _clear_calls() -> None:
    fp.CALLS.clear()
    fp.Recorder.seen = []


@pytest.fixture(autouse=True)
def _no_chain_rules(monkeypatch: pytest.MonkeyPatch) -> None:
    wire._bind()
    monkeypatch.setattr(wire, "run_chain_rule", lambda plan, facts: '{"rule":0}')


class Crossings:
    def __init__(self) -> None:
        self.single = 0
        self.batches: list[int] = []


@pytest.fixture
def crossings(monkeypatch: pytest.MonkeyPatch) -> Crossings:
    seen = Crossings()
    report, plain = wire.run_report, wire.run_report_plain

    def counting_report(run: int, outcome: str) -> str:
        seen.single += 1
        return report(run, outcome)

    def counting_plain(run: int, pairs: str, last: str) -> str:
        seen.batches.append(len(pairs.split(",")) * bool(pairs) + bool(last))
        return plain(run, pairs, last)

    monkeypatch.setattr(wire, "run_report", counting_report)
    monkeypatch.setattr(wire, "run_report_plain", counting_plain)
    return seen


async def _one_by_one(self: Any, step: dict[str, Any]) -> str:
    # a driver that never batches: it reports the listed call alone, as RunReport allows,
    # and writes a plain outcome out as the full document (RunReportPlain's meaning of a pair)
    out = await self._call(step)
    if out is None:
        out = (f'{{"i":{step["i"]},"st":"ok","cont":true,"ret":"none","ext":0,"viol":null,'
               f'"retry":0,"dur":{self.plain_dur}}}')
    return str(wire.run_report(self.id, out))


def _unbatched(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(_driver._Run, "_calls", _one_by_one)


def _refs(make_ref: Callable[..., Any], specs: list[Spec]) -> list[Any]:
    refs = []
    for k, (cls, mode, extra) in enumerate(specs):
        fields: dict[str, Any] = {"name": f"p{k}", "mode": mode, "priority": k + 1}
        fields.update(extra)
        refs.append(make_ref(cls, **fields))
    return refs


def _record(rec: Any) -> dict[str, Any]:
    d = rec.model_dump()
    d.pop("duration_ns")  # a measured time
    d.pop("plugin_id")  # a fresh uuid per registration
    return d


def _records(recs: list[Any]) -> list[dict[str, Any]]:
    # the concurrent phase reports completions in the order asyncio hands them over,
    # which is not deterministic and not what batching touches: compare them as a set
    serial = [_record(r) for r in recs if r.mode != "concurrent"]
    conc = sorted((_record(r) for r in recs if r.mode == "concurrent"), key=lambda d: d["plugin_name"])
    return serial + conc


async def _observe(
    make_ref: Callable[..., Any], specs: list[Spec], batch: bool, monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture, **kw: Any,
) -> dict[str, Any]:
    monkeypatch.undo()
    if not batch:
        _unbatched(monkeypatch)
    fp.CALLS.clear()
    fp.Recorder.seen = []
    caplog.clear()
    gctx = GlobalContext(request_id="req-1", server_id="srv-1", user="alice@example.com")
    payload = ToolPreInvokePayload(name="search", args={"q": "x"})
    out: dict[str, Any] = {}
    table: Optional[dict[str, Any]] = None
    refs = _refs(make_ref, specs)
    names = {gctx.request_id + r.plugin_ref.uuid: r.plugin_ref.name for r in refs}  # table keys
    try:
        result, table = await PluginExecutor().execute(refs, payload, gctx, "tool_pre_invoke", **kw)
        await result.wait_for_background_tasks()
        out["result"] = {
            "cont": result.continue_processing,
            "payload": None if result.modified_payload is None else result.modified_payload.model_dump(),
            "metadata": result.metadata,
            "violation": None if result.violation is None else result.violation.model_dump(),
            "retry": result.retry_delay_ms,
            "records": _records(result.executions),
        }
    except Exception as exc:  # noqa: BLE001 - compared as data
        out["error"] = (type(exc).__name__, str(exc), _records(getattr(exc, "executions", None) or []))
    out["gctx"] = (gctx.state, gctx.metadata)
    out["table"] = None if table is None else [
        (names[k], v.state, v.global_context.state, v.global_context.metadata) for k, v in table.items()
    ]
    out["calls"] = list(fp.CALLS)
    out["seen"] = list(fp.Recorder.seen)
    out["logs"] = [(r.levelname, r.getMessage()) for r in caplog.records if r.name == "cpex.framework.manager"]
    return out


P, S, B, R = fp.Passthrough, fp.SetArg, fp.Block, fp.Recorder
SCENARIOS: dict[str, tuple[list[Spec], dict[str, Any]]] = {
    "ten plain sequential": ([(P, "sequential", {})] * 10, {}),
    "modification in the middle is seen by the next": (
        [(P, "sequential", {}), (S, "sequential", {"config": {"key": "a", "value": 1}}), (R, "sequential", {}), (P, "transform", {})], {}),
    "block stops the chain": ([(P, "sequential", {}), (P, "sequential", {}), (B, "sequential", {}), (P, "sequential", {})], {}),
    "block raised as violation": ([(P, "sequential", {}), (B, "sequential", {}), (P, "sequential", {})], {"violations_as_exceptions": True}),
    "transform block suppressed": ([(P, "sequential", {}), (B, "transform", {}), (R, "transform", {}), (P, "audit", {})], {}),
    "error ignored then plain": ([(P, "sequential", {}), (fp.Boom, "sequential", {"on_error": "ignore"}), (P, "sequential", {})], {}),
    "error fails": ([(P, "sequential", {}), (fp.Boom, "sequential", {}), (P, "sequential", {})], {}),
    "plugin error disables": ([(P, "sequential", {}), (fp.RaisesPluginError, "sequential", {"on_error": "disable"}), (P, "audit", {})], {}),
    "violation error raised": ([(P, "sequential", {}), (fp.RaisesViolation, "sequential", {}), (P, "sequential", {})], {}),
    "state writers merge in order": ([(fp.StateWriter, "sequential", {})] * 3 + [(fp.StateWriter, "audit", {})], {}),
    "all five modes": (
        [(P, "sequential", {}), (P, "transform", {}), (P, "audit", {}), (P, "concurrent", {}), (P, "fire_and_forget", {})] * 2, {}),
    "retry from a setter": ([(P, "sequential", {}), (S, "sequential", {"config": {"retry": 40}}), (P, "sequential", {})], {}),
}


@pytest.mark.parametrize("name", list(SCENARIOS))
async def test_batched_run_is_identical(
    name: str, make_ref: Callable[..., Any], monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG, logger="cpex.framework.manager")
    specs, kw = SCENARIOS[name]
    single = await _observe(make_ref, specs, False, monkeypatch, caplog, **kw)
    batched = await _observe(make_ref, specs, True, monkeypatch, caplog, **kw)
    assert batched == single


async def test_plain_chain_crosses_once(make_ref: Callable[..., Any], crossings: Crossings, gctx: GlobalContext) -> None:
    refs = _refs(make_ref, [(P, "sequential", {})] * 10)
    payload = ToolPreInvokePayload(name="search", args={"q": "x"})
    result, _ = await PluginExecutor().execute(refs, payload, gctx, "tool_pre_invoke")
    assert len(result.executions) == 10
    assert (crossings.single, crossings.batches) == (0, [10])


async def test_batch_stops_at_the_first_outcome_that_is_not_plain(
    make_ref: Callable[..., Any], crossings: Crossings, gctx: GlobalContext,
) -> None:
    refs = _refs(make_ref, [(P, "sequential", {}), (S, "sequential", {}), (R, "sequential", {}), (P, "sequential", {})])
    payload = ToolPreInvokePayload(name="search", args={"q": "x"})
    await PluginExecutor().execute(refs, payload, gctx, "tool_pre_invoke")
    # p0 plain, p1 modifies: reported together; p2 ran only after the core committed
    # p1's payload (it saw it), then p2 and p3 together
    assert crossings.batches == [2, 2]
    assert fp.Recorder.seen == [("p2", {"q": "x", "k": "p1"})]


async def test_a_driver_that_ignores_next_reports_each_plugin(
    make_ref: Callable[..., Any], crossings: Crossings, gctx: GlobalContext, monkeypatch: pytest.MonkeyPatch,
) -> None:
    _unbatched(monkeypatch)
    refs = _refs(make_ref, [(P, "sequential", {})] * 3)
    payload = ToolPreInvokePayload(name="search", args={"q": "x"})
    await PluginExecutor().execute(refs, payload, gctx, "tool_pre_invoke")
    # the first two by the test's driver; the last call step lists no "next", so the
    # real driver reports it, plain, as a one-pair RunReportPlain
    assert (crossings.single, crossings.batches) == (2, [1])


def test_native_refuses_a_batch_that_breaks_the_rules() -> None:
    with pytest.raises(RuntimeError, match="RunReportPlain: run"):
        wire.run_report_plain(10**9, "0:5", "")
    with pytest.raises(RuntimeError, match="RunReportPlain"):
        wire.run_report_plain(10**9, "05", "")
