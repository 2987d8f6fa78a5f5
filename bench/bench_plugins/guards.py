"""S4 on upstream: the four guards as plain Python plugins, doing the work our Go
built-ins do (builtin/pii_filter, builtin/secrets_detection, builtin/regex_replace,
builtin/deny_list), with the same config keys and the same patterns, in the way a
pure-Python plugin does it: one `re` pattern per detector over every string of the
scanned payload field, at any depth.

Upstream has no built-in guards, so without these S4 would compare our guards with
nothing. They are benchmark plugins: they cover the detectors and keys that the S4
configs switch on, not every option of the built-ins.
"""

from __future__ import annotations

import re
from typing import Any, Callable

from cpex.framework import (
    Plugin,
    PluginConfig,
    PluginContext,
    PluginViolation,
    ToolPreInvokePayload,
    ToolPreInvokeResult,
)

Rewrite = Callable[[str], str]


def rewrite_strings(value: Any, fn: Rewrite) -> tuple[Any, bool]:
    """Applies fn to every string leaf; copies only the containers on a changed path."""
    if isinstance(value, str):
        new = fn(value)
        return new, new != value
    if isinstance(value, dict):
        out: dict[str, Any] | None = None
        for key in sorted(value):  # same order as the built-ins' walker
            new, changed = rewrite_strings(value[key], fn)
            if changed:
                if out is None:
                    out = dict(value)
                out[key] = new
        return (out, True) if out is not None else (value, False)
    if isinstance(value, list):
        lst: list[Any] | None = None
        for i, item in enumerate(value):
            new, changed = rewrite_strings(item, fn)
            if changed:
                if lst is None:
                    lst = list(value)
                lst[i] = new
        return (lst, True) if lst is not None else (value, False)
    return value, False


def iter_strings(value: Any):
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for key in sorted(value):
            yield from iter_strings(value[key])
    elif isinstance(value, list):
        for item in value:
            yield from iter_strings(item)


def _luhn(digits: str) -> bool:
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = ord(ch) - 48
        if i % 2 == 1:
            d *= 2
            if d > 9:
                d -= 9
        total += d
    return total % 10 == 0


def _valid_card(text: str) -> bool:
    digits = re.sub(r"[ -]", "", text)
    return 13 <= len(digits) <= 19 and _luhn(digits)


def _valid_ipv4(text: str) -> bool:
    return all(int(part) <= 255 for part in text.split("."))


# detect_* key -> (type name, pattern, extra check)
PII_PATTERNS: dict[str, tuple[str, re.Pattern[str], Callable[[str], bool] | None]] = {
    "detect_ssn": ("ssn", re.compile(r"\b\d{3}-\d{2}-\d{4}\b"), None),
    "detect_credit_card": ("credit_card", re.compile(r"\b\d{4}(?:[ -]?\d{4}){2}[ -]?\d{1,7}\b"), _valid_card),
    "detect_email": ("email", re.compile(r"\b[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}\b"), None),
    "detect_phone": (
        "phone",
        re.compile(r"(?:\+\d{1,3}[ .-]?)?(?:\(\d{3}\)|\b\d{3})[ .-]?\d{3}[ .-]?\d{4}\b"),
        None,
    ),
    "detect_ip_address": ("ip_address", re.compile(r"\b(?:\d{1,3}\.){3}\d{1,3}\b"), _valid_ipv4),
    "detect_aws_keys": ("aws_key", re.compile(r"\b(?:AKIA|ASIA)[0-9A-Z]{16}\b"), None),
    "detect_api_keys": (
        "api_key",
        re.compile(r"(?i)\b(?:api[_-]?key|access[_-]?token|secret[_-]?key)\s*[:=]\s*[A-Za-z0-9_\-/+]{16,}"),
        None,
    ),
}


class PIIFilterPlugin(Plugin):
    """builtin/pii_filter's job in Python: find PII with one regex per type, redact it."""

    def __init__(self, config: PluginConfig) -> None:
        super().__init__(config)
        cfg = dict(config.config or {})
        self.redaction = str(cfg.get("redaction_text", "[REDACTED]"))
        if cfg.get("default_mask_strategy", "redact") != "redact":
            raise ValueError("bench PIIFilterPlugin: only default_mask_strategy: redact is implemented")
        self.detectors = [v for k, v in PII_PATTERNS.items() if cfg.get(k, True)]
        self.counts: dict[str, int] = {}

    def _mask(self, text: str) -> str:
        spans: list[tuple[int, int, str]] = []
        for name, pattern, check in self.detectors:
            for m in pattern.finditer(text):
                if check is None or check(m.group(0)):
                    spans.append((m.start(), m.end(), name))
        if not spans:
            return text
        spans.sort()
        out: list[str] = []
        pos = 0
        for start, end, name in spans:
            if start < pos:  # overlaps an earlier detection
                continue
            out.append(text[pos:start])
            out.append(self.redaction)
            pos = end
            self.counts[name] = self.counts.get(name, 0) + 1
        out.append(text[pos:])
        return "".join(out)

    async def tool_pre_invoke(self, payload: ToolPreInvokePayload, context: PluginContext) -> ToolPreInvokeResult:
        self.counts = {}
        args, changed = rewrite_strings(payload.args, self._mask)
        if not changed:
            return ToolPreInvokeResult()
        total = sum(self.counts.values())
        return ToolPreInvokeResult(
            modified_payload=payload.model_copy(update={"args": args}),
            metadata={"pii_filter": {"total_detections": total, "total_masked": total, "detection_types": sorted(self.counts)}},
        )


