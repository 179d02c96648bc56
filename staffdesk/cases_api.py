"""/api/v1/staff/cases: the case desk (办件处理) of the staff desk.

Who sees and does what (every route needs the "cases" section: officer, coordinator, admin)
- An officer (部门审批人员) works the cases and work orders of their own department: the queue,
  the detail with the applicant's clear ID and phone numbers, and the actions, performed as
  `Actor.of_department(department, display name)` so the history names the person. Another
  department's case or work order answers 404, as if it did not exist. Officers of the
  coordinating office also read (masked, no actions) the cases escalated to it, and see the
  returned and escalated work orders, which they may reassign (改派), as its departments' API does.
- A coordinator (统筹协调) or an admin reads everything: any department's queue or all of them,
  every case and work order (ID and phone numbers masked), and the attention view (需关注):
  overdue or escalated cases, cases nobody has signed for within a working day, and work orders
  overdue, escalated or returned. They act on behalf of the coordinating office
  (`Actor(COORDINATING, ...)`) and only where the state machine (filings.states) gives it a role:
  today that is 改派 of work orders; any case action is refused by the state machine (403) and
  changes nothing. Cases are worked by the department that handles them (受审分离).

Every action goes through the shared table (desk/filing_actions.py) and the state machine: an
illegal one answers 409 and changes nothing; a bad body 422.
"""
from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Dict, List, Optional

from fastapi import APIRouter, Depends, Query
from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from desk.dependencies import get_session
from desk.errors import ApiError
from desk.filing_actions import (
    CASE_ACTIONS,
    DUE_STATES,
    ORDER_ACTIONS,
    FilingAction,
    add_action_routes,
    available,
    normalise_due,
)
from filings import cases as case_service
from filings import workorders as order_service
from filings.calendar import WorkingCalendar, default_calendar, local_today
from filings.cases import Actor, count_if, due_condition, due_state
from filings.lookup import CASE_NOT_FOUND, coordinating_department, department_by_code, find_case, find_order
from filings.models import Case, DepartmentToken, WorkOrder
from filings.errors import InvalidInput
from filings.profiles import reveal
from filings.states import (
    CASES,
    CLOSED_STATUSES,
    COORDINATING,
    DEPARTMENT,
    ORDER_CLOSED,
    ORDER_OPEN,
    ORDER_STATUS_NAMES,
    STATUS_NAMES,
    WORK_ORDERS,
)
from knowledge.models import Department
from staffdesk.accounts import Staff
from staffdesk.auth import require
from staffdesk.models import StaffAccount
from staffdesk.roles import OFFICER

router = APIRouter(prefix="/api/v1/staff/cases", tags=["staff: cases"])
staff_for_cases = require("cases")

# History entries in words.
EVENT_LABELS = {
    "file": "接件", "dispatch": "分派", "warn": "预警", "overdue": "逾期", "escalate": "逾期督办",
    "materials": "更新材料", "reopen": "重新办理",
}
ORDER_EVENT_LABELS = {"file": "登记", "dispatch": "派单", "warn": "预警", "overdue": "逾期", "escalate": "逾期督办"}
CHANNELS = {"webchat": "网页对话", "socketio": "网页对话", "rest": "接口", "wechat": "微信公众号", "wecom": "企业微信"}
ATTENTION_REASONS = {"overdue": "逾期", "escalated": "已督办", "unsigned": "超时未签收"}
ORDER_REASONS = {"overdue": "逾期", "escalated": "已督办", "returned": "已退单待改派"}
READ_ONLY_NOTES = {
    "coordinator": "统筹协调人员可查看全部办件；办件由承办部门办理，本页仅在状态机赋予统筹协调部门职责时提供操作。",
    "escalated": "该办件已逾期督办至本部门，仅可查看；办理由承办部门进行。",
}


# -- who may see what -------------------------------------------------------------------------------
def _is_officer(staff: Staff) -> bool:
    return staff.role == OFFICER


