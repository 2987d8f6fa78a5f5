"""Span boundaries and attribute names (spec §20, gateway-contract §3)."""

from __future__ import annotations

from typing import Any, Optional

import fixture_plugins as fp
from cpex.framework import GlobalContext, ToolPreInvokePayload
from cpex.framework.manager import PluginExecutor
from cpex.framework.observability import current_trace_id


class Spans:
    def __init__(self) -> None:
        self.events: list[tuple[Any, ...]] = []

    def start_span(self, trace_id: str, name: str, kind: str = "internal", resource_type: Optional[str] = None,
                   resource_name: Optional[str] = None, attributes: Optional[dict[str, Any]] = None) -> Optional[str]:
        self.events.append(("start", trace_id, name, kind, resource_type, resource_name, attributes))
        return f"span-{len(self.events)}"

    def end_span(self, span_id: Optional[str], status: str = "ok", attributes: Optional[dict[str, Any]] = None) -> None:
        self.events.append(("end", span_id, status, attributes))


async def test_spans_only_with_a_trace_id(make_ref: Any, gctx: GlobalContext) -> None:
    spans = Spans()
    executor = PluginExecutor(observability=spans)
    await executor.execute([make_ref(fp.Passthrough, name="p")], ToolPreInvokePayload(name="t"), gctx, "tool_pre_invoke")
    assert spans.events == []


async def test_chain_and_plugin_spans(make_ref: Any, gctx: GlobalContext) -> None:
    spans = Spans()
    executor = PluginExecutor(observability=spans)
    refs = [make_ref(fp.SetArg, name="p", priority=7), make_ref(fp.Passthrough, name="skipped", mode="disabled")]
    token = current_trace_id.set("trace-1")
    try:
        await executor.execute(refs, ToolPreInvokePayload(name="t"), gctx, "tool_pre_invoke")
    finally:
        current_trace_id.reset(token)
    start_chain, start_plugin, end_plugin, end_chain = spans.events
    assert start_chain[:4] == ("start", "trace-1", "plugin.hook.invoke", "internal")
    assert start_chain[6] == {"plugin.hook.type": "tool_pre_invoke", "plugin.chain.length": 2}
    assert start_plugin[2] == "plugin.execute.p" and start_plugin[4:6] == ("plugin", "p")
    attrs = start_plugin[6]
    assert attrs["plugin.name"] == "p" and attrs["plugin.mode"] == "sequential" and attrs["plugin.priority"] == 7
    assert set(attrs) == {"plugin.name", "plugin.uuid", "plugin.mode", "plugin.priority", "plugin.timeout"}
    assert end_plugin[2:] == ("ok", {"plugin.had_violation": False, "plugin.modified_payload": True})
    assert end_chain[2] == "ok"
    assert end_chain[3] == {"plugin.executed_count": 1, "plugin.skipped_count": 1, "plugin.chain.stopped": False,
                            "plugin.chain.stopped_by": ""}
