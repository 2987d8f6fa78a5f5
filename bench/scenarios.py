"""What each scenario runs: configs, hooks, payloads and the gateway's policy map.

This module is imported by the worker in *both* virtualenvs (upstream cpex 0.1.4 and
ours), so it only touches the public `cpex.framework` API that both share. Everything
that decides what is measured lives here, once, so the two sides cannot drift apart.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from pathlib import Path
from typing import Any

BENCH_DIR = Path(__file__).resolve().parent
CONFIG_DIR = BENCH_DIR / "configs"


@dataclass(frozen=True)
class Scenario:
    """One measured row of the table.

    key:      row name in the table and in latest.json.
    setup:    which manager the worker builds (see Worker.setup); rows that share a
              setup (S0's two rows) share one manager.
    batch:    calls timed together; a sample is the batch's time divided by `batch`
              (only for S0's calls of a few microseconds or less, where reading the
              clock would weigh on a single-call timing).
    kind:     "latency" (lower is better, ratio = ours/upstream of the median) or
              "throughput" (higher is better, ratio = ours/upstream of calls per second).
    """

    key: str
    setup: str
    title: str
    batch: int = 1
    kind: str = "latency"
    hook: str = "tool_pre_invoke"  # the hook a latency sample invokes (S0 rows aside)
    payload: str = "pre"  # which of the setup's payloads (Worker.setup) it passes


SCENARIOS: tuple[Scenario, ...] = (
    Scenario("S0.has_hooks_for", "S0", "has_hooks_for on a hook with no plugins", batch=200),
    Scenario("S0.invoke_hook", "S0", "invoke_hook on a hook with no plugins", batch=20),
    Scenario("S1", "S1", "tool_pre_invoke, 1 Python no-op plugin"),
    Scenario("S2", "S2", "tool_pre_invoke, 10 Python no-op plugins, sequential, gateway policies"),
    Scenario("S3", "S3", "tool_pre_invoke, 10 Python plugins across the five modes"),
    Scenario("S4", "S4", "PII + secrets + regex replace + deny list on 16 KB of tool args"),
    Scenario("S5", "S5", "200 concurrent asyncio tasks, S2 pre + post hooks", kind="throughput"),
    Scenario("S7.pre", "S7", "published PyO3 plugins (PII, secrets) on tool_pre_invoke"),
    Scenario("S7.post", "S7", "published PyO3 plugins (PII, secrets, encoded exfil) on tool_post_invoke",
             hook="tool_post_invoke", payload="post"),
    Scenario("S7.url", "S7", "published PyO3 plugin (URL reputation) on resource_pre_fetch",
             hook="resource_pre_fetch", payload="resource"),
)

# Config file per setup and implementation. Only S4 differs between the two sides:
# upstream has no built-in guards, so it runs bench_plugins.guards (the same work in
# Python, same patterns); ours runs the Go built-ins (kind: builtin/...).
CONFIGS: dict[str, dict[str, str]] = {
    "S0": {"upstream": "s1_one_noop.yaml", "ours": "s1_one_noop.yaml"},
    "S1": {"upstream": "s1_one_noop.yaml", "ours": "s1_one_noop.yaml"},
    "S2": {"upstream": "s2_ten_noop.yaml", "ours": "s2_ten_noop.yaml"},
    "S3": {"upstream": "s3_five_modes.yaml", "ours": "s3_five_modes.yaml"},
    "S4": {"upstream": "s4_guards_python.yaml", "ours": "s4_guards_builtin.yaml"},
    "S5": {"upstream": "s2_ten_noop.yaml", "ours": "s2_ten_noop.yaml"},
    "S7": {"upstream": "s7_published.yaml", "ours": "s7_published.yaml"},
    "M1": {"upstream": "s2_ten_noop.yaml", "ours": "s2_ten_noop.yaml"},
}

# Setups that run with the gateway's HookPayloadPolicy map. S1 and S0 run with none
# (the library default: no policy, default "allow"), as a plain embedding would.
WITH_POLICIES = {"S2", "S3", "S4", "S5", "S7", "M1"}

# The writable fields per hook that the ContextForge gateway passes as hook_policies
# (mcpgateway/plugins/policy.py, see shared/spec/gateway-contract.md §3).
GATEWAY_WRITABLE_FIELDS: dict[str, tuple[str, ...]] = {
    "tool_pre_invoke": ("name", "args", "headers"),
    "tool_post_invoke": ("result",),
    "prompt_pre_fetch": ("args",),
    "prompt_post_fetch": ("result",),
    "resource_pre_fetch": ("uri", "metadata"),
    "resource_post_fetch": ("content",),
    "agent_pre_invoke": ("agent_id", "messages", "tools", "model", "system_prompt", "parameters", "headers"),
    "agent_post_invoke": ("messages", "tool_calls"),
    "http_pre_request": ("headers",),
    "http_post_request": ("headers",),
    "http_auth_resolve_user": (),
    "http_auth_check_permission": ("reason",),
}

S0_HOOK = "prompt_pre_fetch"  # no plugin of the S0 config registers it
GUARD_HOOK = "tool_pre_invoke"
S4_ARGS_BYTES = 16 * 1024
S5_TASKS = 200  # concurrent clients of S5


def config_path(setup: str, impl: str) -> Path:
    return CONFIG_DIR / CONFIGS[setup][impl]


def gateway_policies(fw: Any) -> dict[str, Any]:
    """The gateway's map, built from the implementation's own HookPayloadPolicy class."""
    policy_cls = fw.HookPayloadPolicy
    return {hook: policy_cls(writable_fields=frozenset(fields)) for hook, fields in GATEWAY_WRITABLE_FIELDS.items()}


def global_context(fw: Any, i: int) -> Any:
    """A fresh GlobalContext per call, as the gateway builds one per request."""
    return fw.GlobalContext(
        request_id=f"req-{i}",
        server_id="srv-bench",
        tenant_id="team-bench",
        user="bench@example.com",
    )


def tool_pre_payload(fw: Any) -> Any:
    return fw.ToolPreInvokePayload(
        name="search_documents",
        args={"query": "quarterly revenue by region", "limit": 10, "filters": {"year": 2026, "lang": "en"}},
    )


def tool_post_payload(fw: Any) -> Any:
    return fw.ToolPostInvokePayload(
        name="search_documents",
        result={
            "content": [{"type": "text", "text": "3 documents matched: q1.pdf, q2.pdf, q3.pdf"}],
            "isError": False,
        },
    )


def prompt_payload(fw: Any) -> Any:
    return fw.PromptPrehookPayload(prompt_id="summarise", args={"topic": "benchmarks"})


# --- S4: a 16 KB tool-args payload with a realistic mix of findings ------------------

# Filler words, deliberately free of deny-list words so the chain runs to its end.
_WORDS = (
    "the report lists quarterly figures for each region and the analysts compare them "
    "with last year while the team prepares a summary for the board meeting next week "
    "customers asked about delivery times invoices and the new pricing model"
).split()

# Findings sprinkled into the text. Card numbers pass the Luhn check; the AWS key pair,
# Slack token and private key header are the documented fake examples.
_FINDINGS = (
    "contact alice.smith@example.com for details",
    "call +1 (415) 555-0132 tomorrow",
    "SSN 123-45-6789 on file",
    "card 4111 1111 1111 1111 exp 12/29",
    "server at 10.12.0.7 is slow",
    "key AKIAIOSFODNN7EXAMPLE was rotated",
    "aws_secret_access_key=wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
    "slack xoxb-123456789012-1234567890123-AbCdEfGhIjKlMnOpQrStUvWx",
    "this is crap and darn annoying",
)


def _text(rng: random.Random, size: int, every: int) -> str:
    parts: list[str] = []
    length = 0
    n = 0
    while length < size:
        n += 1
        piece = _FINDINGS[rng.randrange(len(_FINDINGS))] if n % every == 0 else rng.choice(_WORDS)
        parts.append(piece)
        length += len(piece) + 1
    return " ".join(parts)[:size]


def s4_args() -> dict[str, Any]:
    """16 KB of string content in a nested dict/list, deterministic (fixed seed)."""
    rng = random.Random(20261128)
    return {
        "query": _text(rng, 4096, 40),
        "documents": [_text(rng, 2048, 30) for _ in range(4)],
        "metadata": {"notes": _text(rng, 4096, 35), "author": "bench@example.com", "pages": 12},
        "limit": 10,
    }


def s4_payload(fw: Any) -> Any:
    return fw.ToolPreInvokePayload(name="ingest_documents", args=s4_args())


def payload_string_bytes(value: Any) -> int:
    """Total length of the strings inside a JSON-like value (what the guards scan)."""
    if isinstance(value, str):
        return len(value)
    if isinstance(value, dict):
        return sum(payload_string_bytes(v) for v in value.values())
    if isinstance(value, list):
        return sum(payload_string_bytes(v) for v in value)
    return 0


# --- S7: what the gateway's published PyO3 plugins see on a typical request ----------

# An e-mail tool call: a recipient (PII the filter masks), a subject and a ~1.5 KB body of
# ordinary text with one more address; no secret (the secrets plugin would block).
_S7_BODY = (
    "Hi team, the quarterly review is moved to Thursday. Please send the updated figures "
    "for each region before noon, and copy finance@corp.example on anything about pricing. "
) * 8


def s7_pre_payload(fw: Any) -> Any:
    return fw.ToolPreInvokePayload(
        name="send_email",
        args={"to": "jane.doe@corp.example", "subject": "Quarterly review moved", "body": _S7_BODY,
              "priority": "normal"},
    )


def s7_post_payload(fw: Any) -> Any:
    # A search tool's answer: ~2 KB of text content with a contact address and a URL.
    text = ("Result: the onboarding guide at https://docs.corp.example/onboarding covers "
            "accounts, laptops and the first week; questions go to it-help@corp.example. ") * 12
    return fw.ToolPostInvokePayload(
        name="search_documents",
        result={"content": [{"type": "text", "text": text}], "isError": False},
    )


def s7_resource_payload(fw: Any) -> Any:
    return fw.ResourcePreFetchPayload(uri="https://docs.corp.example/guides/onboarding.md", metadata={})
