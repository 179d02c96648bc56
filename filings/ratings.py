"""好差评: the citizen rates a case's outcome (or a whole bundle) in five levels; a bad rating
(不满意, 非常不满意) opens a follow-up work order for the department that handled it.

The outcome message (filings.notify) asks for the rating; the conversation finds what it is about
with `pending_rating(channel, recipient)`, reads the level with `parse_rating(text)` and stores
it with `rate()`.
"""
from __future__ import annotations

import re
import unicodedata
from datetime import datetime
from typing import Optional, Union

from sqlalchemy import select
from sqlalchemy.orm import Session

from filings.cases import _flush, _text
from filings.config import FilingSettings
from filings.errors import InvalidInput, NotFound
from filings.lookup import find_bundle_filing, find_case
from filings.models import BundleFiling, Case, Rating
from filings.numbers import kind_of, normalize_number
from filings.states import BAD_RATINGS, RATEABLE_STATUSES, RATING_LEVELS
from filings.workorders import open_followup

_BY_LABEL = sorted(((label, level) for level, label in RATING_LEVELS.items()), key=lambda p: -len(p[0]))
_DIGITS = {"五": 5, "四": 4, "三": 3, "二": 2, "两": 2, "一": 1}


def parse_rating(text: object) -> Optional[int]:
    """The level (5 非常满意 ... 1 非常不满意) in a reply such as 非常满意 / 不满意 / 5 / 五星, or None."""
    if isinstance(text, int):
        return text if text in RATING_LEVELS else None
    if not isinstance(text, str):
        return None
    value = re.sub(r"[\s。！!，,.]", "", unicodedata.normalize("NFKC", text))
    for label, level in _BY_LABEL:  # longest first: 非常不满意 before 不满意 before 满意
        if label in value:
            return level
    match = re.fullmatch(r"([1-5五四三二两一])(分|星|颗星)?", value)
    if match:
        digit = match.group(1)
        return int(digit) if digit.isdigit() else _DIGITS[digit]
    return None


def rate(
    session: Session,
    number: str,
    level: Union[int, str],
    *,
    comment: Optional[str] = None,
    channel: Optional[str] = None,
    recipient: Optional[str] = None,
    now: Optional[datetime] = None,
    settings: Optional[FilingSettings] = None,
    calendar=None,
) -> Rating:
    """Rate a case (with an outcome) or a completed bundle filing, once. With `channel` and
    `recipient` (a conversation), only the conversation that filed it may rate. A bad rating
    opens a follow-up work order (`rating.followup`). The caller commits."""
    value = parse_rating(level)
    if value is None:
        raise InvalidInput("请选择：非常满意、满意、基本满意、不满意或非常不满意。", f"not a rating: {level!r}",
                           code="invalid_rating")
    if comment is not None and len(comment) > 2000:
        raise InvalidInput("评价内容不能超过2000字。", "comment longer than 2000 characters")
    canonical = normalize_number(number)
    kind = kind_of(canonical) if canonical else None
    subject = find_case(session, canonical) if kind == "case" else find_bundle_filing(session, canonical) if kind == "bundle" else None
    if subject is None or (channel and recipient and (subject.channel, subject.recipient) != (channel, recipient)):
        raise NotFound("未找到可以评价的办件，请核对编号。", f"nothing to rate with number {number!r} here", code="not_found")
    if isinstance(subject, Case):
        if subject.status not in RATEABLE_STATUSES:
            raise InvalidInput("办件办结后才能评价。", f"case {subject.number} has no outcome yet", code="not_rateable")
        existing = session.execute(select(Rating).where(Rating.case_id == subject.id)).scalar_one_or_none()
    else:
        if subject.status != "completed":
            raise InvalidInput("一件事全部办结后才能评价。", f"bundle filing {subject.number} is not completed",
                               code="not_rateable")
        existing = session.execute(select(Rating).where(Rating.bundle_filing_id == subject.id)).scalar_one_or_none()
    if existing is not None:
        raise InvalidInput("您已经评价过了，感谢您的反馈。", f"{subject.number} is already rated", code="already_rated")
    now = now or datetime.utcnow()
    rating = Rating(
        case=subject if isinstance(subject, Case) else None,
        bundle_filing=subject if isinstance(subject, BundleFiling) else None,
        level=value,
        label=RATING_LEVELS[value],
        comment=_text(comment) or None,
        channel=channel or subject.channel,
        created_at=now,
    )
    session.add(rating)
    if value in BAD_RATINGS:
        rating.followup = open_followup(
            session, rating.label, comment,
            case=subject if isinstance(subject, Case) else None,
            bundle_filing=subject if isinstance(subject, BundleFiling) else None,
            now=now, settings=settings, calendar=calendar,
        )
    _flush(session)
    return rating


def pending_rating(session: Session, channel: str, recipient: str) -> Optional[dict]:
    """What this conversation was last asked to rate and has not: {"kind", "number", "name"}, or None.
    (Cases of a bundle are rated with the bundle.)"""
    if not channel or not recipient:
        return None
    case = session.execute(
        select(Case).outerjoin(Rating, Rating.case_id == Case.id)
        .where(Case.channel == channel, Case.recipient == recipient, Case.bundle_filing_id.is_(None),
               Case.status.in_(list(RATEABLE_STATUSES)), Rating.id.is_(None))
        .order_by(Case.closed_at.desc(), Case.id.desc()).limit(1)
    ).scalar_one_or_none()
    filing = session.execute(
        select(BundleFiling).outerjoin(Rating, Rating.bundle_filing_id == BundleFiling.id)
        .where(BundleFiling.channel == channel, BundleFiling.recipient == recipient,
               BundleFiling.status == "completed", Rating.id.is_(None))
        .order_by(BundleFiling.completed_at.desc(), BundleFiling.id.desc()).limit(1)
    ).scalar_one_or_none()
    if filing is not None and (case is None or filing.completed_at >= case.closed_at):
        return {"kind": "bundle", "number": filing.number, "name": filing.bundle.name}
    if case is not None:
        return {"kind": "case", "number": case.number, "name": case.service.name}
    return None
