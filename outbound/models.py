"""An outbound message waiting for, or past, its delivery."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, Column, DateTime, Integer, String, Text

from database.base import Base

# pending: waiting for delivery (or for a retry); sent; failed: gave up, kept for staff to see;
# held: the channel cannot push (the REST channel), kept for the citizen's next visit.
STATUSES = ("pending", "sent", "failed", "held")


class OutboundMessage(Base):
    __tablename__ = "outbound_messages"

    id = Column(Integer, primary_key=True)
    channel = Column(String(40), nullable=False, index=True)
    recipient = Column(String(128), nullable=False, index=True)
    kind = Column(String(40), nullable=False)  # case_update / staff_message / bot_message ...
    text = Column(Text, nullable=False)
    custom = Column(JSON)
    status = Column(String(20), nullable=False, default="pending", index=True)
    attempts = Column(Integer, nullable=False, default=0)
    next_attempt_at = Column(DateTime, nullable=False, default=datetime.utcnow, index=True)
    last_error = Column(String(500))
    created_at = Column(DateTime, nullable=False, default=datetime.utcnow)
    sent_at = Column(DateTime)
