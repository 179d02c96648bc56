"""Recording answered and unanswered questions, and ratings."""
from __future__ import annotations

from datetime import datetime
from typing import Optional

from sqlalchemy import select
from sqlalchemy.orm import Session

from analytics.models import AnsweredQuestion, UnansweredQuestion

RATINGS = ("good", "bad")


def log_answer(session: Session, conversation_id: str, channel: Optional[str], question: str,
               service_code: str, service_name: str, aspect: str, at: Optional[datetime] = None) -> AnsweredQuestion:
    """`at`: when it was answered (now if not given; analytics/journal.py writes it later)."""
    entry = AnsweredQuestion(
        conversation_id=conversation_id,
        channel=channel,
        question=question[:2000],
        service_code=service_code,
        service_name=service_name,
        aspect=aspect,
        answered_at=at or datetime.utcnow(),
    )
    session.add(entry)
    return entry


def log_unanswered(session: Session, conversation_id: str, channel: Optional[str], question: str,
                   reason: str, at: Optional[datetime] = None) -> UnansweredQuestion:
    entry = UnansweredQuestion(conversation_id=conversation_id, channel=channel, question=question[:2000], reason=reason,
                               asked_at=at or datetime.utcnow())
    session.add(entry)
    return entry


def rate_last_answer(session: Session, conversation_id: str, rating: str,
                     service_code: Optional[str] = None) -> Optional[AnsweredQuestion]:
    """Rate the conversation's latest answer (about `service_code` when given)."""
    if rating not in RATINGS:
        raise ValueError(f"rating must be one of {RATINGS}, not {rating!r}")
    query = select(AnsweredQuestion).where(AnsweredQuestion.conversation_id == conversation_id)
    if service_code:
        query = query.where(AnsweredQuestion.service_code == service_code)
    entry = session.execute(query.order_by(AnsweredQuestion.id.desc()).limit(1)).scalar_one_or_none()
    if entry is not None:
        entry.rating = rating
        entry.rated_at = datetime.utcnow()
    return entry
