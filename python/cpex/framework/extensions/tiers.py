"""Mutability tiers and capability-gated access to extension slots (spec §17.2-§17.4).

``filter_extensions`` decides what a plugin may *see* (the executor calls it before
every 3-parameter hook); ``validate_tier_constraints`` and ``merge_extensions`` decide
what a plugin may *change*. The 0.1.x executor does not call the latter two: plugin
``modified_extensions`` are taken as-is; they are library functions for hosts.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum
from types import MappingProxyType
from typing import Any, Mapping, Optional, Union

# The slot field names are reachable from this module in upstream too (it imports them).
from cpex.framework.extensions.constants import (  # noqa: F401
    FIELD_AGENT,
    FIELD_CLAIMS,
    FIELD_CLASSIFICATION,
    FIELD_COMPLETION,
    FIELD_CUSTOM,
    FIELD_DATA,
    FIELD_DELEGATION,
    FIELD_FRAMEWORK,
    FIELD_HTTP,
    FIELD_LABELS,
    FIELD_LLM,
    FIELD_MCP,
    FIELD_META,
    FIELD_OBJECTS,
    FIELD_PERMISSIONS,
    FIELD_PROVENANCE,
    FIELD_REQUEST,
    FIELD_ROLES,
    FIELD_SECURITY,
    FIELD_SUBJECT,
    FIELD_TEAMS,
    SlotName,
)
from cpex.framework.extensions.container import Extensions
from cpex.framework.extensions.delegation import DelegationExtension
from cpex.framework.extensions.security import SecurityExtension, SubjectExtension
from cpex.framework.memory import construct_model, copy_model


class MutabilityTier(str, Enum):
    """How a slot may change during a hook chain."""

    IMMUTABLE = "immutable"
    MONOTONIC = "monotonic"
    MUTABLE = "mutable"


class Capability(str, Enum):
    """A capability a plugin's trusted config may hold (``PluginConfig.capabilities``)."""

    READ_SUBJECT = "read_subject"
    READ_ROLES = "read_roles"
    READ_TEAMS = "read_teams"
    READ_CLAIMS = "read_claims"
    READ_PERMISSIONS = "read_permissions"
    READ_AGENT = "read_agent"
    READ_HEADERS = "read_headers"
    WRITE_HEADERS = "write_headers"
    READ_LABELS = "read_labels"
    APPEND_LABELS = "append_labels"
    READ_DELEGATION = "read_delegation"
    APPEND_DELEGATION = "append_delegation"


class AccessPolicy(str, Enum):
    """Whether reading a slot needs a capability."""

    UNRESTRICTED = "unrestricted"
    CAPABILITY_GATED = "capability_gated"


@dataclass(frozen=True)
class SlotPolicy:
    """Tier and access rule of one slot."""

    tier: MutabilityTier
    access: AccessPolicy = AccessPolicy.UNRESTRICTED
    read_cap: Optional[Capability] = None
    write_cap: Optional[Capability] = None


_IMMUTABLE_OPEN = SlotPolicy(MutabilityTier.IMMUTABLE)


def _gated(tier: MutabilityTier, read: Capability, write: Optional[Capability] = None) -> SlotPolicy:
    return SlotPolicy(tier, AccessPolicy.CAPABILITY_GATED, read, write)


# Read-only so that no plugin or host can widen access at run time.
_slot_registry: Mapping[SlotName, SlotPolicy] = MappingProxyType(
    {
        SlotName.REQUEST: _IMMUTABLE_OPEN,
        SlotName.PROVENANCE: _IMMUTABLE_OPEN,
        SlotName.COMPLETION: _IMMUTABLE_OPEN,
        SlotName.LLM: _IMMUTABLE_OPEN,
        SlotName.FRAMEWORK: _IMMUTABLE_OPEN,
        SlotName.MCP: _IMMUTABLE_OPEN,
        SlotName.META: _IMMUTABLE_OPEN,
        SlotName.AGENT: _gated(MutabilityTier.IMMUTABLE, Capability.READ_AGENT),
        SlotName.SECURITY_SUBJECT: _gated(MutabilityTier.IMMUTABLE, Capability.READ_SUBJECT),
        SlotName.SECURITY_SUBJECT_ROLES: _gated(MutabilityTier.IMMUTABLE, Capability.READ_ROLES),
        SlotName.SECURITY_SUBJECT_TEAMS: _gated(MutabilityTier.IMMUTABLE, Capability.READ_TEAMS),
        SlotName.SECURITY_SUBJECT_CLAIMS: _gated(MutabilityTier.IMMUTABLE, Capability.READ_CLAIMS),
        SlotName.SECURITY_SUBJECT_PERMISSIONS: _gated(MutabilityTier.IMMUTABLE, Capability.READ_PERMISSIONS),
        SlotName.SECURITY_OBJECTS: _IMMUTABLE_OPEN,
        SlotName.SECURITY_DATA: _IMMUTABLE_OPEN,
        SlotName.SECURITY_LABELS: _gated(MutabilityTier.MONOTONIC, Capability.READ_LABELS, Capability.APPEND_LABELS),
        SlotName.HTTP: _gated(MutabilityTier.IMMUTABLE, Capability.READ_HEADERS, Capability.WRITE_HEADERS),
        SlotName.DELEGATION: _gated(
            MutabilityTier.MONOTONIC, Capability.READ_DELEGATION, Capability.APPEND_DELEGATION
        ),
        SlotName.CUSTOM: SlotPolicy(MutabilityTier.MUTABLE),
    }
)

