"""Extension models, slot tiers, capability filtering and tier validation (spec §17)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from pydantic import BaseModel, ValidationError

import cpex.framework.extensions as ext_pkg
from cpex.framework.extensions import (
    AccessPolicy,
    AgentExtension,
    Capability,
    CompletionExtension,
    ConversationContext,
    DataPolicy,
    DelegationExtension,
    DelegationHop,
    Extensions,
    FrameworkExtension,
    HttpExtension,
    LLMExtension,
    MCPExtension,
    MetaExtension,
    MutabilityTier,
    ObjectSecurityProfile,
    PromptMetadata,
    ProvenanceExtension,
    RequestExtension,
    ResourceMetadata,
    RetentionPolicy,
    SecurityExtension,
    SlotName,
    StopReason,
    SubjectExtension,
    SubjectType,
    TierViolationError,
    TokenUsage,
    ToolMetadata,
    constants,
)
from cpex.framework.extensions.tiers import (
    SlotPolicy,
    _slot_registry,
    filter_extensions,
    merge_extensions,
    validate_tier_constraints,
)

NO_CAPS: frozenset[str] = frozenset()


def caps(*names: str) -> frozenset[str]:
    return frozenset(names)


def subject(**kw: Any) -> SubjectExtension:
    base: dict[str, Any] = {
        "id": "u1",
        "type": SubjectType.USER,
        "roles": {"admin"},
        "teams": {"t1"},
        "claims": {"iss": "me"},
        "permissions": {"tools.read"},
    }
    base.update(kw)
    return SubjectExtension(**base)


def full_extensions() -> Extensions:
    return Extensions(
        request=RequestExtension(trace_id="tr", span_id="sp"),
        agent=AgentExtension(agent_id="a1"),
        http=HttpExtension(headers={"authorization": "secret"}),
        security=SecurityExtension(
            labels={"pii"},
            classification="internal",
            subject=subject(),
            objects={"tool": ObjectSecurityProfile()},
            data={"x": DataPolicy()},
        ),
        delegation=DelegationExtension().with_new_hop(DelegationHop(subject_id="u1", subject_type="user")),
        mcp=MCPExtension(tool=ToolMetadata(name="t")),
        completion=CompletionExtension(stop_reason=StopReason.END),
        provenance=ProvenanceExtension(source="s"),
        llm=LLMExtension(model_id="m"),
        framework=FrameworkExtension(framework="f"),
        meta=MetaExtension(tags={"x"}),
        custom={"k": "v"},
    )


# --- package surface ---------------------------------------------------------------------


def test_package_all_is_exactly_the_spec_list() -> None:
    assert set(ext_pkg.__all__) == {
        "AccessPolicy", "SlotName", "AgentExtension", "Capability", "CompletionExtension",
        "ConversationContext", "DataPolicy", "DelegationExtension", "DelegationHop", "Extensions",
        "FrameworkExtension", "HttpExtension", "LLMExtension", "MCPExtension", "MetaExtension",
        "MutabilityTier", "ObjectSecurityProfile", "PromptMetadata", "ProvenanceExtension",
        "RequestExtension", "ResourceMetadata", "RetentionPolicy", "SecurityExtension", "StopReason",
        "SubjectExtension", "SubjectType", "TierViolationError", "TokenUsage", "ToolMetadata",
    }  # fmt: skip
    for name in ext_pkg.__all__:
        assert getattr(ext_pkg, name) is not None


@pytest.mark.parametrize(
    ("enum", "values"),
    [
        (MutabilityTier, ["immutable", "monotonic", "mutable"]),
        (AccessPolicy, ["unrestricted", "capability_gated"]),
        (StopReason, ["end", "return", "call", "max_tokens", "stop_sequence"]),
        (SubjectType, ["user", "agent", "service", "system"]),
        (
            Capability,
            [
                "read_subject", "read_roles", "read_teams", "read_claims", "read_permissions", "read_agent",
                "read_headers", "write_headers", "read_labels", "append_labels", "read_delegation",
                "append_delegation",
            ],
        ),
    ],
)
def test_enum_values(enum: Any, values: list[str]) -> None:
    assert [m.value for m in enum] == values
    assert all(isinstance(m, str) for m in enum)


def test_slot_names_and_their_str() -> None:
    assert [s.value for s in SlotName] == [
        "request", "provenance", "completion", "llm", "framework", "mcp", "agent", "http", "meta",
        "delegation", "custom", "security.subject", "security.subject.roles", "security.subject.teams",
        "security.subject.claims", "security.subject.permissions", "security.objects", "security.data",
        "security.labels",
    ]  # fmt: skip
    assert str(SlotName.SECURITY_LABELS) == "security.labels"
    assert SlotName.HTTP == "http"


def test_field_constants() -> None:
    assert constants.FIELD_REQUEST == "request"
    assert constants.FIELD_SECURITY == "security"
    assert constants.FIELD_LABELS == "labels"
    assert constants.FIELD_PERMISSIONS == "permissions"
    assert constants.FIELD_CLASSIFICATION == "classification"


# --- models --------------------------------------------------------------------------------


ALL_MODELS: list[type[BaseModel]] = [
    Extensions, RequestExtension, AgentExtension, ConversationContext, HttpExtension, SecurityExtension,
    ObjectSecurityProfile, RetentionPolicy, DataPolicy, DelegationExtension, MCPExtension,
    CompletionExtension, ProvenanceExtension, LLMExtension, FrameworkExtension, MetaExtension,
]  # fmt: skip


@pytest.mark.parametrize("model", ALL_MODELS, ids=lambda m: m.__name__)
def test_models_are_frozen_and_constructible_empty(model: type[BaseModel]) -> None:
    instance = model()
    assert model.model_config.get("frozen") is True
    field = next(iter(model.model_fields))
    with pytest.raises(ValidationError):
        setattr(instance, field, None)


@pytest.mark.parametrize(
    ("model", "kwargs"),
    [
        (SubjectExtension, {"id": "u", "type": "user"}),
        (DelegationHop, {"subject_id": "u", "subject_type": "user"}),
        (TokenUsage, {"input_tokens": 1, "output_tokens": 2, "total_tokens": 3}),
        (ToolMetadata, {"name": "t"}),
        (ResourceMetadata, {"uri": "u"}),
        (PromptMetadata, {"name": "p"}),
    ],
    ids=lambda x: x.__name__ if isinstance(x, type) else "",
)
def test_models_with_required_fields(model: type[BaseModel], kwargs: dict[str, Any]) -> None:
    assert model.model_config.get("frozen") is True
    model(**kwargs)
    with pytest.raises(ValidationError):
        model()


def test_extensions_slots_default_to_none() -> None:
    assert list(Extensions.model_fields) == [
        "request", "agent", "http", "security", "delegation", "mcp", "completion", "provenance", "llm",
        "framework", "meta", "custom",
    ]  # fmt: skip
    assert all(v is None for v in Extensions().model_dump().values())


def test_model_defaults() -> None:
    sec = SecurityExtension()
    assert (sec.labels, sec.classification, sec.subject, sec.objects, sec.data) == (frozenset(), None, None, {}, {})
    sub = SubjectExtension(id="u", type="agent")
    assert sub.type is SubjectType.AGENT
    assert (sub.roles, sub.permissions, sub.teams, sub.claims) == (frozenset(), frozenset(), frozenset(), {})
    assert ObjectSecurityProfile().managed_by == "host"
    assert RetentionPolicy().policy == "persistent"
    assert DataPolicy().allowed_actions is None and DataPolicy().denied_actions == []
    assert HttpExtension().headers == {}
    assert MetaExtension().tags == frozenset() and MetaExtension().properties == {}
    assert LLMExtension().capabilities == [] and FrameworkExtension().metadata == {}
    assert ToolMetadata(name="t").annotations == {}


def test_conversation_history_is_bounded_to_100() -> None:
    ConversationContext(history=[RequestExtension()] * 100)
    with pytest.raises(ValidationError):
        ConversationContext(history=[RequestExtension()] * 101)


def test_completion_stop_reason_is_validated() -> None:
    assert CompletionExtension(stop_reason="max_tokens").stop_reason is StopReason.MAX_TOKENS
    with pytest.raises(ValidationError):
        CompletionExtension(stop_reason="bogus")


def test_labels_serialise_and_validate_as_sets() -> None:
    sec = SecurityExtension(labels=["a", "b", "a"])
    assert sec.labels == frozenset({"a", "b"})
    assert sorted(SecurityExtension.model_validate_json(sec.model_dump_json()).labels) == ["a", "b"]


# --- delegation --------------------------------------------------------------------------------


def test_delegation_hop_defaults_timestamp_to_now_utc() -> None:
    hop = DelegationHop(subject_id="u", subject_type="user")
    assert hop.timestamp.tzinfo is not None
    assert abs((datetime.now(UTC) - hop.timestamp).total_seconds()) < 5
    assert (hop.audience, hop.scopes_granted, hop.from_cache) == (None, (), False)


def test_with_new_hop_on_empty_chain() -> None:
    empty = DelegationExtension()
    hop = DelegationHop(subject_id="alice", subject_type="user")
    first = empty.with_new_hop(hop)
    assert first.chain == (hop,) and first.depth == 1
    assert first.origin_subject_id == "alice" and first.actor_subject_id == "alice"
    assert first.delegated is True and first.age_seconds == 0.0
    assert empty.chain == () and empty.delegated is False


def test_with_new_hop_keeps_origin_and_measures_age_from_first_hop() -> None:
    old = datetime.now(UTC) - timedelta(seconds=30)
    first = DelegationExtension().with_new_hop(DelegationHop(subject_id="alice", subject_type="user", timestamp=old))
    second = first.with_new_hop(DelegationHop(subject_id="bot", subject_type="agent"))
    assert second.depth == 2 and len(second.chain) == 2
    assert second.origin_subject_id == "alice" and second.actor_subject_id == "bot"
    assert 29 <= second.age_seconds < 60


# --- slot registry ---------------------------------------------------------------------------


def test_slot_registry_is_read_only() -> None:
    with pytest.raises(TypeError):
        _slot_registry[SlotName.HTTP] = SlotPolicy(MutabilityTier.MUTABLE)  # type: ignore[index]


@pytest.mark.parametrize(
    ("slot", "tier", "access", "read_cap", "write_cap"),
    [
        ("request", "immutable", "unrestricted", None, None),
        ("provenance", "immutable", "unrestricted", None, None),
        ("completion", "immutable", "unrestricted", None, None),
        ("llm", "immutable", "unrestricted", None, None),
        ("framework", "immutable", "unrestricted", None, None),
        ("mcp", "immutable", "unrestricted", None, None),
        ("meta", "immutable", "unrestricted", None, None),
        ("agent", "immutable", "capability_gated", "read_agent", None),
        ("security.subject", "immutable", "capability_gated", "read_subject", None),
        ("security.subject.roles", "immutable", "capability_gated", "read_roles", None),
        ("security.subject.teams", "immutable", "capability_gated", "read_teams", None),
        ("security.subject.claims", "immutable", "capability_gated", "read_claims", None),
        ("security.subject.permissions", "immutable", "capability_gated", "read_permissions", None),
        ("security.objects", "immutable", "unrestricted", None, None),
        ("security.data", "immutable", "unrestricted", None, None),
        ("security.labels", "monotonic", "capability_gated", "read_labels", "append_labels"),
        ("http", "immutable", "capability_gated", "read_headers", "write_headers"),
        ("delegation", "monotonic", "capability_gated", "read_delegation", "append_delegation"),
        ("custom", "mutable", "unrestricted", None, None),
    ],
)
def test_slot_registry_table(
    slot: str, tier: str, access: str, read_cap: str | None, write_cap: str | None
) -> None:
    policy = _slot_registry[SlotName(slot)]
    assert (policy.tier, policy.access, policy.read_cap, policy.write_cap) == (tier, access, read_cap, write_cap)
    assert len(_slot_registry) == len(SlotName)


# --- filter_extensions -------------------------------------------------------------------------


def test_filter_none_is_none() -> None:
    assert filter_extensions(None, caps("read_agent")) is None


def test_filter_without_capabilities_matches_the_verified_example() -> None:
    ext = Extensions(
        request=RequestExtension(trace_id="t"),
        custom={"a": 1},
        http=HttpExtension(headers={"a": "b"}),
        agent=AgentExtension(agent_id="x"),
        security=SecurityExtension(labels={"pii"}, classification=None, subject=subject()),
    )
    seen = filter_extensions(ext, NO_CAPS)
    assert seen is not None and seen is not ext
    assert seen.request == ext.request and seen.custom == {"a": 1}
    assert seen.http is None and seen.agent is None
    assert seen.security == SecurityExtension(labels=frozenset(), objects={}, data={})


def test_filter_keeps_unrestricted_slots() -> None:
    full = full_extensions()
    seen = filter_extensions(full, NO_CAPS)
    assert seen is not None
    for slot in ("request", "provenance", "completion", "llm", "framework", "mcp", "meta", "custom"):
        assert getattr(seen, slot) == getattr(full, slot), slot
    assert seen.delegation is None
    assert seen.security is not None and seen.security.classification == "internal"
    assert seen.security.objects == full.security.objects and seen.security.data == full.security.data  # type: ignore[union-attr]


@pytest.mark.parametrize(
    ("slot", "capability"),
    [
        ("agent", "read_agent"),
        ("http", "read_headers"),
        ("http", "write_headers"),
        ("delegation", "read_delegation"),
        ("delegation", "append_delegation"),
    ],
)
def test_filter_gated_slot_visible_with_read_or_write_capability(slot: str, capability: str) -> None:
    full = full_extensions()
    seen = filter_extensions(full, caps(capability))
    assert seen is not None and getattr(seen, slot) == getattr(full, slot)


@pytest.mark.parametrize("capability", ["read_labels", "append_labels"])
def test_filter_labels_visible_with_read_or_append(capability: str) -> None:
    seen = filter_extensions(full_extensions(), caps(capability))
    assert seen is not None and seen.security is not None and seen.security.labels == frozenset({"pii"})


def test_filter_subject_needs_a_subject_capability() -> None:
    seen = filter_extensions(full_extensions(), caps("read_agent"))
    assert seen is not None and seen.security is not None and seen.security.subject is None


def test_filter_read_subject_shows_only_id_and_type() -> None:
    seen = filter_extensions(full_extensions(), caps("read_subject"))
    assert seen is not None and seen.security is not None
    assert seen.security.subject == SubjectExtension(id="u1", type="user")


@pytest.mark.parametrize(
    ("capability", "field", "value"),
    [
        ("read_roles", "roles", frozenset({"admin"})),
        ("read_teams", "teams", frozenset({"t1"})),
        ("read_claims", "claims", {"iss": "me"}),
        ("read_permissions", "permissions", frozenset({"tools.read"})),
    ],
)
def test_filter_subject_fields_individually_gated(capability: str, field: str, value: Any) -> None:
    seen = filter_extensions(full_extensions(), caps(capability))
    assert seen is not None and seen.security is not None and seen.security.subject is not None
    shown = seen.security.subject
    assert (shown.id, shown.type) == ("u1", SubjectType.USER)  # implied read_subject
    empty: dict[str, Any] = {"roles": frozenset(), "teams": frozenset(), "claims": {}, "permissions": frozenset()}
    for other, nothing in empty.items():
        assert getattr(shown, other) == (value if other == field else nothing), other


def test_filter_accepts_capability_enum_members() -> None:
    seen = filter_extensions(full_extensions(), frozenset({Capability.READ_HEADERS}))
    assert seen is not None and seen.http is not None


# --- validate_tier_constraints -----------------------------------------------------------------


def test_validate_unchanged_passes() -> None:
    full = full_extensions()
    validate_tier_constraints(full, full.model_copy(), NO_CAPS, "p")


@pytest.mark.parametrize(
    ("update", "slot"),
    [
        ({"request": RequestExtension(trace_id="other")}, "request"),
        ({"agent": AgentExtension(agent_id="other")}, "agent"),
        ({"meta": None}, "meta"),
    ],
)
def test_validate_immutable_change_raises(update: dict[str, Any], slot: str) -> None:
    full = full_extensions()
    with pytest.raises(TierViolationError) as info:
        validate_tier_constraints(full, full.model_copy(update=update), caps(*[c.value for c in Capability]), "p")
    err = info.value
    assert (err.plugin_name, str(err.slot), err.tier) == ("p", slot, MutabilityTier.IMMUTABLE)
    assert str(err).startswith(f"Plugin 'p' violated immutable tier on '{slot}': ")


def test_validate_immutable_security_subject_change_raises() -> None:
    full = full_extensions()
    changed = full.model_copy(
        update={"security": full.security.model_copy(update={"subject": subject(id="other")})}  # type: ignore[union-attr]
    )
    with pytest.raises(TierViolationError, match="security.subject"):
        validate_tier_constraints(full, changed, caps("read_subject"), "p")


def test_validate_http_change_needs_write_headers() -> None:
    full = full_extensions()
    changed = full.model_copy(update={"http": HttpExtension(headers={"x": "y"})})
    with pytest.raises(TierViolationError, match="write_headers"):
        validate_tier_constraints(full, changed, caps("read_headers"), "p")
    validate_tier_constraints(full, changed, caps("write_headers"), "p")


def test_validate_labels_are_monotonic() -> None:
    before = Extensions(security=SecurityExtension(labels={"a", "b"}))
    grown = Extensions(security=SecurityExtension(labels={"a", "b", "c"}))
    shrunk = Extensions(security=SecurityExtension(labels={"a"}))
    validate_tier_constraints(before, grown, caps("append_labels"), "p")
    with pytest.raises(TierViolationError) as info:
        validate_tier_constraints(before, shrunk, caps("append_labels"), "p")
    assert info.value.tier is MutabilityTier.MONOTONIC
    with pytest.raises(TierViolationError, match="append_labels"):
        validate_tier_constraints(before, grown, caps("read_labels"), "p")


def test_validate_delegation_chain_may_only_grow() -> None:
    one = DelegationExtension().with_new_hop(DelegationHop(subject_id="a", subject_type="user"))
    two = one.with_new_hop(DelegationHop(subject_id="b", subject_type="agent"))
    validate_tier_constraints(Extensions(delegation=one), Extensions(delegation=two), caps("append_delegation"), "p")
    with pytest.raises(TierViolationError, match="monotonic slot had elements removed"):
        validate_tier_constraints(Extensions(delegation=two), Extensions(delegation=one), caps("append_delegation"), "p")
    with pytest.raises(TierViolationError, match="plugin lacks 'append_delegation' capability"):
        validate_tier_constraints(Extensions(delegation=one), Extensions(delegation=two), caps("read_delegation"), "p")


def test_validate_custom_is_mutable() -> None:
    validate_tier_constraints(Extensions(custom={"a": 1}), Extensions(custom={"b": 2}), NO_CAPS, "p")


# --- merge_extensions ------------------------------------------------------------------------


def test_merge_none_cases() -> None:
    full = full_extensions()
    assert merge_extensions(None, full, NO_CAPS, "p") is None
    assert merge_extensions(full, None, NO_CAPS, "p") is full


def test_merge_returns_original_object_when_nothing_accepted() -> None:
    full = full_extensions()
    # An immutable change is silently ignored, not applied.
    output = full.model_copy(update={"request": RequestExtension(trace_id="forged")})
    assert merge_extensions(full, output, NO_CAPS, "p") is full


def test_merge_http_only_with_write_headers() -> None:
    full = full_extensions()
    output = full.model_copy(update={"http": HttpExtension(headers={"x": "y"})})
    assert merge_extensions(full, output, caps("read_headers"), "p") is full
    merged = merge_extensions(full, output, caps("write_headers"), "p")
    assert merged is not None and merged.http == HttpExtension(headers={"x": "y"})
    assert merged.request == full.request


def test_merge_labels_superset_accepted_subset_rejected() -> None:
    original = Extensions(security=SecurityExtension(labels={"a"}, classification="c"))
    grown = Extensions(security=SecurityExtension(labels={"a", "b"}))
    merged = merge_extensions(original, grown, caps("append_labels"), "p")
    assert merged is not None and merged.security is not None
    assert merged.security.labels == {"a", "b"} and merged.security.classification == "c"
    assert merge_extensions(original, grown, caps("read_labels"), "p") is original
    with pytest.raises(TierViolationError):
        merge_extensions(original, Extensions(security=SecurityExtension(labels=set())), caps("append_labels"), "p")


def test_merge_delegation_rules() -> None:
    one = DelegationExtension().with_new_hop(DelegationHop(subject_id="a", subject_type="user"))
    two = one.with_new_hop(DelegationHop(subject_id="b", subject_type="agent"))
    cap = caps("append_delegation")
    first = merge_extensions(Extensions(), Extensions(delegation=one), cap, "p")
    assert first is not None and first.delegation == one
    grown = merge_extensions(Extensions(delegation=one), Extensions(delegation=two), cap, "p")
    assert grown is not None and grown.delegation == two
    altered = DelegationExtension().with_new_hop(DelegationHop(subject_id="mallory", subject_type="user"))
    with pytest.raises(TierViolationError, match="modified existing delegation chain hops"):
        merge_extensions(Extensions(delegation=one), Extensions(delegation=altered), cap, "p")
    with pytest.raises(TierViolationError, match=r"shrank delegation chain \(was 2 hops, now 1\)"):
        merge_extensions(Extensions(delegation=two), Extensions(delegation=one), cap, "p")
    # Leaving the slot out never removes it.
    assert merge_extensions(Extensions(delegation=one), Extensions(), cap, "p").delegation == one  # type: ignore[union-attr]
    original = Extensions(delegation=one)
    assert merge_extensions(original, Extensions(delegation=two), NO_CAPS, "p") is original


def test_merge_custom_unconditionally() -> None:
    merged = merge_extensions(Extensions(custom={"a": 1}), Extensions(custom={"b": 2}), NO_CAPS, "p")
    assert merged is not None and merged.custom == {"b": 2}


def test_tier_violation_error_fields() -> None:
    err = TierViolationError("plug", SlotName.HTTP, MutabilityTier.IMMUTABLE, "nope")
    assert (err.plugin_name, err.slot, err.tier, err.detail) == ("plug", SlotName.HTTP, MutabilityTier.IMMUTABLE, "nope")
    assert str(err) == "Plugin 'plug' violated immutable tier on 'http': nope"
    assert isinstance(err, Exception)


def test_validate_messages_name_the_missing_capability_or_read_only_slot() -> None:
    full = full_extensions()
    with pytest.raises(TierViolationError, match="'request': slot has no write capability and cannot be modified"):
        validate_tier_constraints(full, full.model_copy(update={"request": None}), NO_CAPS, "p")
    changed = full.model_copy(update={"http": HttpExtension(headers={"x": "y"})})
    with pytest.raises(TierViolationError, match="'http': plugin lacks 'write_headers' capability"):
        validate_tier_constraints(full, changed, NO_CAPS, "p")


def test_validate_reads_absent_parents_as_none() -> None:
    # No security slot before, an empty one after: objects/data went from absent to {}.
    validate_tier_constraints(None, None, NO_CAPS, "p")
    with pytest.raises(TierViolationError, match="security"):
        validate_tier_constraints(Extensions(), Extensions(security=SecurityExtension()), NO_CAPS, "p")
    with pytest.raises(TierViolationError, match="'request'"):
        validate_tier_constraints(None, Extensions(request=RequestExtension()), NO_CAPS, "p")


def test_validate_subject_fields_are_read_only() -> None:
    before = Extensions(security=SecurityExtension(subject=subject(roles=frozenset({"a"}))))
    after = Extensions(security=SecurityExtension(subject=subject(roles=frozenset({"a", "admin"}))))
    with pytest.raises(TierViolationError, match="security.subject"):
        validate_tier_constraints(before, after, caps(*[c.value for c in Capability]), "p")


def test_merge_ignores_removed_http_and_labels_without_an_original_security_slot() -> None:
    full = full_extensions()
    assert merge_extensions(full, full.model_copy(update={"http": None}), caps("write_headers"), "p") is full
    original = Extensions(request=RequestExtension(trace_id="t"))
    output = Extensions(security=SecurityExtension(labels={"pii"}))
    assert merge_extensions(original, output, caps("append_labels"), "p") is original
    with_security = Extensions(security=SecurityExtension(labels={"a"}))
    assert merge_extensions(with_security, Extensions(), caps("append_labels"), "p") is with_security
