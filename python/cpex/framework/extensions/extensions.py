"""Upstream's import path of the :class:`Extensions` container.

Plugins and tests written for cpex 0.1.x import
``cpex.framework.extensions.extensions.Extensions``; the class itself lives in
:mod:`cpex.framework.extensions.container`.
"""

# The slot models are reachable from this module in upstream too (it imports them).
from cpex.framework.extensions.agent import AgentExtension  # noqa: F401
from cpex.framework.extensions.completion import CompletionExtension  # noqa: F401
from cpex.framework.extensions.container import Extensions
from cpex.framework.extensions.delegation import DelegationExtension  # noqa: F401
from cpex.framework.extensions.framework import FrameworkExtension  # noqa: F401
from cpex.framework.extensions.http import HttpExtension  # noqa: F401
from cpex.framework.extensions.llm import LLMExtension  # noqa: F401
from cpex.framework.extensions.mcp import MCPExtension  # noqa: F401
from cpex.framework.extensions.meta import MetaExtension  # noqa: F401
from cpex.framework.extensions.provenance import ProvenanceExtension  # noqa: F401
from cpex.framework.extensions.request import RequestExtension  # noqa: F401
from cpex.framework.extensions.security import SecurityExtension  # noqa: F401

__all__ = ["Extensions"]
