"""Periodic work inside a server's event loop: the deadline sweep of the desk service
(filings.sweep) and the outbox delivery of the Rasa process (outbound.delivery)."""
from __future__ import annotations

import asyncio
import logging
from typing import Awaitable, Callable, Optional

log = logging.getLogger(__name__)


class Periodic:
    """Runs `work` every `interval` seconds in the running event loop until stopped. A failure
    (a locked or unreachable database) is logged and the work is tried again on the next tick."""

    def __init__(self, name: str, work: Callable[[], Awaitable[object]], interval: float):
        self.name, self.work, self.interval = name, work, interval
        self._task: Optional[asyncio.Task] = None

    async def run_forever(self) -> None:
        while True:
            try:
                await self.work()
            except Exception:
                log.exception("%s failed; trying again in %.0f s", self.name, self.interval)
            await asyncio.sleep(self.interval)

    def start(self) -> None:
        """Start once in this process's running event loop (an interval of 0 or less: never)."""
        if self.interval > 0 and (self._task is None or self._task.done()):
            self._task = asyncio.get_running_loop().create_task(self.run_forever())

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            try:
                await self._task
            except asyncio.CancelledError:
                pass
            self._task = None
