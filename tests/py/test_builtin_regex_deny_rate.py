"""builtin/regex_replace, builtin/deny_list and builtin/rate_limiter loaded from YAML and run
inside chains with Python plugins, through the public cpex.framework API (the Go guards are
compiled into the extension; their unit tests, fuzz targets and benchmarks are in
core/builtins/*_test.go)."""

from __future__ import annotations

import shutil
import socket
import subprocess
import tempfile
import textwrap
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any, ClassVar

import pytest

from cpex.framework import (
    GlobalContext,
    Plugin,
    PluginContext,
    PluginError,
    PluginResult,
    PluginViolationError,
    PromptPrehookPayload,
    TenantPluginManager,
    ToolPostInvokePayload,
    ToolPreInvokePayload,
)

MODULE = __name__  # the Python plugins below are loaded by dotted path, like any plugin


class AddNote(Plugin):
    """Adds args["note"] = config.note: a Python modification the Go guards must see."""

    async def tool_pre_invoke(self, payload: ToolPreInvokePayload, context: PluginContext) -> PluginResult:
        args = dict(payload.args or {})
        args["note"] = (self.config.config or {}).get("note", "")
        return PluginResult(modified_payload=payload.model_copy(update={"args": args}))


class Seen(Plugin):
    """Records what it received, to show what the Go guard handed down the chain."""

    calls: ClassVar[list[tuple[str, Any]]] = []

    async def tool_pre_invoke(self, payload: ToolPreInvokePayload, context: PluginContext) -> PluginResult:
        Seen.calls.append((self.name, payload.args))
        return PluginResult()

    async def tool_post_invoke(self, payload: ToolPostInvokePayload, context: PluginContext) -> PluginResult:
        Seen.calls.append((self.name, payload.result))
        return PluginResult()

    async def prompt_pre_fetch(self, payload: PromptPrehookPayload, context: PluginContext) -> PluginResult:
        Seen.calls.append((self.name, payload.args))
        return PluginResult()


@pytest.fixture(autouse=True)
def _reset_seen() -> None:
    Seen.calls = []


def write_config(tmp_path: Path, body: str) -> str:
    path = tmp_path / "plugins.yaml"
    path.write_text(textwrap.dedent(body))
    return str(path)


async def load(tmp_path: Path, body: str) -> TenantPluginManager:
    manager = TenantPluginManager(write_config(tmp_path, body))
    await manager.initialize()
    return manager


def ctx(user: Any = "alice@example.com", tenant: str | None = None) -> GlobalContext:
    return GlobalContext(request_id="req-1", server_id="srv-1", tenant_id=tenant, user=user)


# --- regex_replace ---------------------------------------------------------------------------

REGEX_CHAIN = f"""
plugins:
  - name: note
    kind: {MODULE}.AddNote
    hooks: [tool_pre_invoke]
    priority: 10
    config: {{note: "what crap"}}
  - name: ReplaceBadWordsPlugin
    kind: builtin/regex_replace
    hooks: [prompt_pre_fetch, prompt_post_fetch, tool_pre_invoke, tool_post_invoke]
    priority: 20
    config:
      words:
        - search: crap
          replace: crud
        - search: crud
          replace: yikes
        - search: '(\\w+)@(\\w+)\\.com'
          replace: '\\2 at \\1'
  - name: after
    kind: {MODULE}.Seen
    hooks: [tool_pre_invoke, tool_post_invoke]
    priority: 30
"""


async def test_regex_replace_rewrites_nested_args_between_python_plugins(tmp_path: Path) -> None:
    manager = await load(tmp_path, REGEX_CHAIN)
    payload = ToolPreInvokePayload(name="crap", args={"q": {"deep": ["crap", 7, "mail bob@acme.com"]}})
    result, _ = await manager.invoke_hook("tool_pre_invoke", payload, ctx())
    want = {"q": {"deep": ["yikes", 7, "mail acme at bob"]}, "note": "what yikes"}
    # the Python plugin after the Go guard received the rewritten payload
    assert Seen.calls == [("after", want)]
    assert result.continue_processing is True
    assert result.modified_payload.args == want
    assert result.modified_payload.name == "crap"  # identifiers are not content
    assert payload.args == {"q": {"deep": ["crap", 7, "mail bob@acme.com"]}}  # the caller's payload is untouched
    assert [(r.plugin_name, r.payload_modified) for r in result.executions] == [
        ("note", True), ("ReplaceBadWordsPlugin", True), ("after", False)]
    await manager.shutdown()


