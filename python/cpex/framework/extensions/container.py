"""The :class:`Extensions` container handed to 3-parameter hooks (spec §17.1)."""

from __future__ import annotations

from typing import Any, Optional

from pydantic import BaseModel, ConfigDict

from cpex.framework.extensions.agent import AgentExtension
from cpex.framework.extensions.completion import CompletionExtension
from cpex.framework.extensions.delegation import DelegationExtension
from cpex.framework.extensions.framework import FrameworkExtension
from cpex.framework.extensions.http import HttpExtension
from cpex.framework.extensions.llm import LLMExtension
from cpex.framework.extensions.mcp import MCPExtension
from cpex.framework.extensions.meta import MetaExtension
from cpex.framework.extensions.provenance import ProvenanceExtension
from cpex.framework.extensions.request import RequestExtension
from cpex.framework.extensions.security import SecurityExtension


class Extensions(BaseModel):
    """Typed request extensions; each slot's tier and access rule is in ``tiers``."""

    model_config = ConfigDict(frozen=True)

    request: Optional[RequestExtension] = None
    agent: Optional[AgentExtension] = None
    http: Optional[HttpExtension] = None
    security: Optional[SecurityExtension] = None
    delegation: Optional[DelegationExtension] = None
    mcp: Optional[MCPExtension] = None
    completion: Optional[CompletionExtension] = None
    provenance: Optional[ProvenanceExtension] = None
    llm: Optional[LLMExtension] = None
    framework: Optional[FrameworkExtension] = None
    meta: Optional[MetaExtension] = None
    custom: Optional[dict[str, Any]] = None