# Holding any finer-grained subject capability implies seeing the subject itself.
_SUBJECT_CAPS = frozenset(
    {
        Capability.READ_SUBJECT,
        Capability.READ_ROLES,
        Capability.READ_TEAMS,
        Capability.READ_CLAIMS,
        Capability.READ_PERMISSIONS,
    }
)

_NO_DEFAULTS: dict[str, Any] = {}
# Every slot of the container defaults to None.
_EXTENSIONS_DEFAULTS: dict[str, Any] = dict.fromkeys(Extensions.model_fields)

# Slots every plugin sees unchanged when present.
_OPEN_SLOTS = ("request", "provenance", "completion", "llm", "framework", "mcp", "meta", "custom")


class TierViolationError(Exception):
    """A plugin changed an extension slot in a way its tier or capabilities forbid."""

    def __init__(
        self,
        plugin_name: str,
        slot: Union[SlotName, str],
        tier: Union[MutabilityTier, str],
        detail: str,
    ) -> None:
        self.plugin_name = plugin_name
        self.slot = slot
        self.tier = tier
        self.detail = detail
        super().__init__(f"Plugin '{plugin_name}' violated {_value(tier)} tier on '{_value(slot)}': {detail}")


def _value(x: Union[Enum, str]) -> str:
    return x.value if isinstance(x, Enum) else str(x)


def _can_read(slot: SlotName, capabilities: frozenset[str]) -> bool:
    """Whether a plugin with ``capabilities`` may read ``slot`` (a write cap implies read)."""
    policy = _slot_registry[slot]
    if policy.access is AccessPolicy.UNRESTRICTED:
        return True
    if policy.read_cap is not None and policy.read_cap in capabilities:
        return True
    return policy.write_cap is not None and policy.write_cap in capabilities


def _filter_subject(subject: SubjectExtension, capabilities: frozenset[str]) -> SubjectExtension:
    """Keep id and type; empty each of roles/teams/claims/permissions unless its cap is held."""
    update: dict[str, Any] = {}
    if Capability.READ_ROLES not in capabilities and subject.roles:
        update["roles"] = frozenset()
    if Capability.READ_TEAMS not in capabilities and subject.teams:
        update["teams"] = frozenset()
    if Capability.READ_CLAIMS not in capabilities and subject.claims:
        update["claims"] = {}
    if Capability.READ_PERMISSIONS not in capabilities and subject.permissions:
        update["permissions"] = frozenset()
    return copy_model(subject, update) if update else subject


def _filter_security(security: SecurityExtension, capabilities: frozenset[str]) -> SecurityExtension:
    subject = security.subject
    if subject is not None:
        subject = _filter_subject(subject, capabilities) if _SUBJECT_CAPS & capabilities else None
    labels = security.labels if _can_read(SlotName.SECURITY_LABELS, capabilities) else frozenset()
    # Every value already passed validation on the way in: construct without revalidating.
    return construct_model(
        SecurityExtension,
        _NO_DEFAULTS,  # every field is given below
        {
            "labels": labels,
            "classification": security.classification,
            "subject": subject,
            "objects": security.objects,
            "data": security.data,
        },
    )


def filter_extensions(extensions: Optional[Extensions], capabilities: frozenset[str]) -> Optional[Extensions]:
    """A new Extensions holding only what a plugin with ``capabilities`` may read (§17.3)."""
    if extensions is None:
        return None
    fields: dict[str, Any] = {}
    for name in _OPEN_SLOTS:
        value = getattr(extensions, name)
        if value is not None:
            fields[name] = value
    if extensions.delegation is not None and _can_read(SlotName.DELEGATION, capabilities):
        fields["delegation"] = extensions.delegation
    if extensions.agent is not None and _can_read(SlotName.AGENT, capabilities):
        fields["agent"] = extensions.agent
    if extensions.http is not None and _can_read(SlotName.HTTP, capabilities):
        fields["http"] = extensions.http
    if extensions.security is not None:
        fields["security"] = _filter_security(extensions.security, capabilities)
    return construct_model(Extensions, _EXTENSIONS_DEFAULTS, fields)


