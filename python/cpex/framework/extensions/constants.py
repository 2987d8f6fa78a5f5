"""Slot names and field-name constants of the typed extensions (spec §17).

A *slot* is a path into :class:`~cpex.framework.extensions.Extensions` whose access
is governed by one policy (§17.2); nested security slots are dotted paths.
"""

from __future__ import annotations

from enum import Enum


class SlotName(str, Enum):
    """Every slot the tier registry knows; ``str()`` renders the bare value."""

    REQUEST = "request"
    PROVENANCE = "provenance"
    COMPLETION = "completion"
    LLM = "llm"
    FRAMEWORK = "framework"
    MCP = "mcp"
    AGENT = "agent"
    HTTP = "http"
    META = "meta"
    DELEGATION = "delegation"
    CUSTOM = "custom"
    SECURITY_SUBJECT = "security.subject"
    SECURITY_SUBJECT_ROLES = "security.subject.roles"
    SECURITY_SUBJECT_TEAMS = "security.subject.teams"
    SECURITY_SUBJECT_CLAIMS = "security.subject.claims"
    SECURITY_SUBJECT_PERMISSIONS = "security.subject.permissions"
    SECURITY_OBJECTS = "security.objects"
    SECURITY_DATA = "security.data"
    SECURITY_LABELS = "security.labels"

    def __str__(self) -> str:
        # Slot names appear in error messages and logs as plain paths.
        return self.value


# Field names of the Extensions container and of the nested security models.
FIELD_REQUEST = "request"
FIELD_PROVENANCE = "provenance"
FIELD_COMPLETION = "completion"
FIELD_LLM = "llm"
FIELD_FRAMEWORK = "framework"
FIELD_MCP = "mcp"
FIELD_AGENT = "agent"
FIELD_HTTP = "http"
FIELD_META = "meta"
FIELD_DELEGATION = "delegation"
FIELD_CUSTOM = "custom"
FIELD_SECURITY = "security"
FIELD_LABELS = "labels"
FIELD_CLASSIFICATION = "classification"
FIELD_SUBJECT = "subject"
FIELD_OBJECTS = "objects"
FIELD_DATA = "data"
FIELD_ROLES = "roles"
FIELD_TEAMS = "teams"
FIELD_CLAIMS = "claims"
FIELD_PERMISSIONS = "permissions"
