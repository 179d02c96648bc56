"""Messages start in the order they arrived, one per turn of the event loop.

The Rasa server handles a message without giving way to other work (its NLU, policies and
tracker store run synchronously inside the coroutine) except where it waits for the action
server. So under load the event loop runs, one after another, every message the last poll of the
sockets found ready, and polls again only after all of them. The order within such a batch is the
order the kernel and the loop report the sockets, not the order the messages arrived: measured
with 10 conversations sending back to back, about one message in ten arrived before others of the
batch but started after about eight of them, and waited two rounds instead of one (p95 at twice
p50; docs/conversation.md, "Fairness under load").

`ArrivalGate.enter()` lets at most one message start per turn of the loop and, when several wait,
starts the one that reached the gate first. Between two starts the loop polls the sockets, so a
message reaches the gate in the loop turn after it arrived, and the gate's order is the order of
arrival. The gate is never held across an await: a started message is not tracked, and one that
resumes after the action server answered runs at once (it is older than any message waiting to
start). A message waits at most one loop turn per message ahead of it; one whose task is
cancelled while waiting is skipped. With nothing waiting, a message starts at once.
"""
from __future__ import annotations

import asyncio
import heapq
import itertools
from typing import List, Optional, Tuple


class ArrivalGate:
    """Starts at most one message per loop turn, the earliest to reach the gate first. One gate
    per event loop (it remembers the loop it first ran on)."""

    def __init__(self) -> None:
        self._reset(None)

    def _reset(self, loop: Optional[asyncio.AbstractEventLoop]) -> None:
        self._loop = loop
        self._tickets = itertools.count()
        self._waiting: List[Tuple[int, asyncio.Future]] = []
        self._closed = False  # a message has started in this loop turn (or is about to)

    @property
    def waiting(self) -> int:
        return sum(1 for _, future in self._waiting if not future.done())

    async def enter(self) -> None:
        """Return when this message may start."""
        loop = asyncio.get_running_loop()
        if self._loop is not loop:  # a new loop (tests, a restarted server): start afresh
            self._reset(loop)
        if not self._closed and not self._waiting:
            self._close()
            return
        future = loop.create_future()
        heapq.heappush(self._waiting, (next(self._tickets), future))
        await future  # set by _reopen, which closed the gate for this message

    def _close(self) -> None:
        self._closed = True
        # Runs in the loop's next turn: after the message that closed the gate has run up to its
        # first wait, and after the loop has polled the sockets again.
        self._loop.call_soon(self._reopen)

    def _reopen(self) -> None:
        self._closed = False
        while self._waiting:
            _, future = heapq.heappop(self._waiting)
            if not future.done():  # not cancelled
                future.set_result(None)
                self._close()
                return
