"""Refusing replays: a push's timestamp must be recent and its nonce must not come back with another message.

WeChat signs the query string (token, timestamp, nonce), not the body in plaintext mode, so a
captured query string could carry a forged body. A push is refused when its timestamp is more than
`window` seconds off the clock, and when its (timestamp, nonce) pair was already used for a
different message within the window. The same pair with the same message is WeChat retrying a
push; the de-duplication of pushes (wechat_turns) answers those.
"""
from __future__ import annotations

import time
from collections import OrderedDict
from typing import Optional, Tuple


class Replayed(Exception):
    """The push is refused as a replay (status 403)."""


class ReplayGuard:
    def __init__(self, window: float = 300.0, max_entries: int = 100000, clock=time.time):
        self.window, self.max_entries, self._clock = window, max_entries, clock
        self._nonces: "OrderedDict[Tuple[str, str], Tuple[float, str]]" = OrderedDict()

    def check_timestamp(self, timestamp: Optional[str]) -> None:
        if not timestamp or not timestamp.isdigit():
            raise Replayed("timestamp missing or not a number")
        skew = abs(self._clock() - int(timestamp))
        if skew > self.window:
            raise Replayed(f"timestamp {timestamp} is {skew:.0f} s off the clock (window {self.window:.0f} s)")

    def check_nonce(self, timestamp: str, nonce: Optional[str], message_key: str) -> None:
        """Record the pair for this message; refuse it when it came with another message."""
        if not nonce:
            raise Replayed("nonce missing")
        now = self._clock()
        self._expire(now)
        pair = (timestamp, nonce)
        seen = self._nonces.get(pair)
        if seen is not None and seen[1] != message_key:
            raise Replayed(f"nonce {nonce} with timestamp {timestamp} already used for another message")
        if seen is None:
            self._nonces[pair] = (now + 2 * self.window, message_key)
            while len(self._nonces) > self.max_entries:
                self._nonces.popitem(last=False)

    def _expire(self, now: float) -> None:
        while self._nonces:
            pair, (expires, _key) = next(iter(self._nonces.items()))
            if expires > now:
                break
            self._nonces.popitem(last=False)
