"""Queueing outbound messages and recording what became of them."""
from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any, Dict, List, Optional

from sqlalchemy import select
from sqlalchemy.orm import Session

from outbound.models import OutboundMessage

MAX_ATTEMPTS = 6
# Seconds before retry n (1-based): 2, 4, 8, 16, 32 ... capped at 5 minutes.
BACKOFF_BASE = 2.0
BACKOFF_CAP = 300.0


def enqueue(session: Session, channel: str, recipient: str, text: str, kind: str,
            custom: Optional[Dict[str, Any]] = None) -> OutboundMessage:
    """Queue one message (the caller commits, so it is queued with the change it reports)."""
    if not channel or not recipient:
        raise ValueError("an outbound message needs a channel and a recipient")
    if not text or not text.strip():
        raise ValueError("an outbound message needs a text")
    message = OutboundMessage(channel=channel, recipient=recipient, text=text, kind=kind, custom=custom,
                              status="pending", attempts=0, next_attempt_at=datetime.utcnow())
    session.add(message)
    return message


def due(session: Session, channels: List[str], limit: int = 50,
        now: Optional[datetime] = None) -> List[OutboundMessage]:
    """Pending messages for these channels whose (next) attempt is due, oldest first."""
    now = now or datetime.utcnow()
    query = (
        select(OutboundMessage)
        .where(OutboundMessage.status == "pending", OutboundMessage.next_attempt_at <= now,
               OutboundMessage.channel.in_(channels))
        .order_by(OutboundMessage.id)
        .limit(limit)
    )
    return list(session.execute(query).scalars())


def backoff_seconds(attempts: int) -> float:
    return min(BACKOFF_CAP, BACKOFF_BASE ** max(1, attempts))


def mark_sent(message: OutboundMessage, now: Optional[datetime] = None) -> None:
    message.attempts += 1
    message.status = "sent"
    message.sent_at = now or datetime.utcnow()
    message.last_error = None


def mark_failed(message: OutboundMessage, error: str, now: Optional[datetime] = None,
                max_attempts: int = MAX_ATTEMPTS) -> None:
    """One failed attempt: retry later with backoff, or give up (and keep it) after the last."""
    now = now or datetime.utcnow()
    message.attempts += 1
    message.last_error = error[:500]
    if message.attempts >= max_attempts:
        message.status = "failed"
    else:
        message.next_attempt_at = now + timedelta(seconds=backoff_seconds(message.attempts))


def mark_held(message: OutboundMessage, reason: str) -> None:
    """The channel cannot push: keep the message for the citizen's next visit."""
    message.status = "held"
    message.last_error = reason[:500]


def held_for(session: Session, channel: str, recipient: str) -> List[OutboundMessage]:
    query = (
        select(OutboundMessage)
        .where(OutboundMessage.status == "held", OutboundMessage.channel == channel,
               OutboundMessage.recipient == recipient)
        .order_by(OutboundMessage.id)
    )
    return list(session.execute(query).scalars())