def _own_department(session: Session, staff: Staff) -> Department:
    department = session.get(Department, staff.department_id) if staff.department_id else None
    if department is None:
        raise ApiError(403, "forbidden", "您的账号未关联部门，请联系管理员。", "an officer without a department")
    return department


def _person(staff: Staff) -> str:
    return (staff.display_name or staff.username).strip()[:50] or staff.username


def _actor(session: Session, staff: Staff, action: FilingAction) -> Actor:
    """Officers act as their department (改派: as the coordinating office, which only its own
    officers may); coordinators and admins as the coordinating office."""
    person = _person(staff)
    if _is_officer(staff):
        department = _own_department(session, staff)
        if action.coordinating:
            if not department.coordinating:
                raise ApiError(403, "forbidden", "只有统筹协调部门可以改派工单。",
                               "only the coordinating office may reassign")
            return Actor(COORDINATING, f"{department.code}:{person}", department.id)
        return Actor.of_department(department, person)
    office = coordinating_department(session)
    if office is None:
        return Actor(COORDINATING, f"coordinator:{person}")
    return Actor(COORDINATING, f"{office.code}:{person}", office.id)


def _visible_case(session: Session, number: str, staff: Staff, acting: bool = False) -> Case:
    case = find_case(session, number)
    if case is not None and _is_officer(staff):
        own = case.department_id == staff.department_id
        escalated_here = case.escalated_to_id is not None and case.escalated_to_id == staff.department_id
        if not (own or (escalated_here and not acting)):
            case = None
    if case is None:
        raise ApiError(404, "case_not_found", CASE_NOT_FOUND, f"no case {number!r} visible to {staff.username}")
    return case


def _visible_order(session: Session, number: str, staff: Staff) -> WorkOrder:
    order = find_order(session, number)
    if order is not None and _is_officer(staff):
        department = _own_department(session, staff)
        visible = order.department_id == department.id or (
            department.coordinating and (order.status == "returned" or order.escalated_to_id == department.id))
        if not visible:
            order = None
    if order is None:
        raise ApiError(404, "order_not_found", order_service.ORDER_NOT_FOUND,
                       f"no work order {number!r} visible to {staff.username}")
    return order


def _queue_department(session: Session, staff: Staff, code: Optional[str]) -> Optional[Department]:
    """The department whose queue to show: an officer's own; for coordinators and admins the one
    asked for, or None (every department)."""
    if _is_officer(staff):
        own = _own_department(session, staff)
        if code and code != own.code:
            raise ApiError(403, "forbidden", "您只能查看本部门的办件。", f"officer of {own.code} asked for {code}")
        return own
    return department_by_code(session, code) if code else None


# -- views ------------------------------------------------------------------------------------------
def _department_names(session: Session) -> Dict[str, str]:
    """Department code -> short name (else full name), for the history."""
    return {code: short or name for code, short, name in
            session.execute(select(Department.code, Department.short_name, Department.name)).all()}


def _actor_label(kind: str, actor: str, names: Dict[str, str]) -> str:
    prefix, _, person = (actor or "").partition(":")
    if kind in (DEPARTMENT, COORDINATING):
        department = names.get(prefix, prefix if prefix != "coordinator" else "统筹协调")
        return f"{department} · {person}" if person else department
    if kind == "system":
        return "系统（到期检查）"
    if kind == "desk":
        return "一窗通办助手" if person in ("", "assistant") else f"综合窗口 · {person}"
    if kind == "citizen":
        return f"申请人（{CHANNELS.get(person, person)}）" if person else "申请人"
    return actor


def _history(events, names: Dict[str, str], labels: Dict[str, str], machine, status_names) -> List[dict]:
    out = []
    for e in events:
        label = labels.get(e.action)
        if label is None:
            try:
                label = machine.transition(e.action).label
            except InvalidInput:  # an action of an older table: show its name
                label = e.action
        changed = e.from_status is not None and e.from_status != e.to_status
        out.append({
            "action": e.action, "action_label": label, "from_status": e.from_status, "to_status": e.to_status,
            "status_change": (f"{status_names.get(e.from_status, e.from_status)} → {status_names.get(e.to_status, e.to_status)}"
                              if changed else None),
            "actor": e.actor, "actor_kind": e.actor_kind, "actor_label": _actor_label(e.actor_kind, e.actor, names),
            "note": e.note, "data": e.data, "at": case_service._iso(e.at),
        })
    return out


