"""Message hooks through PluginManager.invoke_hook: Python plugins (by @hook on cmf.* names)
and the Go guards in one chain; the guards scan the message's content parts and hand back
a valid MessagePayload."""

from __future__ import annotations

import textwrap
from pathlib import Path
from typing import Any

from cpex.framework import GlobalContext, Plugin, PluginContext, PluginViolation, TenantPluginManager
from cpex.framework.cmf.message import (
    Message,
    Role,
    TextContent,
    ToolCall,
    ToolCallContentPart,
    ToolResult,
    ToolResultContentPart,
)
from cpex.framework.decorator import hook
from cpex.framework.hooks.message import CmfHookType, MessageHookType, MessagePayload, MessageResult
from cpex.framework.hooks.registry import get_hook_registry

SEEN: list[Any] = []


class AddSignature(Plugin):
    """Appends a text part carrying personal data before the Go guard runs."""

    @hook(CmfHookType.LLM_INPUT)
    async def add(self, payload: MessagePayload, context: PluginContext) -> MessageResult:
        msg = payload.message
        extra = TextContent(text="reach me at jane.doe@corp.io")
        changed = msg.model_copy(update={"content": [*msg.content, extra]})
        return MessageResult(modified_payload=payload.model_copy(update={"message": changed}))


class Seen(Plugin):
    """Records the message it gets after the Go guard, as typed views."""

    @hook([CmfHookType.LLM_INPUT, CmfHookType.TOOL_POST_INVOKE])
    async def seen(self, payload: MessagePayload, context: PluginContext) -> MessageResult:
        assert isinstance(payload, MessagePayload)
        SEEN.append([(v.kind.value, v.content) for v in payload.message.iter_views(hook=payload.hook.value)])
        return MessageResult()


class DenyTool(Plugin):
    """Denies tool calls named 'rm' found in the message's views."""

    @hook(CmfHookType.TOOL_PRE_INVOKE)
    async def check(self, payload: MessagePayload, context: PluginContext) -> MessageResult:
        for view in payload.message.iter_views():
            if view.is_tool and view.name == "rm":
                violation = PluginViolation(reason="denied", description=f"{view.uri} denied", code="TOOL_DENIED", details={})
                return MessageResult(continue_processing=False, violation=violation)
        return MessageResult()


CHAIN = """
plugins:
  - name: add_signature
    kind: test_cmf_hooks.AddSignature
    hooks: [cmf.llm_input]
    priority: 10
  - name: pii
    kind: builtin/pii_filter
    hooks: [cmf.llm_input, cmf.tool_post_invoke]
    mode: sequential
    priority: 20
  - name: secrets
    kind: builtin/secrets_detection
    hooks: [cmf.tool_post_invoke]
    priority: 15
    config:
      redact: true
      block_on_detection: false
      redaction_text: "[SECRET]"
  - name: seen
    kind: test_cmf_hooks.Seen
    hooks: [cmf.llm_input, cmf.tool_post_invoke]
    priority: 30
  - name: deny_tool
    kind: test_cmf_hooks.DenyTool
    hooks: [cmf.tool_pre_invoke]
"""


async def _manager(tmp_path: Path) -> TenantPluginManager:
    SEEN.clear()
    path = tmp_path / "plugins.yaml"
    path.write_text(textwrap.dedent(CHAIN))
    manager = TenantPluginManager(str(path))
    await manager.initialize()
    return manager


def _ctx() -> GlobalContext:
    return GlobalContext(request_id="req-cmf", server_id="srv")


def test_hooks_registered_like_upstream() -> None:
    registry = get_hook_registry()
    for name in [MessageHookType.EVALUATE, *CmfHookType]:
        assert registry.get_payload_type(name) is MessagePayload
        assert registry.get_result_type(name) is MessageResult
    payload = registry.json_to_payload("cmf.llm_input", '{"message": {"role": "user"}}')
    assert isinstance(payload, MessagePayload) and payload.hook is MessageHookType.EVALUATE


async def test_go_guard_masks_message_between_python_plugins(tmp_path: Path) -> None:
    manager = await _manager(tmp_path)
    msg = Message(role=Role.USER, content=[TextContent(text="my SSN is 123-45-6789")])
    payload = MessagePayload(message=msg, hook=MessageHookType.LLM_INPUT)
    result, _ = await manager.invoke_hook(CmfHookType.LLM_INPUT, payload, _ctx())
    assert result.continue_processing is True
    out = result.modified_payload
    assert isinstance(out, MessagePayload)
    assert [p.text for p in out.message.content] == ["my SSN is [REDACTED]", "reach me at [REDACTED]"]
    assert out.hook is MessageHookType.LLM_INPUT
    assert SEEN == [[("text", "my SSN is [REDACTED]"), ("text", "reach me at [REDACTED]")]]
    assert [(r.plugin_name, r.payload_modified) for r in result.executions] == [
        ("add_signature", True),
        ("pii", True),
        ("seen", False),
    ]
    await manager.shutdown()


async def test_go_guards_on_tool_result_leave_ids_alone(tmp_path: Path) -> None:
    manager = await _manager(tmp_path)
    part = ToolResultContentPart(
        content=ToolResult(tool_call_id="bob@corp.io", tool_name="lookup", content={"k": "AKIAFAKE12345EXAMPLE mail bob@corp.io"})
    )
    payload = MessagePayload(message=Message(role=Role.TOOL, content=[part]), hook=MessageHookType.TOOL_POST_INVOKE)
    result, _ = await manager.invoke_hook(CmfHookType.TOOL_POST_INVOKE, payload, _ctx())
    inner = result.modified_payload.message.content[0].content
    assert inner.content == {"k": "[SECRET] mail [REDACTED]"}
    assert inner.tool_call_id == "bob@corp.io"
    assert result.metadata["secrets_detection"]["secret_types"] == ["aws_access_key_id"]
    await manager.shutdown()


async def test_python_policy_denies_from_views(tmp_path: Path) -> None:
    manager = await _manager(tmp_path)
    call = ToolCallContentPart(content=ToolCall(tool_call_id="t1", name="rm", arguments={"path": "/"}))
    payload = MessagePayload(message=Message(role=Role.ASSISTANT, content=[call]))
    result, _ = await manager.invoke_hook(CmfHookType.TOOL_PRE_INVOKE, payload, _ctx())
    assert result.continue_processing is False
    assert result.violation is not None
    assert (result.violation.code, result.violation.plugin_name) == ("TOOL_DENIED", "deny_tool")
    assert result.violation.description == "tool://_/rm denied"
    await manager.shutdown()
