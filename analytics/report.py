"""The staff dashboard's figures, read from the conversation logs, the filings and the handoff queue.

- `unanswered_groups`: questions the bot could not answer, grouped by their normalised text,
  unresolved first, each with search suggestions to pick the service it meant;
- `resolve_questions`: mark every unanswered question with a text as resolved (the learning loop);
- `figures`: over a period, the most asked services, answer ratings, case ratings (好差评), open and
  overdue cases per department, handoffs waiting.

Times in the database are naive UTC; a period is the last N days up to now. Every query is plain
SQLAlchemy (SQLite and PostgreSQL alike); grouping by normalised text is done in Python.
"""
from __future__ import annotations

import re
from collections import Counter, defaultdict
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Dict, List, Optional

from sqlalchemy import and_, case as when, func, select
from sqlalchemy.orm import Session

from analytics.models import AnsweredQuestion, UnansweredQuestion
from filings.calendar import local_today
from filings.cases import count_if, due_condition
from filings.models import BundleFiling, Case, Rating, WorkOrder
from filings.states import BAD_RATINGS, CLOSED_STATUSES, RATING_LEVELS
from handoff.models import HandoffRequest
from knowledge.models import Department, Service
from knowledge.search.text import normalize

MAX_DAYS = 366
UNANSWERED_SCAN = 20000  # the most recent unanswered questions grouped (a bound on the work)
REASON_NAMES = {
    "nlu_fallback": "未理解问题",
    "no_service": "未找到对应事项",
    "out_of_scope": "超出服务范围",
}
ASPECT_NAMES = {
    "overview": "概况", "materials": "材料", "conditions": "条件", "time_limit": "时限", "fee": "收费",
    "location": "地点", "process": "流程", "online": "网上办理", "contact": "咨询电话", "result": "办理结果",
    "prerequisites": "前置事项",
}
_EDGE = " ?？!！。.,，~～…"
_CJK_SPACE = re.compile(r"(?<=[\u3400-\u9fff])\s+|\s+(?=[\u3400-\u9fff])")


@dataclass(frozen=True)
class Period:
    days: int
    since: datetime  # naive UTC
    until: datetime

    @classmethod
    def last(cls, days: int, now: Optional[datetime] = None) -> "Period":
        if not isinstance(days, int) or not 1 <= days <= MAX_DAYS:
            raise ValueError(f"days must be 1-{MAX_DAYS}, not {days!r}")
        now = now or datetime.utcnow()
        return cls(days=days, since=now - timedelta(days=days), until=now)

    def view(self) -> dict:
        return {"days": self.days, "since": _iso(self.since), "until": _iso(self.until)}


def _iso(value: Optional[datetime]) -> Optional[str]:
    return value.isoformat() + "Z" if value else None


def _share(part: int, whole: int) -> Optional[float]:
    return round(part / whole, 4) if whole else None


def question_key(text: Optional[str]) -> str:
    """The text questions are grouped by: NFKC, lower case, no end punctuation, no white space next
    to Chinese characters (绿本 怎么办 is 绿本怎么办), other white space collapsed."""
    return _CJK_SPACE.sub("", normalize(text or "")).strip(_EDGE).strip()