def _days_overdue(due: date, state: str, today: date) -> int:
    return (today - due).days if state == "overdue" else 0


def _case_row(case: Case, today: date, reasons: Optional[List[str]] = None) -> dict:
    state = due_state(case, today)
    row = {
        "number": case.number,
        "bundle": case.bundle_filing.number if case.bundle_filing else None,
        "service": {"code": case.service.code, "name": case.service.name},
        "department": {"code": case.department.code, "name": case.department.name,
                       "short_name": case.department.short_name},
        "applicant": case.profile.name if case.profile else None,
        "status": case.status,
        "status_name": STATUS_NAMES[case.status],
        "signed": case.signed_at is not None,
        "signed_by": case.signed_by,
        "filed_at": case_service._iso(case.filed_at),
        "due_date": case.due_date.isoformat(),
        "warn_date": case.warn_date.isoformat(),
        "due_state": state,
        "due_state_name": case_service.DUE_STATE_NAMES[state],
        "colour": case_service.DUE_COLOURS[state],
        "days_overdue": _days_overdue(case.due_date, state, today),
        "escalated": case.escalated_at is not None,
        "missing": sum(1 for m in case.materials if m.status == "missing" and m.required),
    }
    if reasons is not None:
        row["reasons"] = [{"code": r, "label": ATTENTION_REASONS[r]} for r in reasons]
    return row


def _action_list(table: Dict[str, FilingAction], transitions) -> List[dict]:
    return [{"name": a.name, "label": a.label} for a in available(table, transitions)]


def case_detail(session: Session, case: Case, staff: Staff, today: Optional[date] = None) -> dict:
    """The case for this member of staff: clear numbers and the actions only for an officer of
    the handling department; the history with who did what, in words."""
    today = today or local_today()
    handling = _is_officer(staff) and case.department_id == staff.department_id
    view = case_service.case_view(case, today, for_department=handling, history=True)
    signed = case.signed_at is not None
    if handling:
        transitions = CASES.allowed(case.status, DEPARTMENT, signed=signed)
    elif not _is_officer(staff):
        transitions = CASES.allowed(case.status, COORDINATING, signed=signed)
    else:
        transitions = []
    note = None if handling else READ_ONLY_NOTES["escalated" if _is_officer(staff) else "coordinator"]
    view.update({
        "history": _history(case.events, _department_names(session), EVENT_LABELS, CASES, STATUS_NAMES),
        "transitions": transitions,
        "actions": _action_list(CASE_ACTIONS, transitions),
        "days_overdue": _days_overdue(case.due_date, view["due_state"], today),
        "signed_by": case.signed_by,
        "viewer": {"handling": handling, "numbers_revealed": handling, "note": note},
    })
    return view


def order_detail(session: Session, order: WorkOrder, staff: Staff, today: Optional[date] = None) -> dict:
    today = today or local_today()
    view = order_service.order_view(order, today)
    handling = _is_officer(staff) and order.department_id == staff.department_id
    if handling and order.profile is not None:
        view["applicant"].update(reveal(order.profile))
    transitions: List[str] = []
    if _is_officer(staff):
        if handling:
            transitions += WORK_ORDERS.allowed(order.status, DEPARTMENT)
        if _own_department(session, staff).coordinating:
            transitions += WORK_ORDERS.allowed(order.status, COORDINATING)
    else:
        transitions = WORK_ORDERS.allowed(order.status, COORDINATING)
    view.update({
        "history": _history(order.events, _department_names(session), ORDER_EVENT_LABELS, WORK_ORDERS,
                            ORDER_STATUS_NAMES),
        "transitions": transitions,
        "actions": _action_list(ORDER_ACTIONS, transitions),
        "days_overdue": _days_overdue(order.due_date, view["due_state"], today),
        "viewer": {"handling": handling, "numbers_revealed": handling},
    })
    return view


