"""Delivering queued outbound messages from the process that holds the channels (Rasa's).

A channel registers a sender, `async (recipient, text, custom) -> None`, that raises on failure.
`OutboxDelivery` polls the outbox once a second and hands each due message to its channel's
sender; channels without a sender (REST cannot push) keep their messages as `held`.
"""
from __future__ import annotations

import logging
from typing import Any, Awaitable, Callable, Dict, Optional

from background import Periodic
from database.engine import make_session
from outbound import outbox

log = logging.getLogger(__name__)

Sender = Callable[[str, str, Optional[Dict[str, Any]]], Awaitable[None]]

_senders: Dict[str, Sender] = {}


class RecipientOffline(Exception):
    """The channel is up but the citizen is not connected: hold the message for their return."""

# Channels known to have no push path: their messages are held, not retried.
PULL_ONLY_CHANNELS = ("rest",)


def register_sender(channel: str, sender: Sender) -> None:
    _senders[channel] = sender


def registered_channels() -> list:
    return sorted(_senders)


class OutboxDelivery(Periodic):
    def __init__(self, url: Optional[str] = None, interval: float = 1.0, batch: int = 50):
        self.url = url
        self.batch = batch
        super().__init__("outbound delivery pass", self.deliver_due, interval)

    async def deliver_due(self) -> int:
        """One pass over the due messages; returns how many were sent."""
        channels = list(_senders) + list(PULL_ONLY_CHANNELS)
        with make_session(self.url) as session:
            messages = outbox.due(session, channels, limit=self.batch)
            sent = 0
            for message in messages:
                sender = _senders.get(message.channel)
                if sender is None:
                    outbox.mark_held(message, f"channel {message.channel} cannot push")
                    continue
                try:
                    await sender(message.recipient, message.text, message.custom)
                except RecipientOffline as exc:
                    outbox.mark_held(message, str(exc) or "recipient offline")
                except Exception as exc:  # any failure of the channel: retry later, keep the message
                    outbox.mark_failed(message, f"{type(exc).__name__}: {exc}")
                    level = logging.ERROR if message.status == "failed" else logging.WARNING
                    log.log(level, "outbound message %s to %s (%s) failed, attempt %s: %s", message.id,
                            message.channel, message.kind, message.attempts, exc)
                else:
                    outbox.mark_sent(message)
                    sent += 1
            session.commit()
        return sent


_delivery: Optional[OutboxDelivery] = None


def start_delivery(url: Optional[str] = None) -> OutboxDelivery:
    """The process's one delivery loop (channels call this from their server-start listener)."""
    global _delivery
    if _delivery is None:
        _delivery = OutboxDelivery(url)
    _delivery.start()
    return _delivery
