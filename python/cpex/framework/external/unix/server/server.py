"""UnixSocketPluginServer: the plugins of one configuration served over upstream's
Unix-socket protocol (4-byte big-endian length, protobuf messages, 16 MiB at most).

Go owns the socket (``core/external/unixsock``): it reads and answers the frames and
queues each InvokeHook for this event loop, which runs it through
:class:`ExternalPluginServer` (:mod:`cpex.framework.external.mcp.server.host`, the drain
every plugin server runtime shares).
"""

from __future__ import annotations

import asyncio
import logging
import os
import signal
from typing import Optional

from cpex.framework.external.mcp.server.host import PluginServerHost
from cpex.framework.external.mcp.server.server import ExternalPluginServer
from cpex.framework.models import UnixSocketServerConfig

logger = logging.getLogger(__name__)

#: Upstream's default socket path.
DEFAULT_SOCKET_PATH = "/tmp/mcpgateway-plugins.sock"  # noqa: S108 - upstream's default, configurable


class UnixSocketPluginServer:
    """The plugins of ``config_path`` served on the Unix socket ``socket_path`` (mode 0600)."""

    def __init__(self, config_path: str, socket_path: str = DEFAULT_SOCKET_PATH) -> None:
        self._config_path = config_path
        self._socket_path = socket_path
        self._plugin_server: Optional[ExternalPluginServer] = None
        self._host: Optional[PluginServerHost] = None
        self._running = False

    @property
    def socket_path(self) -> str:
        """Where the server listens."""
        return self._socket_path

    @property
    def running(self) -> bool:
        """Whether the server is listening."""
        return self._running

    async def start(self) -> None:
        """Load the plugins and listen (an old socket file is replaced)."""
        self._plugin_server = ExternalPluginServer(config_path=self._config_path)
        if not await self._plugin_server.initialize():
            raise RuntimeError("the plugin server could not initialise its plugins")
        level = logging.getLevelName(logging.getLogger("cpex").getEffectiveLevel())
        self._host = PluginServerHost(self._plugin_server, "unix", UnixSocketServerConfig(path=self._socket_path), level)
        await self._host.start()
        self._running = True
        logger.info("Unix socket plugin server listening on %s", self._socket_path)

    async def serve_forever(self) -> None:
        """Until stop() (from another task) or the server fails.

        Raises:
            RuntimeError: the server was not started, or its accept loop failed.
        """
        if self._host is None:
            raise RuntimeError("Server not started. Call start() first.")
        await self._host.wait()
        if self._host is not None and self._host.error:
            raise RuntimeError(f"Unix socket plugin server stopped: {self._host.error}")

    async def stop(self) -> None:
        """Stop serving (the socket file goes), then shut the plugins down."""
        self._running = False
        if self._host is not None:
            await self._host.stop()
            self._host = None
        if self._plugin_server is not None:
            await self._plugin_server.shutdown()
            self._plugin_server = None
        try:
            os.unlink(self._socket_path)
        except OSError:
            pass


async def run_server(config_path: str, socket_path: str = DEFAULT_SOCKET_PATH) -> None:
    """Serve until SIGINT or SIGTERM; prints READY on stdout once listening (upstream's
    signal to a parent process)."""
    server = UnixSocketPluginServer(config_path=config_path, socket_path=socket_path)
    loop = asyncio.get_running_loop()
    stop = asyncio.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    try:
        await server.start()
        print("READY", flush=True)
        serving = asyncio.ensure_future(server.serve_forever())
        asked = asyncio.ensure_future(stop.wait())
        await asyncio.wait({serving, asked}, return_when=asyncio.FIRST_COMPLETED)
        asked.cancel()
        if serving.done():
            serving.result()  # a failed accept loop raises here
        else:
            serving.cancel()
    finally:
        await server.stop()