# -- the learning loop ------------------------------------------------------------------------------
def unanswered_groups(session: Session, period: Period, search=None, limit: int = 50, suggestions: int = 3,
                      include_resolved: bool = True) -> List[dict]:
    """Unanswered questions of the period grouped by normalised text: unresolved groups first, then
    the most asked, then the latest. `search` (a SearchService) adds the top services for each
    unresolved group, to pick from."""
    rows = session.execute(
        select(UnansweredQuestion.question, UnansweredQuestion.reason, UnansweredQuestion.asked_at,
               UnansweredQuestion.resolved_service_code, UnansweredQuestion.channel)
        .where(UnansweredQuestion.asked_at >= period.since)
        .order_by(UnansweredQuestion.asked_at.desc(), UnansweredQuestion.id.desc())
        .limit(UNANSWERED_SCAN)
    ).all()
    groups: Dict[str, dict] = {}
    for question, reason, asked_at, resolved_code, channel in rows:
        key = question_key(question)
        if not key:
            continue
        group = groups.get(key)
        if group is None:  # rows come newest first: the first seen is the latest asked
            group = groups[key] = {"text": key, "example": question.strip(), "count": 0, "unresolved": 0,
                                   "last_asked_at": asked_at, "reasons": Counter(), "channels": Counter(),
                                   "resolved_codes": []}
        group["count"] += 1
        group["reasons"][reason] += 1
        group["channels"][channel or "unknown"] += 1
        if resolved_code:
            if resolved_code not in group["resolved_codes"]:
                group["resolved_codes"].append(resolved_code)
        else:
            group["unresolved"] += 1
    ordered = sorted(groups.values(), key=lambda g: (g["unresolved"] == 0, -g["count"], -g["last_asked_at"].timestamp()))
    if not include_resolved:
        ordered = [g for g in ordered if g["unresolved"]]
    ordered = ordered[:limit]
    codes = {code for g in ordered for code in g["resolved_codes"]}
    names = dict(session.execute(select(Service.code, Service.name).where(Service.code.in_(codes))).all()) if codes else {}
    out = []
    for group in ordered:
        reason = group["reasons"].most_common(1)[0][0]
        item = {
            "text": group["text"],
            "example": group["example"],
            "count": group["count"],
            "unresolved": group["unresolved"],
            "resolved": group["unresolved"] == 0,
            "last_asked_at": _iso(group["last_asked_at"]),
            "reason": reason,
            "reason_name": REASON_NAMES.get(reason, reason),
            "reasons": dict(group["reasons"]),
            "channels": dict(group["channels"]),
            "resolved_services": [{"code": c, "name": names.get(c, c)} for c in group["resolved_codes"]],
            "suggestions": [],
        }
        if search is not None and suggestions and group["unresolved"]:
            result = search.search(group["text"], limit=suggestions, kinds=("service",))
            item["suggestions"] = [{"code": h.code, "name": h.name, "department": h.department,
                                    "score": round(h.score, 3)} for h in result.hits]
        out.append(item)
    return out


def resolve_questions(session: Session, text: str, service_code: str) -> int:
    """Mark every unresolved unanswered question whose normalised text is `text` as resolved by
    the service; return how many. The caller commits."""
    key = question_key(text)
    if not key:
        return 0
    rows = session.execute(
        select(UnansweredQuestion).where(UnansweredQuestion.resolved_service_code.is_(None))
    ).scalars()
    marked = 0
    for row in rows:
        if question_key(row.question) == key:
            row.resolved_service_code = service_code
            marked += 1
    session.flush()
    return marked


# -- figures ----------------------------------------------------------------------------------------
def question_totals(session: Session, period: Period) -> dict:
    answered = session.execute(
        select(func.count()).select_from(AnsweredQuestion).where(AnsweredQuestion.answered_at >= period.since)
    ).scalar_one()
    unanswered, unresolved = session.execute(
        select(func.count(), func.sum(when((UnansweredQuestion.resolved_service_code.is_(None), 1), else_=0)))
        .select_from(UnansweredQuestion).where(UnansweredQuestion.asked_at >= period.since)
    ).one()
    return {"answered": answered, "unanswered": unanswered, "unresolved": int(unresolved or 0),
            "answer_rate": _share(answered, answered + unanswered)}


