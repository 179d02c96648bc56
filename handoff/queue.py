"""Putting a conversation in the queue for staff, and when staff will answer."""
from __future__ import annotations

import os
import re
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from typing import List, Optional, Sequence

from sqlalchemy import select
from sqlalchemy.orm import Session

from handoff.models import HandoffRequest

DEFAULT_HOURS = "1-5 09:00-18:00"  # Monday to Friday, 9:00 to 18:00 (China Standard Time)
CST = timedelta(hours=8)
WEEKDAYS = "一二三四五六日"


@dataclass(frozen=True)
class StaffHours:
    """Opening hours of the staff desk: days 1-7 (Monday=1) and a daily window, local time."""

    first_day: int
    last_day: int
    opens: time
    closes: time

    @classmethod
    def parse(cls, text: str) -> "StaffHours":
        match = re.fullmatch(r"\s*([1-7])-([1-7])\s+(\d{1,2}):(\d{2})-(\d{1,2}):(\d{2})\s*", text or "")
        if not match:
            raise ValueError(f"staff hours must look like '1-5 09:00-18:00', not {text!r}")
        a, b, h1, m1, h2, m2 = (int(x) for x in match.groups())
        return cls(a, b, time(h1, m1), time(h2, m2))

    @classmethod
    def from_env(cls) -> "StaffHours":
        return cls.parse(os.environ.get("ONEWINDOW_STAFF_HOURS", DEFAULT_HOURS))

    def describe(self) -> str:
        days = f"周{WEEKDAYS[self.first_day - 1]}至周{WEEKDAYS[self.last_day - 1]}"
        return f"{days} {self.opens:%H:%M}-{self.closes:%H:%M}"

    def is_open(self, local: datetime) -> bool:
        return self.first_day <= local.isoweekday() <= self.last_day and self.opens <= local.time() < self.closes

    def next_opening(self, local: datetime) -> datetime:
        for days_ahead in range(0, 8):
            day = (local + timedelta(days=days_ahead)).date()
            start = datetime.combine(day, self.opens)
            if self.first_day <= start.isoweekday() <= self.last_day and start > local:
                return start
        return local


PERSON_WORDS = (
    "人工", "真人", "客服", "工作人员", "转接", "活人", "找人", "接线员", "坐席", "有人吗", "柜台", "专员",
    "个人来", "换个人", "找个人", "让人来", "跟人", "和人", "接人", "值班", "领导", "机器人",
)


def asks_for_a_person(text: str) -> bool:
    """Whether the words ask for a member of staff (转人工, 找客服, 我要跟真人说)."""
    return any(word in text for word in PERSON_WORDS)


def local_now() -> datetime:
    return datetime.utcnow() + CST


def when_staff_answer(hours: StaffHours, now_local: Optional[datetime] = None) -> str:
    """A Chinese sentence: staff answer now, or from the next opening."""
    now_local = now_local or local_now()
    if hours.is_open(now_local):
        return "工作人员将尽快接入，请稍候。"
    nxt = hours.next_opening(now_local)
    day = "今天" if nxt.date() == now_local.date() else ("明天" if nxt.date() == (now_local + timedelta(days=1)).date() else f"{nxt:%m月%d日}")
    return f"现在是非工作时间（人工服务时间：{hours.describe()}），工作人员将于{day}{nxt:%H:%M}上班后回复您。"


def request_handoff(
    session: Session,
    conversation_id: str,
    channel: str,
    reason: str,
    transcript: Sequence[dict],
    last_message: Optional[str] = None,
) -> HandoffRequest:
    """Queue the conversation (once: an open request is updated, not duplicated)."""
    existing = session.execute(
        select(HandoffRequest).where(
            HandoffRequest.conversation_id == conversation_id, HandoffRequest.status != "closed"
        )
    ).scalar_one_or_none()
    if existing is not None:
        existing.transcript = list(transcript)
        existing.last_message = last_message
        return existing
    request = HandoffRequest(
        conversation_id=conversation_id,
        channel=channel,
        reason=reason,
        status="waiting",
        transcript=list(transcript),
        last_message=last_message,
    )
    session.add(request)
    return request


def waiting(session: Session) -> List[HandoffRequest]:
    return list(
        session.execute(
            select(HandoffRequest).where(HandoffRequest.status == "waiting").order_by(HandoffRequest.requested_at)
        ).scalars()
    )