def _order_row(order: WorkOrder, today: date, reasons: Optional[List[str]] = None) -> dict:
    view = order_service.order_view(order, today)
    view.pop("applicant", None)
    view["days_overdue"] = _days_overdue(order.due_date, view["due_state"], today)
    if reasons is not None:
        view["reasons"] = [{"code": r, "label": ORDER_REASONS[r]} for r in reasons]
    return view


# -- queries ----------------------------------------------------------------------------------------
def _scope(department: Optional[Department], escalated: bool, status: Optional[List[int]], include_closed: bool):
    """The conditions of a queue (as filings.cases.department_queue applies them), without `due`."""
    conditions = []
    if escalated:
        conditions.append(Case.escalated_to_id == department.id if department else Case.escalated_to_id.isnot(None))
    elif department is not None:
        conditions.append(Case.department_id == department.id)
    if status:
        conditions.append(Case.status.in_(status))
    elif not include_closed:
        conditions.append(Case.status.notin_(list(CLOSED_STATUSES)))
    return conditions


def due_counts(session: Session, conditions, today: date) -> Dict[str, int]:
    """How many cases of a queue are in each due state (and in all)."""
    row = session.execute(
        select(func.count(Case.id), *(count_if(due_condition(state, today)) for state in DUE_STATES))
        .where(*conditions)
    ).one()
    return {"all": int(row[0]), **{state: int(n) for state, n in zip(DUE_STATES, row[1:])}}


def sign_cutoff(today: date, calendar: WorkingCalendar) -> datetime:
    """Cases received before this (UTC) and still not signed for have waited more than a whole
    working day (received before the previous working day)."""
    day = today - timedelta(days=1)
    for _ in range(60):
        if calendar.is_working_day(day):
            break
        day -= timedelta(days=1)
    return datetime(day.year, day.month, day.day) - timedelta(hours=8)