def most_asked(session: Session, period: Period, limit: int = 10) -> List[dict]:
    """Services answered most often in the period, with the aspects asked about most."""
    in_period = AnsweredQuestion.answered_at >= period.since
    total = session.execute(select(func.count()).select_from(AnsweredQuestion).where(in_period)).scalar_one()
    rows = session.execute(
        select(AnsweredQuestion.service_code, func.max(AnsweredQuestion.service_name), func.count().label("n"))
        .where(in_period)
        .group_by(AnsweredQuestion.service_code)
        .order_by(func.count().desc(), AnsweredQuestion.service_code)
        .limit(limit)
    ).all()
    codes = [code for code, _, _ in rows]
    aspects: Dict[str, Counter] = defaultdict(Counter)
    if codes:
        for code, aspect, n in session.execute(
            select(AnsweredQuestion.service_code, AnsweredQuestion.aspect, func.count())
            .where(in_period, AnsweredQuestion.service_code.in_(codes))
            .group_by(AnsweredQuestion.service_code, AnsweredQuestion.aspect)
        ).all():
            aspects[code][aspect] += n
    return [
        {"code": code, "name": name, "count": n, "share": _share(n, total),
         "aspects": [{"aspect": a, "name": ASPECT_NAMES.get(a, a), "count": c} for a, c in aspects[code].most_common(3)]}
        for code, name, n in rows
    ]


def answer_ratings(session: Session, period: Period, limit: int = 10) -> dict:
    """The citizens' 有用/没用 ratings of the bot's answers in the period, overall and per service
    (services with a rating, worst first)."""
    in_period = AnsweredQuestion.answered_at >= period.since
    good = func.sum(when((AnsweredQuestion.rating == "good", 1), else_=0))
    bad = func.sum(when((AnsweredQuestion.rating == "bad", 1), else_=0))
    answered, good_n, bad_n = session.execute(select(func.count(), good, bad).where(in_period)).one()
    good_n, bad_n = int(good_n or 0), int(bad_n or 0)
    rows = session.execute(
        select(AnsweredQuestion.service_code, func.max(AnsweredQuestion.service_name), func.count(), good, bad)
        .where(in_period)
        .group_by(AnsweredQuestion.service_code)
        .having(func.count(AnsweredQuestion.rating) > 0)
    ).all()
    services = []
    for code, name, n, g, b in rows:
        g, b = int(g or 0), int(b or 0)
        services.append({"code": code, "name": name, "answered": n, "good": g, "bad": b,
                         "bad_share": _share(b, g + b), "good_share": _share(g, g + b)})
    services.sort(key=lambda s: (-(s["bad_share"] or 0), -s["bad"], s["good"], s["code"]))
    return {
        "answered": answered,
        "rated": good_n + bad_n,
        "rated_share": _share(good_n + bad_n, answered),
        "good": good_n,
        "bad": bad_n,
        "good_share": _share(good_n, good_n + bad_n),
        "bad_share": _share(bad_n, good_n + bad_n),
        "services": services[:limit],
    }


def case_ratings(session: Session, period: Period, limit: int = 20) -> dict:
    """好差评 of cases and bundle filings rated in the period: the levels, and the bad ones."""
    in_period = Rating.created_at >= period.since
    counts = dict(session.execute(select(Rating.level, func.count()).where(in_period).group_by(Rating.level)).all())
    total = sum(counts.values())
    bad_total = sum(n for level, n in counts.items() if level in BAD_RATINGS)
    rows = session.execute(
        select(Rating, Case, BundleFiling, WorkOrder)
        .outerjoin(Case, Case.id == Rating.case_id)
        .outerjoin(BundleFiling, BundleFiling.id == Rating.bundle_filing_id)
        .outerjoin(WorkOrder, WorkOrder.id == Rating.followup_id)
        .where(in_period, Rating.level.in_(list(BAD_RATINGS)))
        .order_by(Rating.created_at.desc(), Rating.id.desc())
        .limit(limit)
    ).all()
    bad = []
    for rating, case, filing, order in rows:
        if case is not None:
            subject = {"kind": "case", "number": case.number, "name": case.service.name,
                       "department": case.department.name}
        elif filing is not None:
            subject = {"kind": "bundle", "number": filing.number, "name": filing.bundle.name,
                       "department": filing.owner_department.name}
        else:  # pragma: no cover - a rating is always of a case or a bundle filing
            subject = {"kind": "unknown", "number": None, "name": "", "department": ""}
        bad.append({
            **subject,
            "level": rating.level,
            "label": rating.label,
            "comment": rating.comment,
            "rated_at": _iso(rating.created_at),
            "followup": {"number": order.number, "status": order.status} if order is not None else None,
        })
    return {
        "total": total,
        "levels": [{"level": level, "label": label, "count": counts.get(level, 0), "share": _share(counts.get(level, 0), total),
                    "bad": level in BAD_RATINGS} for level, label in RATING_LEVELS.items()],
        "satisfied_share": _share(total - bad_total, total),
        "bad_count": bad_total,
        "bad": bad,
    }