async def test_regex_replace_tool_result_and_clean_text(tmp_path: Path) -> None:
    manager = await load(tmp_path, REGEX_CHAIN)
    result, _ = await manager.invoke_hook(
        "tool_post_invoke",
        ToolPostInvokePayload(name="t", result={"content": [{"type": "text", "text": "crap happens"}]}), ctx())
    assert result.modified_payload.result == {"content": [{"type": "text", "text": "yikes happens"}]}
    clean, _ = await manager.invoke_hook("tool_post_invoke", ToolPostInvokePayload(name="t", result="fine"), ctx())
    assert clean.modified_payload is None
    await manager.shutdown()


async def test_regex_replace_prompt_args(tmp_path: Path) -> None:
    manager = await load(tmp_path, REGEX_CHAIN)
    result, _ = await manager.invoke_hook(
        "prompt_pre_fetch", PromptPrehookPayload(prompt_id="p", args={"text": "crap"}), ctx())
    assert result.modified_payload.args == {"text": "yikes"}
    await manager.shutdown()


# --- deny_list -------------------------------------------------------------------------------

DENY_CHAIN = f"""
plugins:
  - name: DenyListPlugin
    kind: builtin/deny_list
    hooks: [prompt_pre_fetch]
    mode: enforce
    priority: 100
    conditions:
      - prompts: [test_prompt]
        server_ids: []
        tenant_ids: []
    config:
      words: [innovative, groundbreaking, revolutionary]
  - name: after
    kind: {MODULE}.Seen
    hooks: [prompt_pre_fetch]
    priority: 200
"""


async def test_deny_list_blocks_the_chain(tmp_path: Path) -> None:
    manager = await load(tmp_path, DENY_CHAIN)
    payload = PromptPrehookPayload(prompt_id="test_prompt", args={"topic": "a groundbreaking idea"})
    result, _ = await manager.invoke_hook("prompt_pre_fetch", payload, ctx())
    assert result.continue_processing is False
    v = result.violation
    assert (v.code, v.reason, v.plugin_name) == ("deny", "Prompt not allowed", "DenyListPlugin")
    assert v.description == "A deny word was found in args.topic"
    assert v.details == {"field": "args.topic", "word": "groundbreaking"}
    assert Seen.calls == []  # the chain stopped before the Python plugin

    with pytest.raises(PluginViolationError) as info:
        await manager.invoke_hook("prompt_pre_fetch", payload, ctx(), violations_as_exceptions=True)
    assert str(info.value) == ("prompt_pre_fetch blocked by plugin DenyListPlugin: deny - Prompt not allowed "
                               "(A deny word was found in args.topic)")
    await manager.shutdown()


async def test_deny_list_case_and_conditions(tmp_path: Path) -> None:
    manager = await load(tmp_path, DENY_CHAIN)
    # case-sensitive by default, as the gateway's DenyListPlugin
    result, _ = await manager.invoke_hook(
        "prompt_pre_fetch", PromptPrehookPayload(prompt_id="test_prompt", args={"t": "Innovative"}), ctx())
    assert result.continue_processing is True and Seen.calls == [("after", {"t": "Innovative"})]
    # the condition restricts it to test_prompt
    result, _ = await manager.invoke_hook(
        "prompt_pre_fetch", PromptPrehookPayload(prompt_id="other", args={"t": "innovative"}), ctx())
    assert result.continue_processing is True
    await manager.shutdown()

    folded = await load(tmp_path, DENY_CHAIN.replace(
        "words: [innovative, groundbreaking, revolutionary]", "{words: [innovative], case_sensitive: false}"))
    result, _ = await folded.invoke_hook(
        "prompt_pre_fetch", PromptPrehookPayload(prompt_id="test_prompt", args={"t": "INNOVATIVE"}), ctx())
    assert result.continue_processing is False
    await folded.shutdown()


# --- rate_limiter ----------------------------------------------------------------------------

def rate_chain(extra: str = "") -> str:
    return f"""
plugins:
  - name: RateLimiterPlugin
    kind: builtin/rate_limiter
    hooks: [prompt_pre_fetch, tool_pre_invoke]
    mode: enforce
    priority: 20
    config:
      by_user: "2/m"
      by_tenant: "3/m"
      by_tool: {{search: "10/m"}}
{textwrap.indent(textwrap.dedent(extra), " " * 6)}
  - name: after
    kind: {MODULE}.Seen
    hooks: [tool_pre_invoke]
    priority: 30
"""


async def call(manager: TenantPluginManager, user: Any, tenant: str | None = None, tool: str = "search") -> Any:
    result, _ = await manager.invoke_hook("tool_pre_invoke", ToolPreInvokePayload(name=tool, args={}), ctx(user, tenant))
    return result


