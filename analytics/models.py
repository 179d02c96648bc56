"""Logs of the conversation that feed the staff dashboard and the learning loop."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import Column, DateTime, Integer, String, Text

from database.base import Base


class AnsweredQuestion(Base):
    """A question the bot answered with a service (and aspect), and the citizen's rating of it."""

    __tablename__ = "answered_questions"

    id = Column(Integer, primary_key=True)
    conversation_id = Column(String(128), nullable=False, index=True)
    channel = Column(String(40))
    question = Column(Text, nullable=False)
    service_code = Column(String(64), nullable=False, index=True)
    service_name = Column(String(300), nullable=False)
    aspect = Column(String(20), nullable=False)
    answered_at = Column(DateTime, nullable=False, default=datetime.utcnow, index=True)
    rating = Column(String(10))  # good / bad
    rated_at = Column(DateTime)


class UnansweredQuestion(Base):
    """A question the bot could not answer: low confidence, no matching service, out of scope."""

    __tablename__ = "unanswered_questions"

    id = Column(Integer, primary_key=True)
    conversation_id = Column(String(128), nullable=False, index=True)
    channel = Column(String(40))
    question = Column(Text, nullable=False)
    reason = Column(String(30), nullable=False)  # nlu_fallback / no_service / out_of_scope
    asked_at = Column(DateTime, nullable=False, default=datetime.utcnow, index=True)
    resolved_service_code = Column(String(64))  # set when staff add the phrase as an alias
