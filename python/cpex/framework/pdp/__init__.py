"""Clients for external policy decision points (PDPs): OPA's Data API and AuthZEN.

A resolver turns an input document into a ``PdpResult`` (allow/deny, reason, context,
latency) over HTTP, with a per-call timeout and an optional fail-open mode; ``PdpError``
reports a failure when fail-open is off. The HTTP client is httpx2 (the ``pdp`` extra).
For decisions without a network hop, the Go core embeds CEL, Cedar and Rego engines
(``builtin/pdp_cel`` ..., docs/pdp-*.md).
"""

from cpex.framework.pdp.authzen import AuthZenResolver
from cpex.framework.pdp.base import PdpError, PdpResolver, PdpResult
from cpex.framework.pdp.opa import OpaResolver

__all__ = [
    "AuthZenResolver",
    "OpaResolver",
    "PdpError",
    "PdpResolver",
    "PdpResult",
]
