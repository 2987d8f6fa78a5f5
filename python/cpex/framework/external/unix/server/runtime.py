"""The Unix-socket plugin server: ``python -m cpex.framework.external.unix.server.runtime``.

Settings (environment): PLUGINS_CONFIG_PATH (default ./resources/plugins/config.yaml),
PLUGINS_UNIX_SOCKET_PATH (default /tmp/mcpgateway-plugins.sock), PLUGINS_LOG_LEVEL.
Logs go to stderr; stdout says READY once the socket listens. SIGINT/SIGTERM stop it.
"""

from __future__ import annotations

import logging
import os
import sys

from cpex.framework.external.runtime_main import run_program
from cpex.framework.external.unix.server.server import DEFAULT_SOCKET_PATH, run_server
from cpex.framework.settings import get_settings

logger = logging.getLogger("cpex.framework.external.unix.server.runtime")


async def run() -> None:
    """Serve the configured plugins on the configured socket until a signal."""
    s = get_settings()
    config_path = s.config_path or os.path.join(".", "resources", "plugins", "config.yaml")
    socket_path = s.unix_socket_path or DEFAULT_SOCKET_PATH
    logger.info("Unix socket plugin server: config %s, socket %s", config_path, socket_path)
    await run_server(config_path=config_path, socket_path=socket_path)


def main() -> int:
    """Run the server; the exit status."""
    return run_program(run, get_settings().log_level, "Unix socket plugin server")


if __name__ == "__main__":
    sys.exit(main())
