"""The payload frame of the core's answers (docs/protocol.md, "Framing"): a Go plugin's new
payload crosses as JSON text after the answer's header, read once, never escaped twice."""

from __future__ import annotations

import json
from typing import Any

import pytest

from cpex.framework import GlobalContext, TenantPluginManager, ToolPreInvokePayload
from cpex.framework._engine import wire
from cpex.framework.models import Config, PluginConfig, PluginContext

# Text that a doubly escaped or badly split frame would mangle: newlines, quotes,
# backslashes, escapes' look-alikes, non-ASCII and the JS line separators.
TRICKY = 'crap\nline "quoted" \\ back \\n not-a-newline é 中 \u2028\u2029 </script> {"x":1}\n'


@pytest.mark.parametrize(
    ("answer", "head", "frame"),
    [
        ('{"run":1,"op":"next"}', '{"run":1,"op":"next"}', None),
        ('{"run":1}\n{"a":"x\\ny"}', '{"run":1}', '{"a":"x\\ny"}'),
        ('{"run":1}\n{"a":\n1}\n', '{"run":1}', '{"a":\n1}\n'),  # only the first newline splits
        ('{"run":1}\n', '{"run":1}', None),
    ],
)
def test_split_frames(answer: str, head: str, frame: Any) -> None:
    assert wire.split_frames(answer) == (head, frame)


def _redact() -> PluginConfig:
    return PluginConfig(
        name="redact",
        kind="builtin/regex_replace",
        hooks=["tool_pre_invoke"],
        config={"words": [{"search": "crap", "replace": "crud"}]},
    )


async def test_go_step_answer_frames_the_new_payload(monkeypatch: pytest.MonkeyPatch) -> None:
    manager = TenantPluginManager(Config(plugins=[_redact()]))
    await manager.initialize()
    seen: list[str] = []
    real = wire.run_go

    def spy(run: int, payload: str) -> str:
        answer = real(run, payload)
        seen.append(answer)
        return answer

    monkeypatch.setattr(wire, "run_go", spy)
    result, _ = await manager.invoke_hook(
        "tool_pre_invoke",
        ToolPreInvokePayload(name="t", args={"q": TRICKY, "n": 1e-7}),
        GlobalContext(request_id="r"),
    )
    assert result.modified_payload == ToolPreInvokePayload(name="t", args={"q": TRICKY.replace("crap", "crud"), "n": 1e-7})
    # the header announced the frame, which holds the payload text itself (one escaping)
    head, frame = wire.split_frames(seen[-1])
    assert '"effects":{"payload":true' in head and frame is not None
    assert json.loads(frame)["args"]["q"] == TRICKY.replace("crap", "crud")
    await manager.shutdown()


async def test_go_plugin_invoke_frames_the_modified_payload() -> None:
    manager = TenantPluginManager(Config(plugins=[_redact()]))
    await manager.initialize()
    plugin = manager.get_plugin("redact")
    assert plugin is not None
    context = PluginContext(global_context=GlobalContext(request_id="r"))
    result = await plugin.tool_pre_invoke(ToolPreInvokePayload(name="t", args={"q": TRICKY}), context)
    assert result.modified_payload == ToolPreInvokePayload(name="t", args={"q": TRICKY.replace("crap", "crud")})
    unchanged = await plugin.tool_pre_invoke(ToolPreInvokePayload(name="t", args={"q": "clean"}), context)
    assert unchanged.modified_payload is None
    await manager.shutdown()