def assert_limited(result: Any, dimension: str) -> None:
    assert result.continue_processing is False
    v = result.violation
    assert (v.code, v.http_status_code, v.plugin_name) == ("RATE_LIMIT", 429, "RateLimiterPlugin")
    assert v.details["dimension"] == dimension
    retry_after = int(v.http_headers["Retry-After"])
    assert 1 <= retry_after <= 60
    # a halted chain reports retry_delay_ms=0 (cpex 0.1 §11.7); the plugin's own result has it
    assert result.retry_delay_ms == 0


async def test_rate_limiter_memory_blocks_with_429(tmp_path: Path) -> None:
    manager = await load(tmp_path, rate_chain())
    assert [(await call(manager, "alice")).continue_processing for _ in range(2)] == [True, True]
    assert len(Seen.calls) == 2  # allowed requests reach the Python plugin after the limiter
    assert_limited(await call(manager, "alice"), "user")
    assert len(Seen.calls) == 2
    # called directly, the plugin's own result carries the delay the chain drops
    plugin = manager._registry.get_plugin("RateLimiterPlugin").plugin
    alone = await plugin.tool_pre_invoke(ToolPreInvokePayload(name="search", args={}),
                                         PluginContext(global_context=ctx("alice")))
    assert alone.continue_processing is False and alone.violation.code == "RATE_LIMIT"
    assert 0 < alone.retry_delay_ms <= 60_000
    # another user has their own counter
    assert (await call(manager, "bob")).continue_processing is True
    # a tenant's users share the tenant limit (3/m)
    assert [(await call(manager, u, "acme")).continue_processing for u in ("u1", "u2", "u3")] == [True, True, True]
    assert_limited(await call(manager, "u4", "acme"), "tenant")
    await manager.shutdown()


async def test_rate_limiter_dict_users_are_not_throttled_together(tmp_path: Path) -> None:
    # by_user is 2/m: ten different dict users, two calls each of a tool without a by_tool
    # limit, must all pass (they are never lumped into one "anonymous" counter, whatever
    # the transport tells Go of them).
    manager = await load(tmp_path, rate_chain().replace('by_tenant: "3/m"', 'by_tenant: "100/m"'))
    for i in range(10):
        user = {"email": f"user{i}@example.com", "is_admin": False}
        assert [(await call(manager, user, tool="lookup")).continue_processing for _ in range(2)] == [True, True]
    await manager.shutdown()


async def test_rate_limiter_bad_config_names_the_key(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PLUGINS_FAIL_ON_PLUGIN_ERROR", "true")
    from cpex.framework.settings import settings

    settings.cache_clear()
    with pytest.raises(RuntimeError) as info:
        await load(tmp_path, rate_chain().replace('by_user: "2/m"', 'by_user: "2 per minute"'))
    assert "by_user" in str(info.value) and "RateLimiterPlugin" in str(info.value)
    assert isinstance(info.value.__cause__, PluginError)


# The Redis backend: a private redis-server for this module, on a free loopback port.

@pytest.fixture(scope="module")
def redis_url() -> Iterator[str]:
    binary = shutil.which("redis-server")
    if binary is None:
        pytest.skip("redis-server is not installed (scripts/ensure-redis.sh installs it as root); "
                    "skipping the Redis backend test")
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    with tempfile.TemporaryDirectory() as workdir:
        proc = subprocess.Popen([binary, "--port", str(port), "--bind", "127.0.0.1", "--dir", workdir,
                                 "--save", "", "--appendonly", "no"],
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            for _ in range(500):  # setup only: wait until it accepts connections
                if proc.poll() is not None:
                    pytest.skip(f"redis-server exited at start (code {proc.returncode}); skipping the Redis backend test")
                try:
                    with socket.create_connection(("127.0.0.1", port), timeout=0.2) as s:
                        s.sendall(b"PING\r\n")
                        if s.recv(16).startswith(b"+PONG"):
                            break
                except OSError:
                    time.sleep(0.02)
            else:
                pytest.skip("redis-server did not answer; skipping the Redis backend test")
            yield f"redis://127.0.0.1:{port}/0"
        finally:
            proc.kill()
            proc.wait()


async def test_rate_limiter_redis_replicas_share_one_limit(tmp_path: Path, redis_url: str) -> None:
    body = rate_chain(f"""
        backend: redis
        redis_url: "{redis_url}"
        redis_key_prefix: pytest
        redis_fallback: false
        algorithm: token_bucket
    """)
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    replica_a = await load(tmp_path / "a", body)
    replica_b = await load(tmp_path / "b", body)
    assert (await call(replica_a, "carol")).continue_processing is True
    assert (await call(replica_b, "carol")).continue_processing is True
    limited = await call(replica_a, "carol")  # the third request, whichever replica gets it
    assert_limited(limited, "user")
    assert limited.violation.details["backend"] == "redis"
    assert limited.violation.details["algorithm"] == "token_bucket"
    await replica_a.shutdown()
    await replica_b.shutdown()
