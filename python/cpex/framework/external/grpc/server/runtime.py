"""The external gRPC plugin server:
``python -m cpex.framework.external.grpc.server.runtime [--config PATH] [--host H] [--port P] [--log-level L]``.

Go serves ``cpex.PluginService``, ``cpex.Health`` and the standard ``grpc.health.v1``
(``core/external/grpc``) and queues each InvokeHook for this event loop, which runs it
through :class:`ExternalPluginServer` (:mod:`cpex.framework.external.mcp.server.host`).

Where it listens: the file's ``grpc_server_settings``, else PLUGINS_GRPC_SERVER_HOST /
PORT / UDS (TLS when PLUGINS_GRPC_SERVER_SSL_ENABLED: _CERTFILE, _KEYFILE, _CA_CERTS,
_KEYFILE_PASSWORD, _CLIENT_AUTH none|optional|require, default require), else
127.0.0.1:50051. A UDS wins over host and port; --host and --port override the others.
The configuration is --config, else PLUGINS_CONFIG_PATH, else
./resources/plugins/config.yaml. PLUGINS_LOG_LEVEL wins over --log-level (upstream's
order). Logs go to stderr; SIGINT/SIGTERM stop it (running calls get 5 s).
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import signal
import sys
from typing import Optional

from cpex.framework.external.mcp.server.host import PluginServerHost
from cpex.framework.external.mcp.server.server import ExternalPluginServer
from cpex.framework.external.runtime_main import run_program
from cpex.framework.models import GRPCServerConfig
from cpex.framework.settings import get_settings

logger = logging.getLogger("cpex.framework.external.grpc.server.runtime")


class GrpcPluginRuntime:
    """One gRPC plugin server: its plugins, its endpoint and its lifetime."""

    def __init__(self, config_path: Optional[str] = None, host: Optional[str] = None, port: Optional[int] = None) -> None:
        self._config_path = config_path
        self._host_override = host
        self._port_override = port
        self._plugin_server: Optional[ExternalPluginServer] = None
        self._host: Optional[PluginServerHost] = None
        self._shutdown = asyncio.Event()
        self.address = ""

    def server_config(self) -> GRPCServerConfig:
        """The endpoint: file, else environment, else defaults; then the overrides."""
        config: Optional[GRPCServerConfig] = None
        if self._plugin_server is not None:
            config = self._plugin_server.get_grpc_server_config()
        config = config or GRPCServerConfig.from_env() or GRPCServerConfig()
        update: dict[str, object] = {}
        if self._host_override:
            update["host"] = self._host_override
        if self._port_override:
            update["port"] = self._port_override
        return config.model_copy(update=update) if update else config

    async def start(self) -> None:
        """Load the plugins and listen (the endpoint is bound when this returns)."""
        self._plugin_server = ExternalPluginServer(config_path=self._config_path)
        if not await self._plugin_server.initialize():
            raise RuntimeError("the plugin server could not initialise its plugins")
        config = self.server_config()
        self._host = PluginServerHost(self._plugin_server, "grpc", config, logging.getLevelName(logger.getEffectiveLevel()))
        await self._host.start()
        self.address = self._host.addr
        if config.uds:
            logger.info("gRPC plugin server listening on Unix socket %s", config.uds)
        elif config.tls is None:
            logger.warning("gRPC plugin server listening WITHOUT TLS on %s", self.address)
        else:
            logger.info("gRPC plugin server listening with TLS on %s", self.address)

    async def wait(self) -> None:
        """Until request_shutdown() or the server fails."""
        assert self._host is not None
        ended = asyncio.ensure_future(self._host.wait())
        asked = asyncio.ensure_future(self._shutdown.wait())
        await asyncio.wait({ended, asked}, return_when=asyncio.FIRST_COMPLETED)
        for f in (ended, asked):
            f.cancel()
        if self._host.error:
            raise RuntimeError(f"gRPC plugin server stopped: {self._host.error}")

    def request_shutdown(self) -> None:
        """Make wait() return (signal handlers call this)."""
        self._shutdown.set()

    async def stop(self) -> None:
        """Stop serving, then shut the plugins down."""
        if self._host is not None:
            await self._host.stop()
            self._host = None
        if self._plugin_server is not None:
            await self._plugin_server.shutdown()
            self._plugin_server = None


async def run_server(config_path: Optional[str] = None, host: Optional[str] = None, port: Optional[int] = None) -> None:
    """Serve until SIGINT or SIGTERM."""
    runtime = GrpcPluginRuntime(config_path=config_path, host=host, port=port)
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, runtime.request_shutdown)
    try:
        await runtime.start()
        await runtime.wait()
    finally:
        await runtime.stop()


def parse_args(argv: Optional[list[str]] = None) -> argparse.Namespace:
    """The command line (upstream's flags)."""
    parser = argparse.ArgumentParser(description="gRPC server for external cpex plugins")
    parser.add_argument("--config", "-c", type=str, default=None, help="plugin configuration file")
    parser.add_argument("--host", "-H", type=str, default=None, help="host to bind (default 127.0.0.1)")
    parser.add_argument("--port", "-p", type=int, default=None, help="port to bind (default 50051)")
    parser.add_argument("--log-level", "-l", type=str, default="INFO", choices=["DEBUG", "INFO", "WARNING", "ERROR"],
                        help="log level (PLUGINS_LOG_LEVEL wins)")
    return parser.parse_args(argv)


def log_level(flag: str) -> str:
    """PLUGINS_LOG_LEVEL when set (upstream's precedence), else the --log-level flag."""
    return os.environ.get("PLUGINS_LOG_LEVEL") or flag


def main(argv: Optional[list[str]] = None) -> int:
    """Run the server; the exit status."""
    args = parse_args(argv)
    settings = get_settings()
    return run_program(lambda: run_server(config_path=args.config or settings.config_path, host=args.host, port=args.port),
                       log_level(args.log_level), "gRPC plugin server")


if __name__ == "__main__":
    sys.exit(main())
