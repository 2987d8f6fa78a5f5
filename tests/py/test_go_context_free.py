"""A Go built-in that never reads its context (the core answers "ctx": false) is sent
the timeout alone as its facts from its second call on; a plugin that reads its context
always gets the request's facts. Either way the results are the general path's."""

from __future__ import annotations

from typing import Any

import orjson
import pytest

from cpex.framework import GlobalContext, TenantPluginManager, ToolPreInvokePayload
from cpex.framework._engine import wire
from cpex.framework.models import Config, PluginConfig

HOOK = "tool_pre_invoke"


async def _manager(name: str, kind: str, config: dict[str, Any]) -> TenantPluginManager:
    manager = TenantPluginManager(
        Config(plugins=[PluginConfig(name=name, kind=kind, hooks=[HOOK], mode="sequential", priority=1, config=config or None)])
    )
    await manager.initialize()
    return manager


@pytest.mark.parametrize(
    "kind,config,reads",
    [
        ("builtin/pii_filter", {"detect_email": True}, False),
        ("builtin/secrets_detection", {}, False),
        ("builtin/test_context", {"echo": True}, True),
    ],
)
@pytest.mark.parametrize("fast", [True, False], ids=["single", "general"])
async def test_facts_sent_follow_the_cores_answer(
    kind: str, config: dict[str, Any], reads: bool, fast: bool, monkeypatch: pytest.MonkeyPatch, request: pytest.FixtureRequest
) -> None:
    name = f"{request.node.name}"
    manager = await _manager(name, kind, config)
    if not fast:
        del manager.get_plugin(name).tool_pre_invoke.go_single  # type: ignore[union-attr]
    sent: list[dict[str, Any]] = []
    entry = "go_plugin_single" if fast else "go_plugin_invoke"
    original = getattr(wire, entry)

    def spy(*args: Any) -> Any:
        sent.append(orjson.loads(args[-1]))
        return original(*args)

    monkeypatch.setattr(wire, entry, spy)
    payload = ToolPreInvokePayload(name="t", args={"q": "mail a.user@example.com"})
    gc = GlobalContext(request_id="r1", server_id="s", user={"email": "a@example.com"})
    results = [await manager.invoke_hook_for_plugin(name, HOOK, payload, gc) for _ in range(3)]
    await manager.shutdown()
    assert len(sent) == 3
    assert sent[0]["rid"] == "r1" and sent[0]["user"] == {"keys": ["email"], "values": {"email": "a@example.com"}}
    for facts in sent[1:]:
        if reads:
            assert facts == sent[0]
        else:
            assert facts == {"timeout": sent[0]["timeout"]}
    assert results[1].model_dump() == results[0].model_dump() == results[2].model_dump()
