"""Resource hook types and payloads (spec §16.3)."""

from __future__ import annotations

from enum import Enum
from typing import Any, Optional

from pydantic import Field

from cpex.framework.hooks.registry import get_hook_registry
from cpex.framework.models import PluginPayload, PluginResult


class ResourceHookType(str, Enum):
    """Hook points around a resource fetch."""

    RESOURCE_PRE_FETCH = "resource_pre_fetch"
    RESOURCE_POST_FETCH = "resource_post_fetch"


class ResourcePreFetchPayload(PluginPayload):
    """A resource about to be fetched."""

    uri: str
    metadata: Optional[dict[str, Any]] = Field(default_factory=dict)


class ResourcePostFetchPayload(PluginPayload):
    """A fetched resource and its content."""

    uri: str
    content: Any


ResourcePreFetchResult = PluginResult[ResourcePreFetchPayload]
ResourcePostFetchResult = PluginResult[ResourcePostFetchPayload]


def _register() -> None:
    registry = get_hook_registry()
    if registry.is_registered(ResourceHookType.RESOURCE_PRE_FETCH):
        return
    registry.register_hook(ResourceHookType.RESOURCE_PRE_FETCH, ResourcePreFetchPayload, ResourcePreFetchResult)
    registry.register_hook(
        ResourceHookType.RESOURCE_POST_FETCH, ResourcePostFetchPayload, ResourcePostFetchResult
    )


_register()
