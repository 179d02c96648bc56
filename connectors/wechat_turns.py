"""Answering a WeChat or WeCom push: once per message, passively within the deadline or later by API.

Each push has a key (MsgId; for events FromUserName + CreateTime + Event). The first push with a
key starts an `Exchange`: a task that produces the answer (usually a bot turn). For the Official
Account the request waits for it up to the reply deadline (4.5 s, WeChat gives up at 5 s):
- ready in time: the first piece of the answer is the passive reply; further pieces (several
  bot messages or more than 2048 bytes) go to the outbox, delivered through the API;
- not ready: the request answers `success` at once, and the task puts the whole answer in the
  outbox when it finishes.
A push whose key is known is a retry (WeChat retries three times when it gets no answer in 5 s):
it runs nothing. While the first is still running, the retry answers `success` and moves the
answer to the API path (WeChat has given up on the first request, so a passive reply there would
be lost); when the first was answered passively, the retry gets the same reply (WeChat only
retries when the first answer did not reach it, so the user still sees it once); otherwise `success`.
WeCom answers every push at once and sends everything through the API.

Whatever is not answered passively goes through the outbox (outbound/), which retries with
backoff and keeps a message that finally fails as `failed`, so no answer is lost silently.
"""
from __future__ import annotations

import asyncio
import logging
import time
from collections import OrderedDict
from dataclasses import dataclass
from typing import Awaitable, Callable, List, Optional, Set

from connectors.wechat_text import BUSY, Rendered, split_text

log = logging.getLogger(__name__)

Producer = Callable[[], Awaitable[Rendered]]
# (channel recipient, pieces of text) -> None: queue pieces for delivery through the channel's API.
Enqueue = Callable[[str, List[str]], None]


@dataclass
class Exchange:
    key: str
    recipient: str
    passive_allowed: bool = True
    passive_reply: Optional[str] = None
    done: bool = False


class ExchangeCache:
    """Exchanges by key, kept `ttl` seconds (longer than the replay window) and at most `max_entries`."""

    def __init__(self, ttl: float = 900.0, max_entries: int = 20000, clock=time.monotonic):
        self.ttl, self.max_entries, self._clock = ttl, max_entries, clock
        self._entries: "OrderedDict[str, tuple]" = OrderedDict()

    def get(self, key: str) -> Optional[Exchange]:
        now = self._clock()
        while self._entries:
            oldest, (expires, _exchange) = next(iter(self._entries.items()))
            if expires > now:
                break
            self._entries.popitem(last=False)
        entry = self._entries.get(key)
        return entry[1] if entry else None

    def add(self, exchange: Exchange) -> None:
        self._entries[exchange.key] = (self._clock() + self.ttl, exchange)
        while len(self._entries) > self.max_entries:
            self._entries.popitem(last=False)


class PushAnswerer:
    """Runs each push's answer once and decides between passive reply and the API path."""

    def __init__(self, channel: str, enqueue: Enqueue, max_text_bytes: int = 2048,
                 cache: Optional[ExchangeCache] = None):
        self.channel = channel
        self.enqueue = enqueue
        self.max_text_bytes = max_text_bytes
        self.cache = cache or ExchangeCache()
        self._tasks: Set[asyncio.Task] = set()
        self.turns_started = 0

    async def answer(self, key: str, recipient: str, produce: Producer, wait: float) -> Optional[str]:
        """The passive reply text for this push, or None to answer `success` (wait=0: never passive)."""
        known = self.cache.get(key)
        if known is not None:
            return self._retry(known)
        exchange = Exchange(key=key, recipient=recipient, passive_allowed=wait > 0)
        self.cache.add(exchange)
        task = asyncio.get_event_loop().create_task(self._run(exchange, produce))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        self.turns_started += 1
        if wait > 0:
            await asyncio.wait({task}, timeout=wait)
        if exchange.passive_reply is not None:
            return exchange.passive_reply
        # Too late (or nothing to say): from now on the task sends everything through the API.
        if wait > 0 and not exchange.done:
            log.info("%s push %s not answered within %.1f s; the answer will go through the API",
                     self.channel, key, wait)
        exchange.passive_allowed = False
        return None

    def _retry(self, exchange: Exchange) -> Optional[str]:
        if exchange.passive_reply is not None:
            log.info("%s push %s retried after a passive reply; the same reply again", self.channel, exchange.key)
            return exchange.passive_reply
        if not exchange.done:
            exchange.passive_allowed = False
        log.info("%s push %s retried; not run again", self.channel, exchange.key)
        return None

    async def _run(self, exchange: Exchange, produce: Producer) -> None:
        try:
            rendered = await produce()
        except Exception:  # a failed turn still gets an answer, and the failure is logged
            log.exception("%s turn for push %s failed", self.channel, exchange.key)
            rendered = Rendered(BUSY)
        pieces = split_text(rendered.text, self.max_text_bytes) if rendered.text else []
        if pieces and exchange.passive_allowed:
            exchange.passive_reply = pieces[0]
            pieces = pieces[1:]
        exchange.done = True
        if pieces:
            try:
                self.enqueue(exchange.recipient, pieces)
            except Exception:  # the database is down: say so loudly, with the text, rather than lose it
                log.exception("%s answer to %s could not be queued; it was: %r", self.channel, exchange.recipient, pieces)

    async def drain(self) -> None:
        """Wait for the answers still being produced (tests, shutdown)."""
        while self._tasks:
            await asyncio.gather(*list(self._tasks), return_exceptions=True)
