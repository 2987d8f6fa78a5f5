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

from cpex.framework.extensions.constants import SlotName
from cpex.framework.extensions.container import Extensions
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


def _can_write(slot: SlotName, capabilities: frozenset[str]) -> bool:
    write_cap = _slot_registry[slot].write_cap
    return write_cap is not None and write_cap in capabilities


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


def _slot_values(ext: Optional[Extensions]) -> dict[SlotName, Any]:
    """The value of every registered slot of ``ext`` (None for absent parts)."""
    values: dict[SlotName, Any] = {}
    for slot in _slot_registry:
        if slot.value.startswith("security."):
            continue
        values[slot] = getattr(ext, slot.value) if ext is not None else None
    security = ext.security if ext is not None else None
    subject = security.subject if security is not None else None
    values[SlotName.SECURITY_LABELS] = security.labels if security is not None else frozenset()
    values[SlotName.SECURITY_OBJECTS] = security.objects if security is not None else {}
    values[SlotName.SECURITY_DATA] = security.data if security is not None else {}
    values[SlotName.SECURITY_SUBJECT] = subject
    return values


def _delegation_chain(ext: Any) -> tuple[Any, ...]:
    return ext.chain if ext is not None else ()


def _check_monotonic(slot: SlotName, before: Any, after: Any, plugin_name: str) -> None:
    """Raise unless ``after`` keeps every element of ``before`` (labels: superset; chain: prefix)."""
    if slot is SlotName.SECURITY_LABELS:
        lost = set(before) - set(after)
        if lost:
            raise TierViolationError(
                plugin_name, slot, MutabilityTier.MONOTONIC, f"labels removed: {sorted(lost)}"
            )
        return
    old, new = _delegation_chain(before), _delegation_chain(after)
    if len(new) < len(old):
        raise TierViolationError(
            plugin_name, slot, MutabilityTier.MONOTONIC, f"chain shrank from {len(old)} to {len(new)} hops"
        )
    if new[: len(old)] != old:
        raise TierViolationError(plugin_name, slot, MutabilityTier.MONOTONIC, "existing hops were altered")


def validate_tier_constraints(
    before: Optional[Extensions],
    after: Optional[Extensions],
    capabilities: frozenset[str],
    plugin_name: str,
) -> None:
    """Raise TierViolationError if ``after`` changes a slot the plugin may not change (§17.4).

    Immutable slots may not change unless their write capability is held (http with
    write_headers); monotonic slots may not lose elements and may only grow with their
    write capability; mutable slots (custom) may change freely.
    """
    old_values = _slot_values(before)
    new_values = _slot_values(after)
    for slot, old in old_values.items():
        new = new_values[slot]
        if old == new:
            continue
        policy = _slot_registry[slot]
        if policy.tier is MutabilityTier.MUTABLE:
            continue
        if policy.tier is MutabilityTier.MONOTONIC:
            _check_monotonic(slot, old, new, plugin_name)
        if policy.write_cap is None:
            raise TierViolationError(plugin_name, slot, policy.tier, "slot is read-only")
        if not _can_write(slot, capabilities):
            raise TierViolationError(
                plugin_name, slot, policy.tier, f"changed without the {policy.write_cap.value} capability"
            )


def merge_extensions(
    original: Optional[Extensions],
    plugin_output: Optional[Extensions],
    capabilities: frozenset[str],
    plugin_name: str,
) -> Optional[Extensions]:
    """Fold the writable changes of ``plugin_output`` into ``original`` (§17.4).

    Accepted: http (with write_headers), security.labels growth (with append_labels),
    delegation chain growth (with append_delegation), custom (always). Anything else
    the plugin changed is ignored. Returns ``original`` itself when nothing changed.
    """
    if original is None:
        return None
    if plugin_output is None:
        return original
    update: dict[str, Any] = {}

    if Capability.WRITE_HEADERS in capabilities and plugin_output.http != original.http:
        update["http"] = plugin_output.http

    if Capability.APPEND_LABELS in capabilities:
        old_labels = original.security.labels if original.security is not None else frozenset()
        new_labels = plugin_output.security.labels if plugin_output.security is not None else frozenset()
        if new_labels != old_labels:
            _check_monotonic(SlotName.SECURITY_LABELS, old_labels, new_labels, plugin_name)
            base = original.security if original.security is not None else SecurityExtension()
            update["security"] = base.model_copy(update={"labels": new_labels})

    if Capability.APPEND_DELEGATION in capabilities and plugin_output.delegation != original.delegation:
        # A first delegation (original None) passes: an empty chain is a prefix of any chain.
        _check_monotonic(SlotName.DELEGATION, original.delegation, plugin_output.delegation, plugin_name)
        update["delegation"] = plugin_output.delegation

    if plugin_output.custom != original.custom:
        update["custom"] = plugin_output.custom

    return original.model_copy(update=update) if update else original
