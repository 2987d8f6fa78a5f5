"""builtin/pii_filter and builtin/secrets_detection selected from YAML and run in one chain with
Python plugins: the Go guards see what the Python plugins before them wrote, and the Python
plugins after them see the masked payload; blocks, violations and metadata arrive as from a
Python plugin."""

from __future__ import annotations

import textwrap
from pathlib import Path
from typing import Any

import pytest

from cpex.framework import (
    GlobalContext,
    Plugin,
    PluginContext,
    PluginResult,
    PromptPosthookPayload,
    PromptPrehookPayload,
    ResourcePostFetchPayload,
    TenantPluginManager,
    ToolPostInvokePayload,
    ToolPreInvokePayload,
)

# ---- Python plugins of the chain (loaded by kind: test_builtin_pii_secrets.<Class>) ----

SEEN: list[tuple[str, Any]] = []


def _plain(value: Any) -> Any:
    """The JSON form of whatever a payload field holds (dicts may arrive as StructuredData)."""
    dump = getattr(value, "model_dump", None)
    return dump(mode="json") if callable(dump) else value


class AddContact(Plugin):
    """Writes personal data into the tool args before the Go guard runs."""

    async def tool_pre_invoke(self, payload: ToolPreInvokePayload, context: PluginContext) -> PluginResult:
        args = dict(payload.args or {})
        args["contact"] = "jane.doe@corp.io, test@example.com, 555-123-4567"
        return PluginResult(modified_payload=payload.model_copy(update={"args": args}))


class Seen(Plugin):
    """Records what it receives, after the Go guards."""

    async def tool_pre_invoke(self, payload: ToolPreInvokePayload, context: PluginContext) -> PluginResult:
        SEEN.append(("tool_pre_invoke", dict(payload.args or {})))
        return PluginResult()

    async def tool_post_invoke(self, payload: ToolPostInvokePayload, context: PluginContext) -> PluginResult:
        SEEN.append(("tool_post_invoke", _plain(payload.result)))
        return PluginResult()

    async def prompt_post_fetch(self, payload: PromptPosthookPayload, context: PluginContext) -> PluginResult:
        SEEN.append(("prompt_post_fetch", _plain(payload.result)))
        return PluginResult()

    async def resource_post_fetch(self, payload: ResourcePostFetchPayload, context: PluginContext) -> PluginResult:
        SEEN.append(("resource_post_fetch", _plain(payload.content)))
        return PluginResult()


CHAIN = """
plugins:
  - name: add_contact
    kind: test_builtin_pii_secrets.AddContact
    hooks: [tool_pre_invoke]
    priority: 10
  - name: pii
    kind: builtin/pii_filter
    hooks: [tool_pre_invoke, tool_post_invoke, prompt_post_fetch]
    mode: sequential
    priority: 20
    config:
      detect_phone: false
      default_mask_strategy: partial
      include_detection_details: true
      whitelist_patterns: ["test@example.com"]
  - name: secrets
    kind: builtin/secrets_detection
    hooks: [tool_post_invoke, resource_post_fetch]
    priority: 15
    config:
      redact: true
      block_on_detection: false
      redaction_text: "[SECRET]"
  - name: seen
    kind: test_builtin_pii_secrets.Seen
    hooks: [tool_pre_invoke, tool_post_invoke, prompt_post_fetch, resource_post_fetch]
    priority: 30
  - name: secrets_block
    kind: builtin/secrets_detection
    hooks: [prompt_pre_fetch]
    mode: sequential
"""


@pytest.fixture(autouse=True)
def _clear_seen() -> None:
    SEEN.clear()


async def manager_from(tmp_path: Path, yaml_text: str) -> TenantPluginManager:
    path = tmp_path / "plugins.yaml"
    path.write_text(textwrap.dedent(yaml_text))
    manager = TenantPluginManager(str(path))
    await manager.initialize()
    return manager


def ctx() -> GlobalContext:
    return GlobalContext(request_id="req-guards", server_id="srv")


async def test_pii_masks_what_a_python_plugin_wrote(tmp_path: Path) -> None:
    manager = await manager_from(tmp_path, CHAIN)
    result, _ = await manager.invoke_hook("tool_pre_invoke", ToolPreInvokePayload(name="crm", args={"q": "hi"}), ctx())
    masked = {"q": "hi", "contact": "j***e@corp.io, test@example.com, 555-123-4567"}
    assert result.continue_processing is True
    assert result.modified_payload.args == masked
    assert SEEN == [("tool_pre_invoke", masked)]
    assert result.metadata["pii_filter"]["detection_types"] == ["email"]
    assert result.metadata["pii_detections"] == {"tool_pre_invoke": {"email": 1}}
    assert [(r.plugin_name, r.plugin_kind, r.payload_modified) for r in result.executions] == [
        ("add_contact", "test_builtin_pii_secrets.AddContact", True),
        ("pii", "builtin/pii_filter", True),
        ("seen", "test_builtin_pii_secrets.Seen", False),
    ]
    await manager.shutdown()


