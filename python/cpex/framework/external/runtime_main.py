"""How our plugin server runtimes (MCP, gRPC, Unix socket) run as programs: one place
for logging to stderr, the event loop and the exit status."""

from __future__ import annotations

import asyncio
import logging
import sys
from typing import Any, Callable, Coroutine

logger = logging.getLogger(__name__)


def run_program(serve: Callable[[], Coroutine[Any, Any, Any]], level: str, what: str) -> int:
    """Log to stderr at ``level``, run ``serve()`` on a new event loop until it ends and
    answer the exit status: the int it returns (0 for anything else), 0 on an interrupt,
    1 when it fails (logged with its traceback, naming ``what``)."""
    logging.basicConfig(level=getattr(logging, level.upper(), logging.INFO),
                        format="%(asctime)s - %(name)s - %(levelname)s - %(message)s", stream=sys.stderr)
    try:
        status = asyncio.run(serve())
    except KeyboardInterrupt:
        return 0
    except Exception as exc:  # noqa: BLE001 - the exit status and the log say why
        logger.exception("%s failed: %s", what, exc)
        return 1
    return status if isinstance(status, int) else 0
