"""Work orders (工单): complaints and suggestions routed to the department that owns the matter,
and follow-ups of bad ratings; tracked like cases (number, due date, history, sweep).

- `file_feedback()`: a complaint (投诉) or suggestion (建议) from a conversation, routed by
  `filings.routing.route()` (the coordinating office when no department clearly owns it).
- `open_followup()`: the follow-up of a bad rating, for the department that handled the case.
- Department actions: `sign_order`, `reply_order` (the citizen is told and asked whether it is
  settled), `return_order` (not ours: back to the coordinating office), `close_order`;
  coordinating office: `reassign_order`; citizen: `respond_to_reply` (settled: closed; not
  settled: reopened for the department).
"""
from __future__ import annotations

import re
import unicodedata

from datetime import date, datetime
from typing import List, Optional, Sequence

from sqlalchemy import select
from sqlalchemy.orm import Session

from filings import notify
from filings.calendar import WorkingCalendar, default_calendar, to_local_date
from filings.cases import Actor, _flush, _iso, _text, due_state
from filings.config import FilingSettings
from filings.errors import InvalidInput, NotFound
from filings.identity import redact
from filings.lookup import department_by_code
from filings.models import ApplicantProfile, BundleFiling, Case, WorkOrder, WorkOrderEvent
from filings.numbers import next_number
from filings.routing import route
from filings.states import COORDINATING, DEPARTMENT, ORDER_CLOSED, ORDER_STATUS_NAMES, WORK_ORDERS, Transition
from knowledge.models import Department

KINDS = {"complaint": "投诉", "suggestion": "建议", "rating_followup": "差评整改"}
ORDER_NOT_FOUND = "未找到该工单，请核对工单编号。"
MAX_TEXT = 2000


def _days(kind: str, settings: FilingSettings) -> int:
    return {"complaint": settings.complaint_days, "suggestion": settings.suggestion_days,
            "rating_followup": settings.followup_days}[kind]


def _event(order: WorkOrder, action: str, actor: Actor, before, after, at: datetime,
           note: Optional[str] = None, data: Optional[dict] = None) -> None:
    order.events.append(WorkOrderEvent(action=action, from_status=before, to_status=after, actor_kind=actor.kind,
                                       actor=actor.name, note=note, data=data, at=at))


def _set_deadline(order: WorkOrder, start: date, settings: FilingSettings, calendar: WorkingCalendar) -> None:
    days = _days(order.kind, settings)
    order.due_date = calendar.due_date(start, days, "工作日")
    order.warn_date = calendar.warning_date(start, order.due_date, settings.warning_share, "工作日")
    order.warned_at = order.overdue_at = None


def create_order(
    session: Session,
    kind: str,
    text: str,
    department: Department,
    routed_by: str,
    *,
    actor: Actor,
    channel: Optional[str] = None,
    recipient: Optional[str] = None,
    profile: Optional[ApplicantProfile] = None,
    case: Optional[Case] = None,
    bundle_filing: Optional[BundleFiling] = None,
    now: Optional[datetime] = None,
    settings: Optional[FilingSettings] = None,
    calendar: Optional[WorkingCalendar] = None,
) -> WorkOrder:
    """A work order dispatched to `department` (ID and phone numbers in the text are masked)."""
    if kind not in KINDS:
        raise InvalidInput("工单类型不正确。", f"unknown work order kind {kind!r}")
    body = _text(text)
    if not body:
        raise InvalidInput("请说明具体情况。", "a work order needs a text", code="text_required")
    if len(body) > MAX_TEXT:
        raise InvalidInput(f"内容不能超过{MAX_TEXT}字。", f"text longer than {MAX_TEXT} characters")
    settings, calendar = settings or FilingSettings.from_env(), calendar or default_calendar()
    now = now or datetime.utcnow()
    today = to_local_date(now)
    order = WorkOrder(
        number=next_number(session, "order", today),
        kind=kind,
        text=redact(body),
        department=department,
        routed_by=routed_by,
        status="dispatched",
        case=case,
        bundle_filing=bundle_filing,
        profile=profile,
        channel=channel,
        recipient=recipient,
        filed_at=now,
    )
    _set_deadline(order, today, settings, calendar)
    session.add(order)
    _event(order, "file", actor, None, "dispatched", now, data={"kind": kind, "channel": channel})
    _event(order, "dispatch", actor, "dispatched", "dispatched", now, note=department.name,
           data={"department": department.code, "routed_by": routed_by, "due_date": order.due_date.isoformat()})
    _flush(session)
    return order


