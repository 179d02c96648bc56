"""The handoff queue: a conversation waiting for (or taken by) a member of staff."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, Column, DateTime, Integer, String, Text

from database.base import Base

STATUSES = ("waiting", "taken", "closed")


class HandoffRequest(Base):
    __tablename__ = "handoff_requests"

    id = Column(Integer, primary_key=True)
    conversation_id = Column(String(128), nullable=False, index=True)
    channel = Column(String(40), nullable=False)
    reason = Column(String(40), nullable=False)  # requested / repeated_failure
    status = Column(String(20), nullable=False, default="waiting", index=True)
    last_message = Column(Text)
    transcript = Column(JSON, nullable=False, default=list)  # [{"role": "user"|"bot", "text", "time"}]
    requested_at = Column(DateTime, nullable=False, default=datetime.utcnow)
    taken_by = Column(String(100))
    taken_at = Column(DateTime)
    closed_at = Column(DateTime)
