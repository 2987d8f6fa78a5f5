"""The ``delegation`` slot: the chain of token delegations (monotonic, gated).

A plugin holding ``append_delegation`` may only extend the chain; hops already
recorded never change (enforced by ``tiers.merge_extensions``).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Optional

from pydantic import BaseModel, ConfigDict, Field


def _utc_now() -> datetime:
    return datetime.now(UTC)


class DelegationHop(BaseModel):
    """One delegation step: who received which scopes for which audience."""

    model_config = ConfigDict(frozen=True)

    subject_id: str
    subject_type: str
    audience: Optional[str] = None
    scopes_granted: tuple[str, ...] = ()
    timestamp: datetime = Field(default_factory=_utc_now)
    ttl_seconds: Optional[int] = None
    strategy: Optional[str] = None
    from_cache: bool = False


class DelegationExtension(BaseModel):
    """The delegation chain of a request and facts derived from it."""

    model_config = ConfigDict(frozen=True)

    chain: tuple[DelegationHop, ...] = ()
    depth: int = 0
    origin_subject_id: Optional[str] = None
    actor_subject_id: Optional[str] = None
    delegated: bool = False
    age_seconds: float = 0.0

    def with_new_hop(self, hop: DelegationHop) -> DelegationExtension:
        """A new extension with ``hop`` appended; the receiver is left unchanged."""
        chain = (*self.chain, hop)
        age = 0.0
        if self.chain:
            first = self.chain[0].timestamp
            if first.tzinfo is None:  # naive timestamps are taken as UTC, like the default
                first = first.replace(tzinfo=UTC)
            age = (_utc_now() - first).total_seconds()
        return DelegationExtension(
            chain=chain,
            depth=len(chain),
            origin_subject_id=self.origin_subject_id or hop.subject_id,
            actor_subject_id=hop.subject_id,
            delegated=True,
            age_seconds=age,
        )