def file_feedback(
    session: Session,
    kind: str,
    text: str,
    *,
    channel: Optional[str] = None,
    recipient: Optional[str] = None,
    profile: Optional[ApplicantProfile] = None,
    search=None,
    now: Optional[datetime] = None,
    settings: Optional[FilingSettings] = None,
    calendar: Optional[WorkingCalendar] = None,
) -> WorkOrder:
    """A complaint ("complaint") or suggestion ("suggestion") from a citizen, routed to the
    department that owns the matter, else to the coordinating office."""
    if kind not in ("complaint", "suggestion"):
        raise InvalidInput("只能提交投诉或建议。", f"feedback kind must be complaint or suggestion, not {kind!r}")
    if not _text(text):
        raise InvalidInput("请说明具体情况。", "a work order needs a text", code="text_required")
    target = route(session, text, search)
    actor = Actor.citizen(channel)
    return create_order(session, kind, text, target.department, target.how, actor=actor, channel=channel,
                        recipient=recipient, profile=profile, now=now, settings=settings, calendar=calendar)


def open_followup(session: Session, rating_label: str, comment: Optional[str], *, case: Optional[Case] = None,
                  bundle_filing: Optional[BundleFiling] = None, now: Optional[datetime] = None,
                  settings: Optional[FilingSettings] = None, calendar: Optional[WorkingCalendar] = None) -> WorkOrder:
    """The follow-up of a bad rating (差评): to the department that handled the case, or to the
    lead department of a bundle (谁办理、谁负责)."""
    subject = case or bundle_filing
    if subject is None:
        raise ValueError("a follow-up is about a case or a bundle filing")
    if case is not None:
        department, about = case.department, f"“{case.service.name}”（办件编号 {case.number}）"
    else:
        department, about = bundle_filing.owner_department, f"“{bundle_filing.bundle.name}”（编号 {bundle_filing.number}）"
    text = f"申请人对{about}的服务评价为“{rating_label}”。" + (f"评价内容：{_text(comment)}" if _text(comment) else "")
    return create_order(session, "rating_followup", text, department, "case", actor=Actor.citizen(subject.channel),
                        channel=subject.channel, recipient=subject.recipient, profile=subject.profile, case=case,
                        bundle_filing=bundle_filing, now=now, settings=settings, calendar=calendar)


# -- actions --------------------------------------------------------------------------------------
def _authorize(order: WorkOrder, actor: Actor) -> None:
    if actor.kind == DEPARTMENT and actor.department_id != order.department_id:
        raise NotFound(ORDER_NOT_FOUND, f"work order {order.number} is not this department's", code="order_not_found")


def _apply(session: Session, order: WorkOrder, action: str, actor: Actor, note: Optional[str],
           now: Optional[datetime], data: Optional[dict] = None) -> Transition:
    _authorize(order, actor)
    t = WORK_ORDERS.check(action, order.status, actor.kind)
    if t.needs_reason and not _text(note):
        raise InvalidInput(f"请填写{t.label}的内容或原因。", f"action {action!r} needs a text", code="reason_required")
    if note is not None and len(note) > 4000:
        raise InvalidInput("内容不能超过4000字。", "note longer than 4000 characters")
    now = now or datetime.utcnow()
    before = order.status
    order.status = t.target
    _event(order, action, actor, before, order.status, now, note=_text(note) or None, data=data)
    return t


