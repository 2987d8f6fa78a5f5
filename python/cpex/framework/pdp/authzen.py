"""AuthZEN Access Evaluation API resolver (subject / action / resource / context)."""

from __future__ import annotations

import logging
from typing import Any, Optional

# PdpResolver and httpx2 are names of upstream's module too (tests/py/cmf/test_cmf_compat.py)
from cpex.framework.pdp._http import HttpResolver, httpx2  # noqa: F401
from cpex.framework.pdp.base import PdpError, PdpResolver, PdpResult  # noqa: F401

logger = logging.getLogger(__name__)

# Input keys that always travel in the request's context; every other key that is not
# subject, action or tool joins them there.
_CONTEXT_KEYS = ("delegation", "session", "authorization_details", "args")
_STANDARD_KEYS = frozenset({"subject", "action", "tool", *_CONTEXT_KEYS})


class AuthZenResolver(HttpResolver):
    """Decisions from an AuthZEN PDP.

    The input is mapped onto an evaluation request: ``subject`` (type and id, the other
    keys as properties), ``action`` (a name, or an object as is), ``tool`` as the resource
    (``{"type": "tool", "id": ...}``, or an object as is), the rest as context. The answer's
    ``decision`` decides; ``context.reason`` (a string, or an object's message/detail) is
    the reason. Failures behave as ``OpaResolver``'s.
    """

    _engine = "AuthZen"

    def _build_request(self, input_data: dict[str, Any]) -> dict[str, Any]:
        subj = input_data.get("subject", {})
        subject: dict[str, Any] = {"type": subj.get("type", "unknown"), "id": subj.get("id", "unknown")}
        if props := {k: v for k, v in subj.items() if k not in ("type", "id")}:
            subject["properties"] = props
        act = input_data.get("action", "unknown")
        action = act if isinstance(act, dict) else {"name": str(act)}
        tool = input_data.get("tool", "unknown")
        resource = tool if isinstance(tool, dict) else {"type": "tool", "id": str(tool)}
        context = {k: input_data[k] for k in _CONTEXT_KEYS if k in input_data}
        context.update({k: v for k, v in input_data.items() if k not in _STANDARD_KEYS})
        request: dict[str, Any] = {"subject": subject, "action": action, "resource": resource}
        if context:
            request["context"] = context
        return request

    def _parse_response(self, body: Any, latency_ms: float) -> PdpResult:
        ctx = body.get("context", {})
        reason: Optional[str] = None
        if isinstance(ctx, dict):
            why = ctx.get("reason", {})
            if isinstance(why, str):
                reason = why
            elif isinstance(why, dict):
                reason = why.get("message") or why.get("detail")
        return PdpResult(
            allowed=bool(body.get("decision", False)),
            reason=reason,
            context=ctx if isinstance(ctx, dict) else {},
            latency_ms=latency_ms,
        )


__all__ = ["AuthZenResolver", "PdpError"]  # PdpError: importable from here too, as upstream
