"""The observability module: provider protocol, null provider, trace-id ContextVar (spec §20).

Span boundaries and attributes produced during a hook run belong to the executor and
are tested with it (tests/py/test_executor_spans.py).
"""

from __future__ import annotations

import asyncio
import inspect
from contextvars import ContextVar, copy_context
from typing import Any, Optional

import pytest

from cpex.framework import ObservabilityProvider
from cpex.framework.observability import NullObservability, current_trace_id


def test_current_trace_id_is_a_named_contextvar_defaulting_to_none() -> None:
    assert isinstance(current_trace_id, ContextVar)
    assert current_trace_id.name == "current_trace_id"
    assert copy_context().run(current_trace_id.get) is None


async def test_trace_id_follows_the_task_context() -> None:
    seen: list[Optional[str]] = []

    async def child() -> None:
        seen.append(current_trace_id.get())

    token = current_trace_id.set("trace-42")
    try:
        await asyncio.create_task(child())  # tasks copy the caller's context
    finally:
        current_trace_id.reset(token)
    await asyncio.create_task(child())
    assert seen == ["trace-42", None]


def test_null_provider_records_nothing() -> None:
    provider = NullObservability()
    assert provider.start_span("t", "plugin.hook.invoke") is None
    assert provider.start_span("t", "n", "internal", "plugin", "p", {"a": 1}) is None
    assert provider.end_span(None) is None
    assert provider.end_span("span", "error", {"x": True}) is None


@pytest.mark.parametrize("method", ["start_span", "end_span"])
def test_protocol_signatures(method: str) -> None:
    expected = {
        "start_span": [
            ("trace_id", inspect.Parameter.empty),
            ("name", inspect.Parameter.empty),
            ("kind", "internal"),
            ("resource_type", None),
            ("resource_name", None),
            ("attributes", None),
        ],
        "end_span": [("span_id", inspect.Parameter.empty), ("status", "ok"), ("attributes", None)],
    }[method]
    for cls in (ObservabilityProvider, NullObservability):
        params = list(inspect.signature(getattr(cls, method)).parameters.values())[1:]
        assert [(p.name, p.default) for p in params] == expected


def test_protocol_is_structural_and_not_runtime_checkable() -> None:
    class Recorder:
        def __init__(self) -> None:
            self.calls: list[Any] = []

        def start_span(self, trace_id: str, name: str, kind: str = "internal", resource_type: Optional[str] = None,
                       resource_name: Optional[str] = None,
                       attributes: Optional[dict[str, Any]] = None) -> Optional[str]:
            self.calls.append(name)
            return "id"

        def end_span(self, span_id: Optional[str], status: str = "ok",
                     attributes: Optional[dict[str, Any]] = None) -> None:
            self.calls.append(span_id)

    provider: ObservabilityProvider = Recorder()  # duck typing is enough for type checkers and the manager
    assert provider.start_span("t", "n") == "id"
    with pytest.raises(TypeError):
        isinstance(Recorder(), ObservabilityProvider)  # type: ignore[misc]