def sign_order(session: Session, order: WorkOrder, actor: Actor, now: Optional[datetime] = None) -> WorkOrder:
    _apply(session, order, "sign", actor, None, now)
    order.signed_at = now or datetime.utcnow()
    _flush(session)
    return order


def reply_order(session: Session, order: WorkOrder, actor: Actor, reply: str, now: Optional[datetime] = None) -> WorkOrder:
    """答复: the department's answer; the citizen is told and asked whether it settles the matter."""
    _apply(session, order, "reply", actor, reply, now)
    order.reply, order.replied_at = _text(reply), now or datetime.utcnow()
    _flush(session)
    notify.order_replied(session, order)
    return order


def return_order(session: Session, order: WorkOrder, actor: Actor, reason: str, now: Optional[datetime] = None) -> WorkOrder:
    """退单: not this department's matter; the coordinating office reassigns it."""
    _apply(session, order, "return", actor, reason, now)
    _flush(session)
    return order


def reassign_order(session: Session, order: WorkOrder, actor: Actor, department_code: str,
                   note: Optional[str] = None, now: Optional[datetime] = None,
                   settings: Optional[FilingSettings] = None, calendar: Optional[WorkingCalendar] = None) -> WorkOrder:
    """改派 (coordinating office): dispatched again to another department, with a fresh deadline."""
    department = department_by_code(session, department_code)
    _apply(session, order, "reassign", actor, note, now, {"department": department.code})
    now = now or datetime.utcnow()
    order.department, order.routed_by, order.signed_at = department, "reassign", None
    _set_deadline(order, to_local_date(now), settings or FilingSettings.from_env(), calendar or default_calendar())
    _flush(session)
    return order


def close_order(session: Session, order: WorkOrder, actor: Actor, note: Optional[str] = None,
                now: Optional[datetime] = None) -> WorkOrder:
    """办结: after the reply, by the department (its callback, 回访, found it settled) or the citizen."""
    _apply(session, order, "close", actor, note, now)
    order.closed_at = now or datetime.utcnow()
    _flush(session)
    return order


def respond_to_reply(session: Session, order: WorkOrder, resolved: bool, actor: Actor,
                     comment: Optional[str] = None, now: Optional[datetime] = None,
                     settings: Optional[FilingSettings] = None, calendar: Optional[WorkingCalendar] = None) -> WorkOrder:
    """The citizen's answer to a reply: settled (closed) or not (reopened for the department,
    with a fresh deadline)."""
    if resolved:
        return close_order(session, order, actor, comment, now)
    _apply(session, order, "reopen", actor, comment or "群众表示问题未解决", now)
    now = now or datetime.utcnow()
    order.reopen_count += 1
    order.signed_at = None
    _set_deadline(order, to_local_date(now), settings or FilingSettings.from_env(), calendar or default_calendar())
    _flush(session)
    return order


# -- reading --------------------------------------------------------------------------------------
def order_due_state(order: WorkOrder, today: Optional[date] = None) -> str:
    if order.status in ORDER_CLOSED:
        return "closed"
    if order.status == "replied":
        return "paused"  # waiting for the citizen
    return due_state(_DueProxy(order), today)


class _DueProxy:
    def __init__(self, order: WorkOrder):
        self.status, self.due_date, self.warn_date, self.closed_at = 0, order.due_date, order.warn_date, None