def attention(session: Session, today: Optional[date] = None, limit: int = 200,
              calendar: Optional[WorkingCalendar] = None) -> dict:
    """For the coordinator: every open case, in any department, that is overdue or escalated or
    that nobody has signed for within a working day, most overdue first; open cases per
    department with their overdue, warning, escalated and unsigned counts, and who can work them
    (officer accounts, API tokens); open work orders overdue, escalated or returned."""
    today = today or local_today()
    cutoff = sign_cutoff(today, calendar or default_calendar())
    open_case = Case.status.notin_(list(CLOSED_STATUSES))
    overdue = due_condition("overdue", today)
    escalated = Case.escalated_at.isnot(None)
    unsigned = (Case.status == 1) & Case.signed_at.is_(None) & (Case.filed_at < cutoff)
    rows = session.execute(
        select(Case).where(open_case, or_(overdue, escalated, unsigned)).order_by(Case.due_date, Case.id).limit(limit)
    ).scalars().all()
    listed = []
    for case in rows:
        reasons = []
        if due_state(case, today) == "overdue":
            reasons.append("overdue")
        if case.escalated_at is not None:
            reasons.append("escalated")
        if case.status == 1 and case.signed_at is None and case.filed_at < cutoff:
            reasons.append("unsigned")
        listed.append(_case_row(case, today, reasons))
    totals = session.execute(
        select(func.count(Case.id), count_if(overdue), count_if(escalated), count_if(unsigned))
        .where(open_case, or_(overdue, escalated, unsigned))
    ).one()

    per_department = session.execute(
        select(Case.department_id, func.count(Case.id), count_if(overdue), count_if(due_condition("warning", today)),
               count_if(escalated), count_if(unsigned))
        .where(open_case).group_by(Case.department_id)
    ).all()
    officers = dict(session.execute(
        select(StaffAccount.department_id, func.count(StaffAccount.id))
        .where(StaffAccount.role == OFFICER, StaffAccount.active.is_(True)).group_by(StaffAccount.department_id)
    ).all())
    tokens = dict(session.execute(
        select(DepartmentToken.department_id, func.count(DepartmentToken.id))
        .where(DepartmentToken.revoked_at.is_(None)).group_by(DepartmentToken.department_id)
    ).all())
    departments = {d.id: d for d in session.execute(select(Department)).scalars()}
    summary = []
    for department_id, open_n, overdue_n, warning_n, escalated_n, unsigned_n in per_department:
        d = departments[department_id]
        summary.append({
            "code": d.code, "name": d.name, "short_name": d.short_name, "coordinating": d.coordinating,
            "open": int(open_n), "overdue": int(overdue_n), "warning": int(warning_n),
            "escalated": int(escalated_n), "unsigned": int(unsigned_n),
            "officers": officers.get(department_id, 0), "tokens": tokens.get(department_id, 0),
        })
    summary.sort(key=lambda d: (-d["overdue"], -d["escalated"], -d["unsigned"], -d["open"], d["code"]))

    order_open = WorkOrder.status.in_(list(ORDER_OPEN))
    order_overdue = order_open & (WorkOrder.due_date < today)
    order_escalated = order_open & WorkOrder.escalated_at.isnot(None)
    returned = WorkOrder.status == "returned"
    orders = session.execute(
        select(WorkOrder).where(or_(order_overdue, order_escalated, returned))
        .order_by(WorkOrder.due_date, WorkOrder.id).limit(limit)
    ).scalars().all()
    order_rows = []
    for order in orders:
        reasons = [r for r, hit in (("overdue", order.status in ORDER_OPEN and order.due_date < today),
                                    ("escalated", order.status in ORDER_OPEN and order.escalated_at is not None),
                                    ("returned", order.status == "returned")) if hit]
        order_rows.append(_order_row(order, today, reasons))
    return {
        "today": today.isoformat(),
        "signing_cutoff": case_service._iso(cutoff),
        "totals": {"cases": int(totals[0]), "overdue": int(totals[1]), "escalated": int(totals[2]),
                   "unsigned": int(totals[3]), "workorders": len(order_rows)},
        "cases": listed,
        "departments": summary,
        "workorders": order_rows,
    }


# -- routes: reading --------------------------------------------------------------------------------
@router.get("", summary="A queue of cases, most urgent first, with counts per due state")
def queue(
    department: Optional[str] = Query(None, max_length=64, description="department code (coordinator, admin); officers: their own"),
    status: Optional[List[int]] = Query(None, description="national status codes 1-15 (repeatable)"),
    due: Optional[str] = Query(None, description="normal|warning|overdue|paused (or green|yellow|red|grey)"),
    include_closed: bool = Query(False),
    escalated: bool = Query(False, description="cases escalated (to this department: the coordinating office)"),
    limit: int = Query(50, ge=1, le=500),
    offset: int = Query(0, ge=0),
    staff: Staff = Depends(staff_for_cases),
    session: Session = Depends(get_session),
) -> dict:
    if status and any(not 1 <= s <= 15 for s in status):
        raise ApiError(422, "invalid_request", "状态码应为1-15。", "status must be a national code 1-15")
    due = normalise_due(due)
    if due is not None and due not in DUE_STATES:
        raise ApiError(422, "invalid_request", "到期状态只能是正常、预警、逾期或暂停计时。", f"unknown due state {due!r}")
    scope = _queue_department(session, staff, department)
    today = local_today()
    rows = case_service.department_queue(session, scope, status=status, due=due, include_closed=include_closed,
                                         escalated=escalated, limit=limit, offset=offset, today=today)
    counts = due_counts(session, _scope(scope, escalated, status, include_closed), today)
    return {
        "department": {"code": scope.code, "name": scope.name, "coordinating": scope.coordinating} if scope else None,
        "today": today.isoformat(),
        "count": len(rows),
        "total": counts[due] if due else counts["all"],
        "counts": counts,
        "cases": [_case_row(c, today) for c in rows],
    }