def _resolve_slot(ext: Optional[Extensions], path: str) -> Any:
    """The value at a dotted slot path (``security.subject.roles``); None when any part is absent."""
    value: Any = ext
    for part in path.split("."):
        if value is None:
            return None
        value = getattr(value, part, None)
    return value


def _kept_everything(before: Any, after: Any) -> bool:
    """Whether a monotonic slot kept every element: labels a superset, the chain a prefix.

    An absent or empty ``before`` has nothing to lose.
    """
    if before is None or (isinstance(before, frozenset) and not before):
        return True
    if after is None:
        return False
    if isinstance(before, frozenset) and isinstance(after, frozenset):
        return before <= after
    if isinstance(before, DelegationExtension) and isinstance(after, DelegationExtension):
        return after.chain[: len(before.chain)] == before.chain
    return bool(before == after)


def validate_tier_constraints(
    before: Optional[Extensions],
    after: Optional[Extensions],
    capabilities: frozenset[str],
    plugin_name: str,
) -> None:
    """Raise TierViolationError if ``after`` changes a slot the plugin may not change (§17.4).

    Every registered slot is compared by its dotted path (an absent parent reads as
    None). A changed slot without a write capability is read-only; a writable one needs
    its capability; a monotonic one may only grow. Mutable slots (custom) may change freely.
    """
    if before is None and after is None:
        return
    for slot, policy in _slot_registry.items():
        old = _resolve_slot(before, slot.value)
        new = _resolve_slot(after, slot.value)
        if old == new:
            continue
        if policy.tier is MutabilityTier.MUTABLE and policy.write_cap is None:
            continue
        if policy.write_cap is None:
            raise TierViolationError(
                plugin_name, slot, policy.tier, "slot has no write capability and cannot be modified"
            )
        if policy.write_cap.value not in capabilities:
            raise TierViolationError(
                plugin_name, slot, policy.tier, f"plugin lacks '{policy.write_cap.value}' capability"
            )
        if policy.tier is MutabilityTier.MONOTONIC and not _kept_everything(old, new):
            raise TierViolationError(plugin_name, slot, policy.tier, "monotonic slot had elements removed")


def _merged_labels(
    original: SecurityExtension, output: Optional[SecurityExtension], plugin_name: str
) -> Optional[SecurityExtension]:
    """``original`` with the plugin's grown label set, or None when the labels did not change."""
    if output is None or output.labels == original.labels:
        return None
    if not _kept_everything(original.labels, output.labels):
        raise TierViolationError(
            plugin_name, SlotName.SECURITY_LABELS, MutabilityTier.MONOTONIC, "monotonic slot had elements removed"
        )
    return original.model_copy(update={"labels": output.labels})


def _merged_delegation(
    original: Optional[DelegationExtension], output: DelegationExtension, plugin_name: str
) -> DelegationExtension:
    """The plugin's delegation when it only appended hops to ``original`` (a first one is accepted)."""
    if original is None:
        return output
    old, new = original.chain, output.chain
    if len(new) < len(old):
        raise TierViolationError(
            plugin_name,
            SlotName.DELEGATION,
            MutabilityTier.MONOTONIC,
            f"shrank delegation chain (was {len(old)} hops, now {len(new)})",
        )
    if new[: len(old)] != old:
        raise TierViolationError(
            plugin_name, SlotName.DELEGATION, MutabilityTier.MONOTONIC, "modified existing delegation chain hops"
        )
    return output


def merge_extensions(
    original: Optional[Extensions],
    plugin_output: Optional[Extensions],
    capabilities: frozenset[str],
    plugin_name: str,
) -> Optional[Extensions]:
    """Fold the writable changes of ``plugin_output`` into ``original`` (§17.4).

    Accepted: a new http slot (with write_headers), grown security labels (with
    append_labels, when the original has a security slot), an extended or first
    delegation chain (with append_delegation), custom (always). Anything else the
    plugin returned is ignored; a slot the plugin left out (None) is never removed.
    Returns ``original`` itself when nothing was accepted.
    """
    if original is None:
        return None
    if plugin_output is None:
        return original
    update: dict[str, Any] = {}

    if (
        Capability.WRITE_HEADERS in capabilities
        and plugin_output.http is not None
        and plugin_output.http != original.http
    ):
        update["http"] = plugin_output.http

    if Capability.APPEND_LABELS in capabilities and original.security is not None:
        security = _merged_labels(original.security, plugin_output.security, plugin_name)
        if security is not None:
            update["security"] = security

    if (
        Capability.APPEND_DELEGATION in capabilities
        and plugin_output.delegation is not None
        and plugin_output.delegation != original.delegation
    ):
        update["delegation"] = _merged_delegation(original.delegation, plugin_output.delegation, plugin_name)

    if plugin_output.custom != original.custom:
        update["custom"] = plugin_output.custom

    return original.model_copy(update=update) if update else original