def order_view(order: WorkOrder, today: Optional[date] = None, viewer: Optional[Department] = None) -> dict:
    """A work order as plain data; for a department (`viewer`) also the applicant's numbers, the
    history and the actions it may take now."""
    from filings.cases import DUE_COLOURS, DUE_STATE_NAMES
    from filings.profiles import profile_view, reveal

    state = order_due_state(order, today)
    view = {
        "number": order.number,
        "kind": order.kind,
        "kind_name": KINDS[order.kind],
        "text": order.text,
        "department": {"code": order.department.code, "name": order.department.name},
        "routed_by": order.routed_by,
        "status": order.status,
        "status_name": ORDER_STATUS_NAMES[order.status],
        "case": order.case.number if order.case else None,
        "bundle": order.bundle_filing.number if order.bundle_filing else None,
        "filed_at": _iso(order.filed_at),
        "reply": order.reply,
        "replied_at": _iso(order.replied_at),
        "closed_at": _iso(order.closed_at),
        "reopen_count": order.reopen_count,
        "due_date": order.due_date.isoformat(),
        "due_state": state,
        "due_state_name": DUE_STATE_NAMES[state],
        "colour": DUE_COLOURS[state],
        "escalated_to": order.escalated_to.code if order.escalated_to else None,
        "applicant": profile_view(order.profile) if order.profile else None,
    }
    if viewer is not None:
        if order.profile is not None:
            view["applicant"].update(reveal(order.profile))
        own = WORK_ORDERS.allowed(order.status, DEPARTMENT) if viewer.id == order.department_id else []
        view["actions"] = own + (WORK_ORDERS.allowed(order.status, COORDINATING) if viewer.coordinating else [])
        view["history"] = [
            {"action": e.action, "from_status": e.from_status, "to_status": e.to_status, "actor": e.actor,
             "actor_kind": e.actor_kind, "note": e.note, "data": e.data, "at": _iso(e.at)}
            for e in order.events
        ]
    return view


def department_orders(session: Session, department: Department, status: Optional[Sequence[str]] = None,
                      include_closed: bool = False, limit: int = 50, offset: int = 0) -> List[WorkOrder]:
    """The department's work orders, most urgent first; for the coordinating office also the
    returned ones (to reassign) and the ones escalated to it."""
    query = select(WorkOrder)
    if department.coordinating:
        query = query.where(
            (WorkOrder.department_id == department.id) | (WorkOrder.status == "returned")
            | (WorkOrder.escalated_to_id == department.id)
        )
    else:
        query = query.where(WorkOrder.department_id == department.id, WorkOrder.status != "returned")
    if status:
        query = query.where(WorkOrder.status.in_(list(status)))
    elif not include_closed:
        query = query.where(WorkOrder.status.notin_(list(ORDER_CLOSED)))
    query = query.order_by(WorkOrder.due_date, WorkOrder.id).limit(limit).offset(offset)
    return list(session.execute(query).scalars())


_UNSETTLED = re.compile(r"(没|未|还没|没有|尚未|并未|不算)(有)?(被)?(解决|处理好|处理完|办好|搞定|落实)|问题(还在|依旧|依然|仍然)|没用|不解决")
_SETTLED = re.compile(r"(已经?|都)?(解决|处理好|处理完|办好|搞定|落实)(了|啦)?|没问题了|好了")


def parse_settlement(text: object) -> Optional[bool]:
    """The citizen's answer to a work order's reply: True (已解决), False (未解决), or None."""
    if not isinstance(text, str):
        return None
    value = re.sub(r"[\s。！!，,.？?]", "", unicodedata.normalize("NFKC", text))
    if _UNSETTLED.search(value):
        return False
    if _SETTLED.search(value):
        return True
    return None


def awaiting_response(session: Session, channel: str, recipient: str) -> Optional[WorkOrder]:
    """The latest replied work order of this conversation waiting for the citizen's 已解决/未解决."""
    if not channel or not recipient:
        return None
    return session.execute(
        select(WorkOrder).where(WorkOrder.channel == channel, WorkOrder.recipient == recipient,
                                WorkOrder.status == "replied")
        .order_by(WorkOrder.replied_at.desc(), WorkOrder.id.desc()).limit(1)
    ).scalar_one_or_none()


__all__ = [
    "KINDS", "create_order", "file_feedback", "open_followup", "sign_order", "reply_order", "return_order",
    "reassign_order", "close_order", "respond_to_reply", "order_view", "order_due_state", "department_orders",
    "awaiting_response", "parse_settlement",
]
