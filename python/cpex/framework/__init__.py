"""cpex.framework: the plugin framework API of cpex 0.1.x, scheduled by a Go core.

Importing this package never starts the Go runtime (see ``cpex._core``): that happens on
the first hook run, plugin-manager initialisation with a Go plugin, or other real use.
"""

from typing import Optional

from cpex.framework import settings as _settings_module
from cpex.framework.base import Plugin
from cpex.framework.decorator import hook
from cpex.framework.errors import DenialExecutionRecord, DenialOutcome, PluginError, PluginViolationError
from cpex.framework.external import ExternalPluginServer
from cpex.framework.hooks.agents import (
    AgentHookType,
    AgentPostInvokePayload,
    AgentPostInvokeResult,
    AgentPreInvokePayload,
    AgentPreInvokeResult,
)
from cpex.framework.hooks.http import (
    HttpAuthCheckPermissionPayload,
    HttpAuthCheckPermissionResult,
    HttpAuthCheckPermissionResultPayload,
    HttpAuthResolveUserPayload,
    HttpAuthResolveUserResult,
    HttpHeaderPayload,
    HttpHookType,
    HttpPostRequestPayload,
    HttpPostRequestResult,
    HttpPreRequestPayload,
    HttpPreRequestResult,
)
from cpex.framework.hooks.policies import HookPayloadPolicy
from cpex.framework.hooks.prompts import (
    PromptHookType,
    PromptPosthookPayload,
    PromptPosthookResult,
    PromptPrehookPayload,
    PromptPrehookResult,
)
from cpex.framework.hooks.registry import HookRegistry, get_hook_registry
from cpex.framework.hooks.resources import (
    ResourceHookType,
    ResourcePostFetchPayload,
    ResourcePostFetchResult,
    ResourcePreFetchPayload,
    ResourcePreFetchResult,
)
from cpex.framework.hooks.tools import (
    ToolHookType,
    ToolPostInvokePayload,
    ToolPostInvokeResult,
    ToolPreInvokePayload,
    ToolPreInvokeResult,
)
from cpex.framework.loader.config import ConfigLoader
from cpex.framework.loader.plugin import PluginLoader
from cpex.framework.manager import PluginManager, TenantPluginManager
from cpex.framework.models import (
    ControlExecutionRecord,
    ControlExecutionStatus,
    GlobalContext,
    MCPClientConfig,
    MCPServerConfig,
    OnError,
    PluginCondition,
    PluginConfig,
    PluginContext,
    PluginContextTable,
    PluginErrorModel,
    PluginMode,
    PluginPayload,
    PluginResult,
    PluginViolation,
    TransportType,
    UserContext,
)
from cpex.framework.observability import ObservabilityProvider
from cpex.framework.utils import get_attr

# The process-wide manager handed out by get_plugin_manager() (tests reset it to None).
_plugin_manager: Optional[PluginManager] = None


def get_plugin_manager(
    observability: Optional[ObservabilityProvider] = None,
    hook_policies: Optional[dict[str, HookPayloadPolicy]] = None,
) -> Optional[PluginManager]:
    """The lazily built process-wide PluginManager, or None when PLUGINS_ENABLED is off.

    The manager is constructed (not initialised) on the first call while plugins are
    enabled; later calls return it and ignore their arguments.
    """
    global _plugin_manager
    if _plugin_manager is None:
        settings = _settings_module.settings
        if not settings.enabled:
            return None
        _plugin_manager = PluginManager(
            settings.config_file,
            timeout=settings.plugin_timeout,
            observability=observability,
            hook_policies=hook_policies,
        )
    return _plugin_manager


__all__ = [
    "AgentHookType",
    "AgentPostInvokePayload",
    "AgentPostInvokeResult",
    "AgentPreInvokePayload",
    "AgentPreInvokeResult",
    "ConfigLoader",
    "ControlExecutionRecord",
    "ControlExecutionStatus",
    "DenialExecutionRecord",
    "DenialOutcome",
    "ExternalPluginServer",
    "get_attr",
    "get_hook_registry",
    "get_plugin_manager",
    "GlobalContext",
    "hook",
    "HookRegistry",
    "HttpAuthCheckPermissionPayload",
    "HttpAuthCheckPermissionResult",
    "HttpAuthCheckPermissionResultPayload",
    "HttpAuthResolveUserPayload",
    "HttpAuthResolveUserResult",
    "HttpHeaderPayload",
    "HttpHookType",
    "HttpPostRequestPayload",
    "HttpPostRequestResult",
    "HttpPreRequestPayload",
    "HttpPreRequestResult",
    "MCPClientConfig",
    "MCPServerConfig",
    "ObservabilityProvider",
    "OnError",
    "Plugin",
    "PluginCondition",
    "PluginConfig",
    "PluginContext",
    "PluginContextTable",
    "PluginError",
    "PluginErrorModel",
    "PluginLoader",
    "PluginManager",
    "PluginMode",
    "PluginPayload",
    "PluginResult",
    "PluginViolation",
    "PluginViolationError",
    "PromptHookType",
    "PromptPosthookPayload",
    "PromptPosthookResult",
    "PromptPrehookPayload",
    "PromptPrehookResult",
    "ResourceHookType",
    "ResourcePostFetchPayload",
    "ResourcePostFetchResult",
    "ResourcePreFetchPayload",
    "ResourcePreFetchResult",
    "TenantPluginManager",
    "ToolHookType",
    "ToolPostInvokePayload",
    "ToolPostInvokeResult",
    "ToolPreInvokePayload",
    "ToolPreInvokeResult",
    "TransportType",
    "UserContext",
]
