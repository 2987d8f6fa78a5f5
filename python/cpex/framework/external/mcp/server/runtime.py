"""The external MCP plugin server: ``python -m cpex.framework.external.mcp.server.runtime``
or ``python .../cpex/framework/external/mcp/server/runtime.py`` (the gateway's
run-server.sh scripts use both).

Settings (environment): PLUGINS_CONFIG_PATH (default ./resources/plugins/config.yaml);
PLUGINS_TRANSPORT stdio or http (default: stdio when stdin is not a terminal);
PLUGINS_SERVER_HOST/PORT/UDS and PLUGINS_SERVER_SSL_* for HTTP (or the file's
server_settings); PLUGINS_LOG_LEVEL. HTTP serves /mcp, GET /health and GET
/metrics/prometheus; with TLS, /health and the metrics also on plain HTTP at port+1000.
Logs go to stderr: over stdio, stdout is the MCP channel.
"""

from __future__ import annotations

import asyncio
import logging
import signal
import sys

from cpex.framework.external.mcp.server.host import PluginServerHost, Transport
from cpex.framework.external.mcp.server.server import ExternalPluginServer
from cpex.framework.external.runtime_main import run_program
from cpex.framework.settings import get_settings, get_transport_settings

logger = logging.getLogger("cpex.framework.external.mcp.server.runtime")


def choose_transport(setting: str | None, stdin_is_tty: bool) -> Transport:
    """PLUGINS_TRANSPORT, else stdio when stdin is not a terminal (a client started us)."""
    if setting:
        value = setting.strip().lower()
        if value not in ("stdio", "http"):
            raise ValueError(f"PLUGINS_TRANSPORT: want stdio or http, got {setting!r}")
        return "stdio" if value == "stdio" else "http"
    return "http" if stdin_is_tty else "stdio"


async def run() -> int:
    """Serve until the client goes (stdio) or SIGTERM/SIGINT; the exit status."""
    level = get_settings().log_level
    server = ExternalPluginServer()
    if not await server.initialize():
        logger.error("the plugin server could not initialise its plugins")
        return 1
    transport = choose_transport(get_transport_settings().transport, sys.stdin.isatty())
    host = PluginServerHost(server, transport, server.get_server_config() if transport == "http" else None, level)
    try:
        await host.start()
        if transport == "http":
            logger.info("plugin server listening on %s (health/metrics: %s)", host.addr, host.health_addr or host.addr)
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, lambda: loop.create_task(host.stop()))
        await host.wait()
        if host.error:
            logger.error("plugin server stopped: %s", host.error)
            return 1
        return 0
    finally:
        await host.stop()
        await server.shutdown()


def main() -> int:
    return run_program(run, get_settings().log_level, "MCP plugin server")


if __name__ == "__main__":
    sys.exit(main())