# secret type -> (on by default, pattern): the detectors and defaults of
# docs/builtins/secrets_detection.md. When a pattern has a group, only the group (the
# secret value) is redacted, as the built-in redacts the value and keeps its key.
SECRET_PATTERNS: dict[str, tuple[bool, re.Pattern[str]]] = {
    "aws_access_key_id": (True, re.compile(r"\bAKIA[0-9A-Z]{16}\b")),
    "aws_secret_access_key": (
        True,
        re.compile(r"(?i)aws.{0,40}?(?:secret|access).{0,40}?[=:]\s*['\"]?([A-Za-z0-9/+=]{40})(?![A-Za-z0-9/+=])"),
    ),
    "google_api_key": (True, re.compile(r"AIza[0-9A-Za-z_-]{35}")),
    "github_token": (True, re.compile(r"\b(?:gh[pousr]_[A-Za-z0-9]{36}|github_pat_[A-Za-z0-9_]{20,})")),
    "stripe_secret_key": (True, re.compile(r"\b[sr]k_(?:live|test)_[A-Za-z0-9]{16,}")),
    "slack_token": (True, re.compile(r"\bxox[abpqr]-[0-9A-Za-z-]{10,80}")),
    "private_key_block": (
        True,
        re.compile(r"-----BEGIN (?:(?:RSA|DSA|EC|OPENSSH|ENCRYPTED|PGP) )?PRIVATE KEY(?: BLOCK)?-----(?:.*?-----END [A-Z ]+-----)?", re.S),
    ),
    "jwt_like": (False, re.compile(r"\beyJ[0-9A-Za-z_-]{10,}\.eyJ[0-9A-Za-z_-]{10,}\.[0-9A-Za-z_-]{10,}")),
    "hex_secret_32": (False, re.compile(r"\b[0-9a-fA-F]{32,}\b")),
}


def _redact_match(redaction: str) -> Callable[[re.Match[str]], str]:
    def repl(m: re.Match[str]) -> str:
        if m.lastindex:  # keep the key, replace the value
            start, end = m.span(1)
            whole = m.group(0)
            return whole[: start - m.start()] + redaction + whole[end - m.start() :]
        return redaction

    return repl


class SecretsDetectionPlugin(Plugin):
    """builtin/secrets_detection's job in Python: one regex per secret type, redact."""

    def __init__(self, config: PluginConfig) -> None:
        super().__init__(config)
        cfg = dict(config.config or {})
        enabled = cfg.get("enabled", {})
        self.patterns = [(k, p) for k, (default, p) in SECRET_PATTERNS.items() if enabled.get(k, default)]
        self.redact = bool(cfg.get("redact", False))
        self.redaction = str(cfg.get("redaction_text", "***REDACTED***"))
        self.repl = _redact_match(self.redaction)
        self.block = bool(cfg.get("block_on_detection", True))
        self.min_findings = int(cfg.get("min_findings_to_block", 1))
        self.found: dict[str, int] = {}

    def _scan(self, text: str) -> str:
        for name, pattern in self.patterns:
            text, n = pattern.subn(self.repl, text) if self.redact else (text, len(pattern.findall(text)))
            if n:
                self.found[name] = self.found.get(name, 0) + n
        return text

    async def tool_pre_invoke(self, payload: ToolPreInvokePayload, context: PluginContext) -> ToolPreInvokeResult:
        self.found = {}
        args, changed = rewrite_strings(payload.args, self._scan)
        count = sum(self.found.values())
        meta = {"secrets_findings": count, "secret_types": sorted(self.found)}
        if self.block and count >= self.min_findings:
            return ToolPreInvokeResult(
                continue_processing=False,
                violation=PluginViolation(
                    reason="Secrets detected", description="Potential secrets found in tool arguments",
                    code="SECRETS_DETECTED", details=meta,
                ),
                metadata=meta,
            )
        if not changed:
            return ToolPreInvokeResult(metadata=meta)
        return ToolPreInvokeResult(modified_payload=payload.model_copy(update={"args": args}), metadata=meta)


class RegexReplacePlugin(Plugin):
    """builtin/regex_replace's job in Python: the `words` search/replace list, in order."""

    def __init__(self, config: PluginConfig) -> None:
        super().__init__(config)
        words = (config.config or {}).get("words", [])
        self.rules = [(re.compile(w["search"]), w["replace"]) for w in words]

    def _apply(self, text: str) -> str:
        for pattern, repl in self.rules:
            text = pattern.sub(repl, text)
        return text

    async def tool_pre_invoke(self, payload: ToolPreInvokePayload, context: PluginContext) -> ToolPreInvokeResult:
        args, changed = rewrite_strings(payload.args, self._apply)
        if not changed:
            return ToolPreInvokeResult()
        return ToolPreInvokeResult(modified_payload=payload.model_copy(update={"args": args}))


class DenyListPlugin(Plugin):
    """builtin/deny_list's job in Python: block when any word occurs in any string."""

    def __init__(self, config: PluginConfig) -> None:
        super().__init__(config)
        cfg = config.config or {}
        self.case_sensitive = bool(cfg.get("case_sensitive", True))
        words = list(cfg.get("words", []))
        self.words = words if self.case_sensitive else [w.lower() for w in words]

    async def tool_pre_invoke(self, payload: ToolPreInvokePayload, context: PluginContext) -> ToolPreInvokeResult:
        for text in iter_strings(payload.args):
            hay = text if self.case_sensitive else text.lower()
            for word in self.words:
                if word in hay:
                    return ToolPreInvokeResult(
                        continue_processing=False,
                        violation=PluginViolation(
                            reason="Tool call not allowed", description="A deny word was found",
                            code="deny", details={"word": word},
                        ),
                    )
        return ToolPreInvokeResult()
