"""The Unix-socket plugin server: ``python -m cpex.framework.external.unix.server.runtime``.

Settings (environment): PLUGINS_CONFIG_PATH (default ./resources/plugins/config.yaml),
PLUGINS_UNIX_SOCKET_PATH (default /tmp/mcpgateway-plugins.sock), PLUGINS_LOG_LEVEL.
Logs go to stderr; stdout says READY once the socket listens. SIGINT/SIGTERM stop it.
"""

from __future__ import annotations

import asyncio
import logging
import os
import sys

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
    logging.basicConfig(
        level=getattr(logging, get_settings().log_level.upper(), logging.INFO),
        format="%(asctime)s - %(name)s - %(levelname)s - %(message)s",
        stream=sys.stderr,
    )
    try:
        asyncio.run(run())
    except KeyboardInterrupt:
        return 0
    except Exception as exc:  # noqa: BLE001 - the exit status and the log say why
        logger.exception("Unix socket plugin server failed: %s", exc)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
