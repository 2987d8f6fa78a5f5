"""The off-loop spy the Go async tests share: it wraps _gowait.run_off_loop, counts the
waits that went off the loop and tells when Go work is pending."""

from __future__ import annotations

import asyncio
from typing import Any, Callable, Optional

from cpex.framework import _gowait


class OffLoopSpy:
    """Counts the waits that went off the loop; ``started`` is set once Go work is pending."""

    def __init__(self) -> None:
        self.calls = 0
        self.started = asyncio.Event()
        self._real = _gowait.run_off_loop

    async def __call__(
        self,
        start: Callable[[int], Any],
        finish: Callable[[], Any],
        drop: Optional[Callable[[], Any]] = None,
        lent: Any = None,
    ) -> Any:
        self.calls += 1

        def start_and_tell(fd: int) -> Any:
            out = start(fd)
            self.started.set()
            return out

        return await self._real(start_and_tell, finish, drop, lent)