@router.get("/attention", summary="Coordinator: overdue, escalated and unsigned cases of every department")
def attention_view(limit: int = Query(200, ge=1, le=500), staff: Staff = Depends(staff_for_cases),
                   session: Session = Depends(get_session)) -> dict:
    if _is_officer(staff):
        raise ApiError(403, "forbidden", "只有统筹协调人员和管理员可以查看“需关注”。", "attention is for coordinators and admins")
    return attention(session, limit=limit)


@router.get("/departments", summary="The departments this member of staff may pick")
def departments(staff: Staff = Depends(staff_for_cases), session: Session = Depends(get_session)) -> dict:
    if _is_officer(staff):
        rows = [_own_department(session, staff)]
    else:
        rows = list(session.execute(select(Department).order_by(Department.code)).scalars())
    return {"departments": [{"code": d.code, "name": d.name, "short_name": d.short_name,
                             "coordinating": d.coordinating} for d in rows]}


@router.get("/workorders", summary="Work orders (工单): an officer's department's, or any department's")
def workorders(
    department: Optional[str] = Query(None, max_length=64),
    status: Optional[List[str]] = Query(None, description="dispatched|signed|replied|returned|closed (repeatable)"),
    include_closed: bool = Query(False),
    limit: int = Query(50, ge=1, le=500),
    offset: int = Query(0, ge=0),
    staff: Staff = Depends(staff_for_cases),
    session: Session = Depends(get_session),
) -> dict:
    if status and any(s not in ORDER_STATUS_NAMES for s in status):
        raise ApiError(422, "invalid_request", "工单状态不正确。", f"status must be one of {sorted(ORDER_STATUS_NAMES)}")
    scope = _queue_department(session, staff, department)
    today = local_today()
    if scope is not None:
        rows = order_service.department_orders(session, scope, status=status, include_closed=include_closed,
                                               limit=limit, offset=offset)
    else:
        query = select(WorkOrder)
        if status:
            query = query.where(WorkOrder.status.in_(status))
        elif not include_closed:
            query = query.where(WorkOrder.status.notin_(list(ORDER_CLOSED)))
        rows = list(session.execute(query.order_by(WorkOrder.due_date, WorkOrder.id).limit(limit).offset(offset)).scalars())
    return {
        "department": {"code": scope.code, "name": scope.name, "coordinating": scope.coordinating} if scope else None,
        "count": len(rows),
        "workorders": [_order_row(o, today) for o in rows],
    }


@router.get("/workorders/{number}", summary="One work order with its history and the actions possible now")
def get_workorder(number: str, staff: Staff = Depends(staff_for_cases), session: Session = Depends(get_session)) -> dict:
    return order_detail(session, _visible_order(session, number, staff), staff)


@router.get("/{number}", summary="One case: applicant, materials, owner, due date, history, actions possible now")
def get_case(number: str, staff: Staff = Depends(staff_for_cases), session: Session = Depends(get_session)) -> dict:
    return case_detail(session, _visible_case(session, number, staff), staff)


# -- routes: actions (the shared table, desk/filing_actions.py) ---------------------------------------
def _act_on_case(session: Session, number: str, staff: Staff, action: FilingAction, body) -> dict:
    record = _visible_case(session, number, staff, acting=True)
    action.perform(session, record, _actor(session, staff, action), body)
    session.commit()
    return case_detail(session, record, staff)


def _act_on_order(session: Session, number: str, staff: Staff, action: FilingAction, body) -> dict:
    record = _visible_order(session, number, staff)
    action.perform(session, record, _actor(session, staff, action), body)
    session.commit()
    return order_detail(session, record, staff)


add_action_routes(router, ORDER_ACTIONS, "/workorders", staff_for_cases, _act_on_order, "staff_order")
add_action_routes(router, CASE_ACTIONS, "", staff_for_cases, _act_on_case, "staff_case")