async def test_two_go_guards_chain_on_a_tool_result(tmp_path: Path) -> None:
    manager = await manager_from(tmp_path, CHAIN)
    payload = ToolPostInvokePayload(
        name="crm",
        result={"content": [{"type": "text", "text": "key AKIAFAKE12345EXAMPLE mail bob.s@corp.io"}], "isError": False},
    )
    result, _ = await manager.invoke_hook("tool_post_invoke", payload, ctx())
    want = {"content": [{"type": "text", "text": "key [SECRET] mail b***s@corp.io"}], "isError": False}
    assert _plain(result.modified_payload.result) == want
    assert SEEN == [("tool_post_invoke", want)]
    assert result.metadata["secrets_detection"]["secret_types"] == ["aws_access_key_id"]
    assert result.metadata["secrets_detection"]["total_masked"] == 1
    # raw values never reach metadata
    assert "AKIAFAKE12345EXAMPLE" not in repr(result.metadata)
    assert "bob.s@corp.io" not in repr(result.metadata)
    await manager.shutdown()


async def test_secrets_block_halts_with_a_violation(tmp_path: Path) -> None:
    manager = await manager_from(tmp_path, CHAIN)
    payload = PromptPrehookPayload(prompt_id="p1", args={"token": "xoxb-1234567890-ABCDEFGHIJKL"})
    result, _ = await manager.invoke_hook("prompt_pre_fetch", payload, ctx())
    assert result.continue_processing is False
    assert result.violation is not None
    assert result.violation.code == "SECRETS_DETECTED"
    assert result.violation.reason == "Secrets detected"
    assert result.violation.plugin_name == "secrets_block"
    assert result.violation.details == {"count": 1, "examples": [{"type": "slack_token"}]}
    await manager.shutdown()


async def test_pii_masks_prompt_messages(tmp_path: Path) -> None:
    manager = await manager_from(tmp_path, CHAIN)
    messages = {"messages": [{"role": "user", "content": {"type": "text", "text": "SSN 123-45-6789 please"}}]}
    result, _ = await manager.invoke_hook("prompt_post_fetch", PromptPosthookPayload(prompt_id="p1", result=messages), ctx())
    want = {"messages": [{"role": "user", "content": {"type": "text", "text": "SSN ***-**-6789 please"}}]}
    assert _plain(result.modified_payload.result) == want
    assert SEEN == [("prompt_post_fetch", want)]
    await manager.shutdown()


async def test_secrets_redacts_resource_content(tmp_path: Path) -> None:
    manager = await manager_from(tmp_path, CHAIN)
    pem = "-----BEGIN RSA PRIVATE KEY-----\nMIIEpAIBAAKCAQEA\n-----END RSA PRIVATE KEY-----"
    payload = ResourcePostFetchPayload(uri="file:///id_rsa", content={"uri": "file:///id_rsa", "text": f"key:\n{pem}\n"})
    result, _ = await manager.invoke_hook("resource_post_fetch", payload, ctx())
    assert _plain(result.modified_payload.content) == {"uri": "file:///id_rsa", "text": "key:\n[SECRET]\n"}
    await manager.shutdown()


async def test_gateway_pii_entry_migrates_by_changing_kind(tmp_path: Path) -> None:
    # the active PIIFilterPlugin entry of the gateway's plugins/config.yaml, kind changed only
    manager = await manager_from(tmp_path, """
        plugins:
          - name: "PIIFilterPlugin"
            kind: "builtin/pii_filter"
            hooks: ["prompt_pre_fetch", "prompt_post_fetch", "tool_pre_invoke", "tool_post_invoke"]
            tags: ["security", "pii", "compliance", "filter", "gdpr", "hipaa"]
            mode: "enforce"
            priority: 50
            conditions:
              - prompts: []
                server_ids: []
                tenant_ids: []
            config:
              detect_ssn: true
              detect_credit_card: true
              detect_email: true
              detect_phone: false
              detect_ip_address: false
              default_mask_strategy: "partial"
              redaction_text: "[PII_REDACTED]"
              block_on_detection: false
              log_detections: true
              include_detection_details: true
              whitelist_patterns:
                - "test@example.com"
                - "555-555-5555"
    """)
    payload = PromptPrehookPayload(prompt_id="p", args={"card": "4111 1111 1111 1111", "ok": "test@example.com"})
    result, _ = await manager.invoke_hook("prompt_pre_fetch", payload, ctx())
    assert result.modified_payload.args == {"card": "****-****-****-1111", "ok": "test@example.com"}
    await manager.shutdown()


BAD_KEY = """
    plugins:
      - name: pii
        kind: builtin/pii_filter
        hooks: [tool_pre_invoke]
        config:
          detect_emails: true
"""


async def test_unknown_config_key_is_a_load_error_naming_it(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from cpex.framework.settings import settings

    monkeypatch.setenv("PLUGINS_FAIL_ON_PLUGIN_ERROR", "true")
    settings.cache_clear()
    with pytest.raises(Exception, match='config key "detect_emails" \\(value true\\): unknown key'):
        await manager_from(tmp_path, BAD_KEY)


async def test_unknown_config_key_fails_even_when_load_errors_are_tolerated(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    # fail_on_plugin_error false (the default) skips a broken Python plugin, never a Go
    # guard: skipped, its hooks would allow everything (core.LoadFailureFailsClosed)
    with pytest.raises(RuntimeError, match='config key "detect_emails" \\(value true\\): unknown key'):
        await manager_from(tmp_path, BAD_KEY)
    assert any("detect_emails" in r.getMessage() for r in caplog.records)
