"""The outbox: queueing, delivery through a registered sender, retries with backoff, held messages."""
from __future__ import annotations

import asyncio
from datetime import datetime, timedelta

import pytest

from database import make_session
from outbound import delivery, outbox
from outbound.models import OutboundMessage


@pytest.fixture
def senders(monkeypatch):
    registry: dict = {}
    monkeypatch.setattr(delivery, "_senders", registry)
    return registry


def _queue(db_url, channel="webchat", recipient="s1", text="您的办件已办结。"):
    with make_session(db_url) as session:
        message = outbox.enqueue(session, channel, recipient, text, kind="case_update", custom={"type": "case_update"})
        session.commit()
        return message.id


def _load(db_url, message_id) -> OutboundMessage:
    with make_session(db_url) as session:
        return session.get(OutboundMessage, message_id)


def test_enqueue_refuses_empty_text_or_recipient(session):
    with pytest.raises(ValueError):
        outbox.enqueue(session, "webchat", "", "x", kind="case_update")
    with pytest.raises(ValueError):
        outbox.enqueue(session, "webchat", "s1", "  ", kind="case_update")


def test_delivered_through_the_channels_sender(db_url, senders):
    got = []

    async def send(recipient, text, custom):
        got.append((recipient, text, custom))

    delivery.register_sender("webchat", send)
    message_id = _queue(db_url)
    sent = asyncio.run(delivery.OutboxDelivery(db_url).deliver_due())
    assert sent == 1
    assert got == [("s1", "您的办件已办结。", {"type": "case_update"})]
    message = _load(db_url, message_id)
    assert message.status == "sent" and message.sent_at is not None
    # Nothing is sent twice.
    assert asyncio.run(delivery.OutboxDelivery(db_url).deliver_due()) == 0


def test_failure_is_retried_with_backoff_then_kept(db_url, senders):
    async def broken(recipient, text, custom):
        raise ConnectionError("upstream down")

    delivery.register_sender("webchat", broken)
    message_id = _queue(db_url)
    asyncio.run(delivery.OutboxDelivery(db_url).deliver_due())
    message = _load(db_url, message_id)
    assert message.status == "pending" and message.attempts == 1
    assert "upstream down" in message.last_error
    assert message.next_attempt_at > datetime.utcnow() + timedelta(seconds=1)
    # Not due yet: the next pass leaves it alone.
    asyncio.run(delivery.OutboxDelivery(db_url).deliver_due())
    assert _load(db_url, message_id).attempts == 1
    with make_session(db_url) as session:
        message = session.get(OutboundMessage, message_id)
        for _ in range(outbox.MAX_ATTEMPTS - 1):
            outbox.mark_failed(message, "still down")
        session.commit()
    message = _load(db_url, message_id)
    assert message.status == "failed" and message.text == "您的办件已办结。"


def test_offline_recipient_and_pull_only_channel_hold_the_message(db_url, senders):
    async def offline(recipient, text, custom):
        raise delivery.RecipientOffline("no widget connected")

    delivery.register_sender("webchat", offline)
    web = _queue(db_url)
    rest = _queue(db_url, channel="rest", recipient="r1")
    asyncio.run(delivery.OutboxDelivery(db_url).deliver_due())
    assert _load(db_url, web).status == "held"
    assert _load(db_url, rest).status == "held"
    with make_session(db_url) as session:
        assert [m.id for m in outbox.held_for(session, "webchat", "s1")] == [web]


def test_the_widget_channel_pushes_to_a_connected_session_and_holds_for_an_absent_one(senders):
    from connectors.webchat import WebchatInput

    channel = WebchatInput(session_persistence=True)

    async def on_new_message(_message):
        return None

    channel.blueprint(on_new_message)
    push = senders["webchat"]
    emitted = []

    async def emit(event, data, room=None, namespace=None):
        emitted.append((event, data, room))

    channel.sio.emit = emit

    async def scenario():
        with pytest.raises(delivery.RecipientOffline):
            await push("session-1", "您的办件已办结。", None)
        # A widget of that session is connected (its socket joined the session's room).
        await channel.sio.manager.enter_room("sid-1", "/", "session-1", eio_sid="eio-1")
        await push("session-1", "您的办件已办结。", {"type": "case_update"})

    asyncio.run(scenario())
    assert emitted == [("bot_uttered", {"text": "您的办件已办结。", "custom": {"type": "case_update"}}, "session-1")]
