"""The handoff queue: a conversation waiting for (or taken by) a member of staff, and what staff
said to the citizen while they had it."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, Column, DateTime, ForeignKey, Integer, String, Text
from sqlalchemy.orm import relationship

from database.base import Base
from outbound.models import OutboundMessage  # noqa: F401 - the foreign keys' tables must be known
from staffdesk.models import StaffAccount  # noqa: F401

STATUSES = ("waiting", "taken", "closed")


class HandoffRequest(Base):
    __tablename__ = "handoff_requests"

    id = Column(Integer, primary_key=True)
    conversation_id = Column(String(128), nullable=False, index=True)  # Rasa's sender id = outbox recipient
    channel = Column(String(40), nullable=False)  # the input channel: webchat / wechat / wecom / rest
    reason = Column(String(40), nullable=False)  # requested / repeated_failure
    status = Column(String(20), nullable=False, default="waiting", index=True)
    last_message = Column(Text)
    last_message_at = Column(DateTime)  # when the citizen wrote last_message, when known
    transcript = Column(JSON, nullable=False, default=list)  # [{"role": "user"|"bot", "text", "time"}]
    requested_at = Column(DateTime, nullable=False, default=datetime.utcnow)
    taken_by = Column(String(100))  # the display name of the member of staff who took it
    taken_by_id = Column(Integer, ForeignKey("staff_accounts.id"), index=True)
    taken_at = Column(DateTime)
    closed_at = Column(DateTime)
    closed_by_id = Column(Integer, ForeignKey("staff_accounts.id"))

    messages = relationship("HandoffMessage", back_populates="request", order_by="HandoffMessage.id")


# What a HandoffMessage is: a reply of staff, or the notice that a person joined or left.
MESSAGE_KINDS = ("staff_message", "staff_joined", "staff_left")


class HandoffMessage(Base):
    """A message staff sent the citizen during a handoff, queued in the outbox and logged in the
    conversation's Rasa tracker (rasa_logged_at) once Rasa could be reached."""

    __tablename__ = "handoff_messages"

    id = Column(Integer, primary_key=True)
    request_id = Column(Integer, ForeignKey("handoff_requests.id"), nullable=False, index=True)
    kind = Column(String(20), nullable=False)  # MESSAGE_KINDS
    text = Column(Text, nullable=False)
    staff_id = Column(Integer, ForeignKey("staff_accounts.id"))
    staff_name = Column(String(100), nullable=False)
    outbound_id = Column(Integer, ForeignKey("outbound_messages.id"))
    created_at = Column(DateTime, nullable=False, default=datetime.utcnow)
    rasa_logged_at = Column(DateTime)

    request = relationship("HandoffRequest", back_populates="messages")
