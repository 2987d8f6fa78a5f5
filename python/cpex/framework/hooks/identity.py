"""Identity hook types and payloads (spec §16.6); registered only when this module is imported.

``identity_resolve`` turns a raw credential into a subject; ``token_delegate`` mints a
token for a downstream target and extends the delegation chain.
"""

from __future__ import annotations

from enum import Enum
from typing import Any, Optional

from pydantic import BaseModel, ConfigDict, Field, SecretStr

from cpex.framework.extensions.delegation import DelegationExtension
from cpex.framework.extensions.security import SubjectExtension
from cpex.framework.hooks.registry import get_hook_registry
from cpex.framework.models import PluginPayload, PluginResult


class IdentityHookType(str, Enum):
    """Hook points of identity resolution and delegation."""

    IDENTITY_RESOLVE = "identity_resolve"
    TOKEN_DELEGATE = "token_delegate"


class IdentityPayload(PluginPayload):
    """A raw credential to resolve; the token never serialises in clear."""

    raw_token: SecretStr
    source: str = "bearer"
    headers: dict[str, str] = Field(default_factory=dict)
    client_host: Optional[str] = None
    client_port: Optional[int] = None


class IdentityResult(PluginPayload):
    """Who the credential identifies, or why it was rejected."""

    subject: Optional[SubjectExtension] = None
    delegation: Optional[DelegationExtension] = None
    rejected: bool = False
    reject_status: int = 401
    reject_reason: str = ""
    raw_claims: dict[str, Any] = Field(default_factory=dict)


class AttenuationConfig(BaseModel):
    """How a delegated token is narrowed along a route."""

    model_config = ConfigDict(frozen=True)

    capabilities: list[str] = Field(default_factory=list)
    resource_template: Optional[str] = None
    actions: list[str] = Field(default_factory=list)
    ttl_seconds: Optional[int] = None


class DelegationPayload(PluginPayload):
    """A request for a token usable against ``target_name``."""

    target_name: str
    target_type: str = "tool"
    target_audience: Optional[str] = None
    required_permissions: list[str] = Field(default_factory=list)
    trust_domain: Optional[str] = None
    auth_enforced_by: str = "caller"
    route_attenuation: Optional[AttenuationConfig] = None
    bearer_token: Optional[SecretStr] = None


class DelegationResult(PluginPayload):
    """The delegated token and what to forward with it."""

    delegated_token: Optional[str] = None
    delegation_update: DelegationExtension = Field(default_factory=DelegationExtension)
    forwarded_headers: dict[str, str] = Field(default_factory=dict)
    cache_key: Optional[str] = None
    cache_ttl: Optional[int] = None


IdentityResolveResult = PluginResult[IdentityResult]
TokenDelegateResult = PluginResult[DelegationResult]


def _register() -> None:
    registry = get_hook_registry()
    if registry.is_registered(IdentityHookType.IDENTITY_RESOLVE):
        return
    registry.register_hook(IdentityHookType.IDENTITY_RESOLVE, IdentityPayload, IdentityResolveResult)
    registry.register_hook(IdentityHookType.TOKEN_DELEGATE, DelegationPayload, TokenDelegateResult)


_register()