def cases_by_department(session: Session, period: Period, today: Optional[date] = None) -> dict:
    """Open cases per department now, by due state (normal, warning 预警, overdue 逾期, paused), and
    the cases filed in the period; departments with overdue cases first."""
    today = today or local_today()
    rows = session.execute(
        select(
            Case.department_id,
            count_if(Case.status.notin_(list(CLOSED_STATUSES))),
            *(count_if(due_condition(state, today)) for state in ("overdue", "warning", "normal", "paused")),
            count_if(Case.filed_at >= period.since),
            count_if(and_(Case.closed_at.is_not(None), Case.closed_at >= period.since)),
        ).group_by(Case.department_id)
    ).all()
    departments = {d.id: d for d in session.execute(
        select(Department).where(Department.id.in_([r[0] for r in rows]))).scalars()} if rows else {}
    out, totals = [], Counter()
    for dept_id, open_n, overdue, warning, normal, paused, filed, closed in rows:
        figures = {"open": int(open_n or 0), "overdue": int(overdue or 0), "warning": int(warning or 0),
                   "normal": int(normal or 0), "paused": int(paused or 0), "filed": int(filed or 0),
                   "closed": int(closed or 0)}
        if not any(figures.values()):
            continue
        totals.update(figures)
        department = departments[dept_id]
        out.append({"code": department.code, "name": department.name, "short_name": department.short_name,
                    **figures, "state": "overdue" if figures["overdue"] else "warning" if figures["warning"] else "normal"})
    out.sort(key=lambda d: (-d["overdue"], -d["warning"], -d["open"], d["code"]))
    keys = ("open", "overdue", "warning", "normal", "paused", "filed", "closed")
    return {"today": today.isoformat(), "departments": out, "totals": {k: totals.get(k, 0) for k in keys}}


def handoffs(session: Session, period: Period, now: Optional[datetime] = None) -> dict:
    """Conversations waiting for a person now (and since when), taken ones, and the period's requests."""
    now = now or datetime.utcnow()
    waiting, oldest = session.execute(
        select(func.count(), func.min(HandoffRequest.requested_at)).where(HandoffRequest.status == "waiting")
    ).one()
    taken = session.execute(
        select(func.count()).select_from(HandoffRequest).where(HandoffRequest.status == "taken")
    ).scalar_one()
    requested = dict(session.execute(
        select(HandoffRequest.reason, func.count()).where(HandoffRequest.requested_at >= period.since)
        .group_by(HandoffRequest.reason)
    ).all())
    return {
        "waiting": waiting,
        "oldest_waiting_since": _iso(oldest),
        "oldest_waiting_minutes": int((now - oldest).total_seconds() // 60) if oldest else None,
        "taken": taken,
        "requested": sum(requested.values()),
        "requested_by_reason": requested,
    }


def figures(session: Session, period: Period, today: Optional[date] = None) -> dict:
    """Everything the dashboard shows besides the unanswered questions."""
    return {
        "period": period.view(),
        "questions": question_totals(session, period),
        "most_asked": most_asked(session, period),
        "answer_ratings": answer_ratings(session, period),
        "case_ratings": case_ratings(session, period),
        "cases": cases_by_department(session, period, today),
        "handoffs": handoffs(session, period),
    }

