"""ExternalPluginServer: the plugins an external MCP plugin server runs, and how one
invoke_hook call becomes a plugin call and a reply (upstream's shapes, kept exactly:
clients of both cpex versions read them).

The transport is not here: the runtime (``runtime.py``) serves MCP from Go and hands
calls to :meth:`ExternalPluginServer.invoke_hook`.
"""

from __future__ import annotations

import logging
import os
from typing import Any, Optional, Union

from cpex.framework.errors import PluginError, convert_exception_to_error
from cpex.framework.loader.config import ConfigLoader
from cpex.framework.manager import PluginManager
from cpex.framework.models import GRPCServerConfig, MCPServerConfig, PluginContext
from cpex.framework.settings import get_config_path_settings

logger = logging.getLogger(__name__)

#: Where the configuration is read when neither the argument nor PLUGINS_CONFIG_PATH says.
DEFAULT_CONFIG_PATH = os.path.join(".", "resources", "plugins", "config.yaml")


class ExternalPluginServer:
    """The plugins of one configuration file, served to external-plugin clients."""

    def __init__(self, config_path: Optional[str] = None) -> None:
        self._config_path = config_path or get_config_path_settings().config_path or DEFAULT_CONFIG_PATH
        self._config = ConfigLoader.load_config(self._config_path, use_jinja=False)
        self._plugin_manager = PluginManager(self._config_path)

    async def get_plugin_configs(self) -> list[dict[str, Any]]:
        """Every served plugin's configuration (``model_dump``), in file order."""
        return [p.model_dump() for p in self._config.plugins or []]

    async def get_plugin_config(self, name: str) -> Optional[dict[str, Any]]:
        """The configuration of the plugin called ``name`` (case-insensitive), or None."""
        wanted = name.lower()
        for p in self._config.plugins or []:
            if p.name.lower() == wanted:
                return p.model_dump()
        return None

    async def invoke_hook(
        self,
        hook_type: str,
        plugin_name: str,
        payload: dict[str, Any],
        context: Union[dict[str, Any], PluginContext],
    ) -> dict[str, Any]:
        """Run one hook of one plugin: ``{"plugin_name", "result", "context"?}``, or
        ``{"plugin_name", "error"}`` with the error model when anything fails (the plugin
        raising, an unknown plugin or hook, a payload the hook's model rejects)."""
        reply: dict[str, Any] = {"plugin_name": plugin_name}
        try:
            given = isinstance(context, PluginContext)
            ctx = context if isinstance(context, PluginContext) else PluginContext.model_validate(context or {})
            result = await self._plugin_manager.invoke_hook_for_plugin(
                plugin_name, hook_type, payload, ctx, payload_as_json=True
            )
            reply["result"] = result.model_dump()
            if not ctx.is_empty():
                reply["context"] = ctx if given else ctx.model_dump()
        except PluginError as exc:
            reply["error"] = exc.error.model_dump()
        except Exception as exc:  # noqa: BLE001 - every failure goes back as an error model
            logger.exception("plugin %s, hook %s failed", plugin_name, hook_type)
            reply["error"] = convert_exception_to_error(exc, plugin_name=plugin_name).model_dump()
        return reply

    async def initialize(self) -> bool:
        """Load and initialise the plugins; whether the manager is ready."""
        await self._plugin_manager.initialize()
        return bool(self._plugin_manager.initialized)

    async def shutdown(self) -> None:
        """Shut the plugins down (once; a second call does nothing)."""
        if self._plugin_manager.initialized:
            await self._plugin_manager.shutdown()

    def get_server_config(self) -> MCPServerConfig:
        """Where to listen: the file's ``server_settings``, else PLUGINS_SERVER_*, else
        127.0.0.1:8000."""
        return self._config.server_settings or MCPServerConfig.from_env() or MCPServerConfig()

    def get_grpc_server_config(self) -> Optional[GRPCServerConfig]:
        """The file's ``grpc_server_settings`` (None when absent; gRPC serving is not
        supported by this package, the settings are only read)."""
        return self._config.grpc_server_settings
