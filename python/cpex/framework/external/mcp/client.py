"""External plugins served over MCP (``kind: external`` with an ``mcp:`` section), and
over gRPC (``grpc:``) or a Unix socket (``unix_socket:``): the same class, another of the
core's clients (``core/external/grpc``, ``core/external/unixsock``).

The client lives in the Go core (``core/external/mcpclient``, on the official Go MCP
SDK): the core starts or reaches the server, fetches the plugin's remote config, merges
it under the local entry and makes every hook call itself, inside the run, without the
GIL. This class gives that Go plugin the shape of a ``Plugin``: ``initialize`` connects
and adopts the merged config (hooks, mode, priority, conditions come from the server),
each hook is a coroutine method as for any Go plugin, ``shutdown`` closes the session.
The package depends on no Python MCP library.
"""

from __future__ import annotations

import asyncio
import os
import sys
import weakref
from typing import Any

from cpex.framework._driver import _dumps, _loads
from cpex.framework._engine import wire
from cpex.framework._goplugin import GoPlugin, _release
from cpex.framework.base import ExternalHookRef, Plugin
from cpex.framework.constants import IGNORE_CONFIG_EXTERNAL
from cpex.framework.errors import PluginError
from cpex.framework.models import PluginConfig, PluginErrorModel
from cpex.framework.settings import settings

# How long initialize waits for a server to start and answer the handshake.
CONNECT_TIMEOUT_SECONDS = 60.0


class ExternalPlugin(GoPlugin):
    """A plugin served by an external MCP server; the Go core is its client."""

    def __init__(self, config: PluginConfig) -> None:  # pylint: disable=super-init-not-called
        # Not GoPlugin.__init__: the Go twin exists only once initialize has connected.
        Plugin.__init__(self, config)
        self._go_plugin_id = 0
        self._connected = False

    async def initialize(self) -> None:
        """Connect, fetch the remote config and adopt it merged under the local entry.

        Raises:
            PluginError: the server cannot be started or reached, has no config for this
                plugin ("Unable to retrieve configuration for external plugin"), or sent
                one that does not validate.
        """
        if self._config.mcp is None and self._config.grpc is None and self._config.unix_socket is None:
            raise PluginError(
                PluginErrorModel(message="The mcp section must be defined for external plugin", plugin_name=self.name)
            )
        entry = _dumps(self._config.model_dump(mode="json", exclude_unset=True), default=str)
        timeout = max(float(settings.plugin_timeout), CONNECT_TIMEOUT_SECONDS)
        # The settings (PLUGINS_HTTPX_*, PLUGINS_CLIENT_MTLS_*, ...) are read from the
        # environment as it is now; the Go runtime's own copy dates from its start.
        env = {k: v for k, v in os.environ.items() if k.startswith("PLUGINS_")}
        opts = _dumps({"python": sys.executable, "timeout": timeout, "env": env})
        try:
            # Off the event loop: starting a stdio server and the handshake take a while.
            raw = await asyncio.to_thread(wire.external_plugin_new, entry, opts)
        except RuntimeError as exc:
            raise PluginError(PluginErrorModel(message=str(exc), plugin_name=self.name, code="external_plugin")) from exc
        answer: dict[str, Any] = _loads(raw)
        if "error" in answer:
            raise PluginError(PluginErrorModel.model_validate(answer["error"]))
        go_id = int(answer["id"])
        self._go_plugin_id = go_id
        self._finalizer = weakref.finalize(self, _release, go_id)
        self._finalizer.atexit = False
        self._connected = True
        try:
            self._config = PluginConfig.model_validate(answer["config"], context={IGNORE_CONFIG_EXTERNAL: True})
        except Exception as exc:
            self._finalizer()
            raise PluginError(
                PluginErrorModel(message=f"Invalid remote config: {exc}", plugin_name=self.name, code="external_plugin")
            ) from exc
        for hook in self._config.hooks:
            setattr(self, str(hook), self._hook_for(str(hook)))

    async def shutdown(self) -> None:
        """Close the MCP session (DELETE over HTTP; the stdio server is stopped)."""
        if self._connected:
            await asyncio.to_thread(self._finalizer)


__all__ = ["ExternalHookRef", "ExternalPlugin"]
