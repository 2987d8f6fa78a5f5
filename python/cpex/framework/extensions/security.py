"""The ``security`` slot: labels, classification, subject, object and data policies.

Access is per sub-slot (§17.2): labels are monotonic and gated, the subject and its
roles/teams/claims/permissions are gated individually, objects and data are open.
"""

from __future__ import annotations

from enum import Enum
from typing import Optional

from pydantic import BaseModel, ConfigDict, Field


class SubjectType(str, Enum):
    """What kind of principal a subject is."""

    USER = "user"
    AGENT = "agent"
    SERVICE = "service"
    SYSTEM = "system"


class SubjectExtension(BaseModel):
    """The authenticated principal behind a request."""

    model_config = ConfigDict(frozen=True)

    id: str
    type: SubjectType
    roles: frozenset[str] = frozenset()
    permissions: frozenset[str] = frozenset()
    teams: frozenset[str] = frozenset()
    claims: dict[str, str] = Field(default_factory=dict)


class ObjectSecurityProfile(BaseModel):
    """Who manages an object and what it requires."""

    model_config = ConfigDict(frozen=True)

    managed_by: str = "host"
    permissions: list[str] = Field(default_factory=list)
    trust_domain: Optional[str] = None
    data_scope: list[str] = Field(default_factory=list)


class RetentionPolicy(BaseModel):
    """How long data may be kept."""

    model_config = ConfigDict(frozen=True)

    max_age_seconds: Optional[int] = None
    policy: str = "persistent"
    delete_after: Optional[str] = None


class DataPolicy(BaseModel):
    """Labels to apply and actions allowed on a piece of data."""

    model_config = ConfigDict(frozen=True)

    apply_labels: list[str] = Field(default_factory=list)
    allowed_actions: Optional[list[str]] = None
    denied_actions: list[str] = Field(default_factory=list)
    retention: Optional[RetentionPolicy] = None


class SecurityExtension(BaseModel):
    """Security facts about a request."""

    model_config = ConfigDict(frozen=True)

    labels: frozenset[str] = frozenset()
    classification: Optional[str] = None
    subject: Optional[SubjectExtension] = None
    objects: dict[str, ObjectSecurityProfile] = Field(default_factory=dict)
    data: dict[str, DataPolicy] = Field(default_factory=dict)
