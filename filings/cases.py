"""Cases (办件) and bundle filings (一件事): filing, the department's actions, progress.

Filing
- `prepare_filing()`: what a citizen needs to know before filing a service or a bundle
  (conditions, one set of materials, time limit, the profile fields still to ask).
- `create_case()`: one case, dispatched to the service's department.
- `create_bundle_filing()`: every member case at once (one transaction), each dispatched to its
  own department in parallel, under one bundle number; the bundle completes when all do.

Actions (checked against `filings.states.CASES`; an illegal one raises and changes nothing)
- `sign`, `accept`, `reject`, `request_supplements`, `supplements_done`, `start`,
  `special_start`, `special_end`, `complete`, `revoke` (department); `withdraw` (applicant).
Every change appends a `CaseEvent` (who, when, from which status to which). Supplements and
outcomes are told to the citizen through the channel the case was filed from (`filings.notify`).

Reading
- `track()`: progress by case or bundle number and the last four digits of the phone (unknown
  number and wrong digits give the same None; repeated wrong digits lock the number for an hour).
- `case_view()`, `bundle_view()`: plain dicts for the conversation and the web API.

Functions take a Session and flush; the caller commits (so a change and the messages it queues
are committed together).
"""
from __future__ import annotations

import hmac
import re
import unicodedata
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Dict, Iterable, List, Optional, Sequence, Union

from sqlalchemy import case as sql_case
from sqlalchemy import func, select
from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError

from filings import notify
from filings.calendar import (
    DEFAULT_LIMIT,
    WorkingCalendar,
    default_calendar,
    describe_limit,
    local_today,
    to_local_date,
)
from filings.config import FilingSettings
from filings.errors import Conflict, InvalidInput, NotFound
from filings.lookup import (
    CASE_NOT_FOUND,
    coordinating_department,
    find_bundle_filing,
    find_case,
)
from filings.models import ApplicantProfile, BundleFiling, Case, CaseEvent, CaseMaterial, TrackingFailure
from filings.numbers import kind_of, next_number, normalize_number
from filings.profiles import FIELD_LABELS, missing_fields, profile_view, reveal
from filings.states import (
    CASES,
    CITIZEN,
    CLOSED_STATUSES,
    COMPLETED_STATUSES,
    DEPARTMENT,
    DESK,
    PAUSED_STATUSES,
    RATEABLE_STATUSES,
    STATUS_FOR_CITIZENS,
    STATUS_NAMES,
    SYSTEM,
    Transition,
)
from knowledge import repository
from knowledge.models import Bundle, Department, Service

MATERIAL_STATUSES = ("submitted", "missing", "tolerated")
MATERIAL_STATUS_NAMES = {"submitted": "已提交", "missing": "待提交", "tolerated": "容缺后补"}
DUE_COLOURS = {"normal": "green", "warning": "yellow", "overdue": "red", "paused": "grey", "closed": "grey"}
DUE_STATE_NAMES = {"normal": "正常", "warning": "预警", "overdue": "逾期", "paused": "暂停计时", "closed": "已结束"}
DESK_LABEL = "一窗通办综合受理（线上）"


@dataclass(frozen=True)
class Actor:
    """Who does something: kind (filings.states actors) and a name for the history."""

    kind: str
    name: str
    department_id: Optional[int] = None

    @classmethod
    def of_department(cls, department: Department, person: Optional[str] = None) -> "Actor":
        return cls(DEPARTMENT, f"{department.code}:{person}" if person else department.code, department.id)

    @classmethod
    def citizen(cls, channel: Optional[str] = None) -> "Actor":
        return cls(CITIZEN, f"citizen:{channel}" if channel else "citizen")

    @classmethod
    def desk(cls, name: str = "assistant") -> "Actor":
        return cls(DESK, f"desk:{name}")

    @classmethod
    def system(cls) -> "Actor":
        return cls(SYSTEM, "system:sweep")


# -- helpers ----------------------------------------------------------------------------------------
def _now(now: Optional[datetime]) -> datetime:
    return now or datetime.utcnow()


def _flush(session: Session) -> None:
    try:
        session.flush()
    except StaleDataError:
        session.rollback()
        raise Conflict("该记录刚被他人更新，请刷新后重试。", "concurrent update: the row changed since it was read") from None


def _text(value: object) -> str:
    return re.sub(r"\s+", " ", unicodedata.normalize("NFKC", value)).strip() if isinstance(value, str) else ""


def _names(values: Optional[Iterable[str]], what: str) -> List[str]:
    out: List[str] = []
    for value in values or ():
        name = _text(value)
        if not name or len(name) > 500:
            raise InvalidInput(f"{what}名称不能为空，且不超过500字。", f"invalid {what} name {value!r}")
        if name not in out:
            out.append(name)
    return out


def _resolve_service(session: Session, code: str) -> Service:
    service = repository.get_service(session, code) if code else None
    if service is None:
        raise NotFound("未找到该办事事项。", f"no service with code {code!r}", code="service_not_found")
    return service


def _resolve_bundle(session: Session, code: str) -> Bundle:
    bundle = repository.get_bundle(session, code) if code else None
    if bundle is None:
        bundle = session.execute(select(Bundle).where(Bundle.name == code)).scalar_one_or_none()
    if bundle is None:
        raise NotFound("未找到该一件事。", f"no bundle {code!r}", code="bundle_not_found")
    return bundle


def _check_profile(profile: Optional[ApplicantProfile]) -> ApplicantProfile:
    if profile is None:
        raise InvalidInput("请先填写申请人信息。", "a filing needs an applicant profile", code="profile_required")
    missing = [f for f in missing_fields(profile) if f != "address"]
    if missing or not profile.consent:
        labels = "、".join(FIELD_LABELS[f] for f in missing) or "同意授权"
        raise InvalidInput(f"申请人信息不完整：{labels}。", f"profile incomplete: {missing or ['consent']}",
                           code="profile_incomplete")
    return profile


def service_limit(service: Service) -> tuple:
    """(value, unit, immediate) of a service's time limit: promised, else statutory, else the
    general 20 working days."""
    if service.immediate:
        return None, None, True
    if service.promised_limit is not None:
        return service.promised_limit, service.promised_unit or "工作日", False
    if service.statutory_limit is not None:
        return service.statutory_limit, service.statutory_unit or "工作日", False
    return DEFAULT_LIMIT[0], DEFAULT_LIMIT[1], False


def _event(case: Case, action: str, actor: Actor, from_status, to_status, at: datetime,
           note: Optional[str] = None, data: Optional[dict] = None) -> CaseEvent:
    event = CaseEvent(action=action, from_status=from_status, to_status=to_status, actor_kind=actor.kind,
                      actor=actor.name, note=note, data=data, at=at)
    case.events.append(event)
    return event


def _new_case(
    session: Session,
    service: Service,
    profile: ApplicantProfile,
    actor: Actor,
    now: datetime,
    calendar: WorkingCalendar,
    settings: FilingSettings,
    owner: Department,
    owner_label: Optional[str],
    channel: Optional[str],
    recipient: Optional[str],
    submitted: Sequence[str],
    bundle_filing: Optional[BundleFiling] = None,
    bundle_due: Optional[date] = None,
) -> Case:
    received = to_local_date(now)
    value, unit, immediate = service_limit(service)
    due = calendar.due_date(received, value, unit, immediate)
    if bundle_due is not None and bundle_due < due:
        due = bundle_due  # the bundle's promise is the citizen's promise
    warn = calendar.warning_date(received, due, settings.warning_share, unit)
    submitted_set = set(submitted)
    case = Case(
        number=next_number(session, "case", received),
        bundle_filing=bundle_filing,
        service=service,
        department=service.department,
        profile=profile,
        owner_department=owner,
        owner_label=owner_label,
        status=1,
        channel=channel,
        recipient=recipient,
        filed_at=now,
        limit_value=value,
        limit_unit=unit,
        immediate=immediate,
        due_date=due,
        warn_date=warn,
    )
    case.materials = [
        CaseMaterial(position=i, name=m.name, required=m.required,
                     status="submitted" if m.name in submitted_set else "missing", updated_at=now)
        for i, m in enumerate(service.materials)
    ]
    session.add(case)
    _event(case, "file", actor, None, 1, now, data={"channel": channel, "owner": owner.code})
    _event(case, "dispatch", actor, 1, 1, now, note=service.department.name,
           data={"department": service.department.code, "due_date": due.isoformat()})
    return case


def _owner(session: Session, code: Optional[str], fallback: Department) -> Department:
    if code:
        owner = session.execute(select(Department).where(Department.code == code)).scalar_one_or_none()
        if owner is None:
            raise NotFound("未找到受理部门。", f"no department with code {code!r}", code="department_not_found")
        return owner
    return coordinating_department(session) or fallback


# -- filing -----------------------------------------------------------------------------------------
def resolve_target(session: Session, code: str) -> Union[Service, Bundle]:
    """The service (implementation or basic code) or bundle (code or name) to file; a service
    with its department and materials loaded (what filing reads of its guide)."""
    service = repository.get_service(session, code, whole=False) if code else None
    if service is not None:
        return service
    return _resolve_bundle(session, code)


def _material_dict(m) -> dict:
    return {"name": m.name, "required": m.required, "form": m.form, "copies": m.copies,
            "source": m.source, "notes": m.notes}


def prepare_filing(
    session: Session,
    code: str,
    channel: Optional[str] = None,
    sender_id: Optional[str] = None,
    today: Optional[date] = None,
    calendar: Optional[WorkingCalendar] = None,
) -> dict:
    """What to tell a citizen who says 我要办/申报 X, and what to ask them.

    Returns {"kind": "service"|"bundle", "code", "name", "department", "conditions",
    "materials": [...] (one set: a bundle's members' materials merged by name), "time_limit",
    "due_date" (if filed today), "members" (bundle: each service and its department),
    "profile" (masked view, or None), "missing_fields" (to ask: name, id_number, phone, address),
    "field_labels", "consent_text"}."""
    from filings.profiles import CONSENT_TEXT, profile_for_channel

    calendar = calendar or default_calendar()
    today = today or local_today()
    target = resolve_target(session, code)
    profile = profile_for_channel(session, channel, sender_id)
    base = {
        "profile": profile_view(profile) if profile else None,
        "missing_fields": missing_fields(profile),
        "field_labels": dict(FIELD_LABELS),
        "consent_text": CONSENT_TEXT,
    }
    if isinstance(target, Service):
        value, unit, immediate = service_limit(target)
        return {
            "kind": "service",
            "code": target.code,
            "name": target.name,
            "department": {"code": target.department.code, "name": target.department.name},
            "conditions": target.conditions,
            "materials": [_material_dict(m) for m in target.materials],
            "time_limit": describe_limit(value, unit, immediate),
            "due_date": calendar.due_date(today, value, unit, immediate).isoformat(),
            "visits_on_site": target.visits_on_site,
            "members": [],
            **base,
        }
    materials: Dict[str, dict] = {}
    members = []
    for member in target.members:
        service = member.service
        members.append({"code": service.code, "name": service.name, "optional": member.optional,
                        "department": {"code": service.department.code, "name": service.department.name}})
        for m in service.materials:
            entry = materials.get(m.name)
            if entry is None:
                materials[m.name] = {**_material_dict(m), "for": [service.name]}
            else:
                entry["required"] = entry["required"] or m.required
                entry["for"].append(service.name)
    limit = (target.promised_limit, target.promised_unit) if target.promised_limit else DEFAULT_LIMIT
    return {
        "kind": "bundle",
        "code": target.code,
        "name": target.name,
        "department": {"code": target.lead_department.code, "name": target.lead_department.name},
        "conditions": target.description,
        "materials": list(materials.values()),
        "time_limit": describe_limit(limit[0], limit[1], False),
        "due_date": calendar.due_date(today, limit[0], limit[1]).isoformat(),
        "visits_on_site": None,
        "members": members,
        **base,
    }


def create_case(
    session: Session,
    service_code: str,
    profile: ApplicantProfile,
    *,
    channel: Optional[str] = None,
    recipient: Optional[str] = None,
    submitted: Sequence[str] = (),
    owner_department_code: Optional[str] = None,
    owner_label: Optional[str] = None,
    actor: Optional[Actor] = None,
    now: Optional[datetime] = None,
    settings: Optional[FilingSettings] = None,
    calendar: Optional[WorkingCalendar] = None,
) -> Case:
    """File one service for the applicant; the case is dispatched to the service's department.

    The accountable owner (首问负责) is the department given (a department's own window), else
    the coordinating office that runs the one-window desk. `channel`/`recipient` are where the
    citizen is told about supplements and the outcome."""
    service = _resolve_service(session, service_code)
    _check_profile(profile)
    submitted = _names(submitted, "材料")
    settings, calendar, now = settings or FilingSettings.from_env(), calendar or default_calendar(), _now(now)
    owner = _owner(session, owner_department_code, service.department)
    case = _new_case(session, service, profile, actor or Actor.desk(), now, calendar, settings, owner,
                     owner_label or DESK_LABEL, channel, recipient, submitted)
    _flush(session)
    return case


def create_bundle_filing(
    session: Session,
    bundle_code: str,
    profile: ApplicantProfile,
    *,
    optional: Union[bool, Sequence[str]] = False,
    channel: Optional[str] = None,
    recipient: Optional[str] = None,
    submitted: Sequence[str] = (),
    owner_label: Optional[str] = None,
    actor: Optional[Actor] = None,
    now: Optional[datetime] = None,
    settings: Optional[FilingSettings] = None,
    calendar: Optional[WorkingCalendar] = None,
) -> BundleFiling:
    """File a one-thing bundle: every member case is created now and dispatched to its own
    department, all under one bundle number. Optional members are included when `optional` is
    True or lists their codes. The lead department (牵头部门) is accountable for the whole."""
    bundle = _resolve_bundle(session, bundle_code)
    _check_profile(profile)
    submitted = _names(submitted, "材料")
    settings, calendar, now = settings or FilingSettings.from_env(), calendar or default_calendar(), _now(now)
    wanted = set(optional) if not isinstance(optional, bool) else set()
    members = [
        m for m in bundle.members
        if not m.optional or optional is True or m.service.code in wanted or m.service.basic_code in wanted
    ]
    if not members:
        raise InvalidInput("该一件事没有可申报的事项。", f"bundle {bundle.code} has no members to file")
    received = to_local_date(now)
    bundle_due = (calendar.due_date(received, bundle.promised_limit, bundle.promised_unit)
                  if bundle.promised_limit else None)
    actor = actor or Actor.desk()
    filing = BundleFiling(
        number=next_number(session, "bundle", received),
        bundle=bundle,
        profile=profile,
        owner_department=bundle.lead_department,
        owner_label=owner_label or f"{bundle.name}牵头部门",
        channel=channel,
        recipient=recipient,
        status="in_progress",
        filed_at=now,
    )
    session.add(filing)
    cases = [
        _new_case(session, m.service, profile, actor, now, calendar, settings, bundle.lead_department,
                  filing.owner_label, channel, recipient, submitted, bundle_filing=filing, bundle_due=bundle_due)
        for m in members
    ]
    filing.due_date = max(c.due_date for c in cases)
    _flush(session)
    return filing


def file(session: Session, code: str, profile: ApplicantProfile, **kwargs) -> dict:
    """File a service or a bundle by its code; {"kind", "number", "cases": [{"number", "service",
    "department", "due_date"}], "due_date"} for the citizen. kwargs as create_case /
    create_bundle_filing (optional only for bundles)."""
    target = resolve_target(session, code)
    if isinstance(target, Service):
        kwargs.pop("optional", None)
        case = create_case(session, target.code, profile, **kwargs)
        cases, number, kind, due = [case], case.number, "service", case.due_date
    else:
        kwargs.pop("owner_department_code", None)
        filing = create_bundle_filing(session, target.code, profile, **kwargs)
        cases, number, kind, due = list(filing.cases), filing.number, "bundle", filing.due_date
    return {
        "kind": kind,
        "number": number,
        "name": target.name,
        "due_date": due.isoformat(),
        "cases": [
            {"number": c.number, "service": c.service.name, "department": c.department.name,
             "due_date": c.due_date.isoformat(), "time_limit": notify.time_limit_text(c)}
            for c in cases
        ],
    }


# -- transitions ------------------------------------------------------------------------------------
def _authorize(case: Case, actor: Actor) -> None:
    """A department sees and acts on its own cases only (another's: not found, no enumeration)."""
    if actor.kind == DEPARTMENT and actor.department_id != case.department_id:
        raise NotFound(CASE_NOT_FOUND, f"case {case.number} is not a case of this department", code="case_not_found")


def _check(case: Case, action: str, actor: Actor, note: Optional[str] = None) -> Transition:
    _authorize(case, actor)
    t = CASES.check(action, case.status, actor.kind, signed=case.signed_at is not None)
    if t.needs_reason and not _text(note):
        raise InvalidInput(f"请填写{t.label}的原因或结果。", f"action {action!r} needs a reason or result",
                           code="reason_required")
    if note is not None and len(note) > 4000:
        raise InvalidInput("说明不能超过4000字。", "note longer than 4000 characters")
    return t


def _record(session: Session, case: Case, t: Transition, actor: Actor, now: datetime, note: Optional[str],
            data: Optional[dict], calendar: Optional[WorkingCalendar]) -> Case:
    """Apply a checked transition: status, timestamps, clock, history, notifications, bundle."""
    before = case.status
    today = to_local_date(now)
    if t.target is not None:
        case.status = t.target
    if t.action == "sign":
        case.signed_at, case.signed_by = now, actor.name
    if t.target == 3:
        case.accepted_at = now
    if t.pauses:
        case.paused_since = today
    if case.paused_since is not None and (t.resumes or case.status in CLOSED_STATUSES):
        if t.resumes:
            calendar = calendar or default_calendar()
            unit = case.limit_unit if not case.immediate else "工作日"
            case.due_date = calendar.extend(case.due_date, unit, case.paused_since, today)
            case.warn_date = calendar.extend(case.warn_date, unit, case.paused_since, today)
            data = {**(data or {}), "due_date": case.due_date.isoformat()}
        case.paused_since = None
    if t.needs_reason and note:
        if case.status in (11, 12):
            case.result = _text(note)
        elif t.action not in ("special_start",):
            case.reason = _text(note)
    if case.status in COMPLETED_STATUSES and case.completed_at is None:
        case.completed_at = now
    if case.status in CLOSED_STATUSES and case.closed_at is None:
        case.closed_at = now
    _event(case, t.action, actor, before, case.status, now, note=_text(note) or None, data=data)
    _flush(session)
    if case.status == 6:
        notify.supplements_requested(session, case, list((data or {}).get("missing") or ()), _text(note) or None)
    elif case.status in RATEABLE_STATUSES or case.status == 15:
        notify.outcome(session, case, ask_rating=case.status in RATEABLE_STATUSES)
    if case.bundle_filing is not None:
        refresh_bundle(session, case.bundle_filing, now)
    return case


def apply_action(session: Session, case: Case, action: str, actor: Actor, note: Optional[str] = None,
                 now: Optional[datetime] = None, calendar: Optional[WorkingCalendar] = None) -> Case:
    """Any action of the table without extra inputs (sign, accept, start, special_end ...)."""
    t = _check(case, action, actor, note)
    return _record(session, case, t, actor, _now(now), note, None, calendar)


def sign(session: Session, case: Case, actor: Actor, now: Optional[datetime] = None) -> Case:
    """签收: the department takes the case into its hands (status stays 已接件)."""
    return apply_action(session, case, "sign", actor, now=now)


def accept(session: Session, case: Case, actor: Actor, note: Optional[str] = None, now: Optional[datetime] = None) -> Case:
    """受理 (3)."""
    return apply_action(session, case, "accept", actor, note, now)


def reject(session: Session, case: Case, actor: Actor, reason: str, not_required: bool = False,
           now: Optional[datetime] = None) -> Case:
    """不予受理 (5) with the reason; with not_required, 不受理 (4: the matter needs no application)."""
    return apply_action(session, case, "not_required" if not_required else "reject", actor, reason, now)


def request_supplements(session: Session, case: Case, actor: Actor, missing: Sequence[str],
                        note: Optional[str] = None, now: Optional[datetime] = None) -> Case:
    """补正开始 (6): tell the applicant, all at once, every material missing (一次性告知)."""
    missing = _names(missing, "补正材料")
    if not missing:
        raise InvalidInput("请列出需要补正的材料。", "a supplement request must list the missing materials",
                           code="missing_required")
    t = _check(case, "request_supplements", actor, note)
    now = _now(now)
    by_name = {m.name: m for m in case.materials}
    for name in missing:
        line = by_name.get(name)
        if line is None:
            line = CaseMaterial(position=len(case.materials), name=name, required=True, note="补正要求")
            case.materials.append(line)
            by_name[name] = line
        line.status, line.updated_at = "missing", now
    for line in case.materials:
        if line.name not in missing and line.status == "missing" and line.required:
            line.status = "submitted"  # what the department does not ask for, it has
    return _record(session, case, t, actor, now, note, {"missing": missing}, None)


def supplements_done(session: Session, case: Case, actor: Actor, submitted: Optional[Sequence[str]] = None,
                     note: Optional[str] = None, now: Optional[datetime] = None,
                     calendar: Optional[WorkingCalendar] = None) -> Case:
    """补正结束 (7): the supplements are in; the listed materials (default: all missing ones) are
    marked submitted and the clock runs again (the paused days extend the due date)."""
    names = _names(submitted, "材料") if submitted else None
    t = _check(case, "supplements_done", actor, note)
    now = _now(now)
    known = {m.name for m in case.materials}
    unknown = [n for n in names or () if n not in known]
    if unknown:
        raise InvalidInput(f"材料清单中没有：{'、'.join(unknown)}。", f"unknown materials: {unknown}")
    for line in case.materials:
        if line.status == "missing" and (names is None or line.name in names):
            line.status, line.updated_at = "submitted", now
    return _record(session, case, t, actor, now, note, {"submitted": names}, calendar)


def start(session: Session, case: Case, actor: Actor, now: Optional[datetime] = None) -> Case:
    """部门开始办理 (8)."""
    return apply_action(session, case, "start", actor, now=now)


def special_start(session: Session, case: Case, actor: Actor, procedure: str, now: Optional[datetime] = None) -> Case:
    """特别程序开始 (9): hearing, expert review ... (not counted in the time limit)."""
    return apply_action(session, case, "special_start", actor, procedure, now)


def special_end(session: Session, case: Case, actor: Actor, note: Optional[str] = None,
                now: Optional[datetime] = None, calendar: Optional[WorkingCalendar] = None) -> Case:
    """特别程序结束 (10): the clock runs again."""
    return apply_action(session, case, "special_end", actor, note, now, calendar)


def complete(session: Session, case: Case, actor: Actor, result: str, approved: bool = True,
             tolerated: Sequence[str] = (), now: Optional[datetime] = None) -> Case:
    """办结: approved (11), approved with materials to follow (12, 容缺: list them in
    `tolerated`), or denied (13, `result` says why). The citizen is told and asked for a rating."""
    tolerated = _names(tolerated, "容缺材料")
    if tolerated and not approved:
        raise InvalidInput("不通过的办件不能容缺。", "tolerated materials only apply to an approval")
    action = "complete_denied" if not approved else ("complete_tolerated" if tolerated else "complete_approved")
    t = _check(case, action, actor, result)
    now = _now(now)
    by_name = {m.name: m for m in case.materials}
    for name in tolerated:
        line = by_name.get(name)
        if line is None:
            line = CaseMaterial(position=len(case.materials), name=name, required=True)
            case.materials.append(line)
        line.status, line.updated_at = "tolerated", now
    return _record(session, case, t, actor, now, result, {"tolerated": tolerated} if tolerated else None, None)


def revoke(session: Session, case: Case, actor: Actor, reason: str, now: Optional[datetime] = None) -> Case:
    """撤销 (15): an approval is revoked."""
    return apply_action(session, case, "revoke", actor, reason, now)


def withdraw(session: Session, case: Case, actor: Actor, reason: Optional[str] = None,
             now: Optional[datetime] = None) -> Case:
    """The applicant withdraws: 撤件 (2) before acceptance, 撤回 (14) after it."""
    action = "withdraw" if case.status in (1, 6, 7) else "retract"
    return apply_action(session, case, action, actor, reason, now)


def refresh_bundle(session: Session, filing: BundleFiling, now: Optional[datetime] = None) -> str:
    """Derive the bundle's status from its cases: completed when every case is closed (the
    citizen is told and asked to rate the whole bundle)."""
    status = bundle_status(filing.cases)
    if status == "completed" and filing.status != "completed":
        filing.status, filing.completed_at = "completed", _now(now)
        _flush(session)
        notify.bundle_completed(session, filing)
    elif status != "completed" and filing.status != status:
        filing.status = status
        _flush(session)
    return filing.status


def bundle_status(cases: Sequence[Case]) -> str:
    """"completed" when every case is closed, else "in_progress"."""
    return "completed" if cases and all(c.status in CLOSED_STATUSES for c in cases) else "in_progress"


# -- reading ----------------------------------------------------------------------------------------
def due_state(case, today: Optional[date] = None) -> str:
    """normal / warning (预警) / overdue (逾期) / paused (补正, 特别程序) / closed, as of today."""
    today = today or local_today()
    status = case.status
    if status in CLOSED_STATUSES or status == "closed" or getattr(case, "closed_at", None) is not None:
        return "closed"
    if status in PAUSED_STATUSES:
        return "paused"
    if today > case.due_date:
        return "overdue"
    if today >= case.warn_date:
        return "warning"
    return "normal"


def _dept(department: Optional[Department]) -> Optional[dict]:
    if department is None:
        return None
    return {"code": department.code, "name": department.name, "short_name": department.short_name}


def case_view(case: Case, today: Optional[date] = None, for_department: bool = False,
              history: bool = False) -> dict:
    """A case as plain data. For the department: the applicant's clear numbers, the history and
    the actions it may take now."""
    state = due_state(case, today)
    view = {
        "number": case.number,
        "bundle": case.bundle_filing.number if case.bundle_filing else None,
        "service": {"code": case.service.code, "name": case.service.name},
        "department": _dept(case.department),
        "status": case.status,
        "status_name": STATUS_NAMES[case.status],
        "status_text": STATUS_FOR_CITIZENS[case.status],
        "signed": case.signed_at is not None,
        "filed_at": _iso(case.filed_at),
        "accepted_at": _iso(case.accepted_at),
        "completed_at": _iso(case.completed_at),
        "time_limit": notify.time_limit_text(case),
        "due_date": case.due_date.isoformat(),
        "warn_date": case.warn_date.isoformat(),
        "due_state": state,
        "due_state_name": DUE_STATE_NAMES[state],
        "colour": DUE_COLOURS[state],
        "materials": [
            {"name": m.name, "required": m.required, "status": m.status, "status_name": MATERIAL_STATUS_NAMES[m.status]}
            for m in case.materials
        ],
        "missing": [m.name for m in case.materials if m.status == "missing" and m.required],
        "tolerated": [m.name for m in case.materials if m.status == "tolerated"],
        "result": case.result,
        "reason": case.reason,
        "owner": {**(_dept(case.owner_department) or {}), "label": case.owner_label},
        "escalated_to": _dept(case.escalated_to),
        "escalated_at": _iso(case.escalated_at),
        "applicant": profile_view(case.profile),
    }
    if for_department:
        view["applicant"].update(reveal(case.profile))
        view["actions"] = CASES.allowed(case.status, DEPARTMENT, signed=case.signed_at is not None)
    if history or for_department:
        view["history"] = [
            {"action": e.action, "from_status": e.from_status, "to_status": e.to_status, "actor": e.actor,
             "actor_kind": e.actor_kind, "note": e.note, "data": e.data, "at": _iso(e.at)}
            for e in case.events
        ]
    return view


def bundle_view(filing: BundleFiling, today: Optional[date] = None) -> dict:
    """A bundle filing with progress per department."""
    today = today or local_today()
    departments: Dict[str, dict] = {}
    for case in filing.cases:
        entry = departments.setdefault(case.department.code, {**_dept(case.department), "cases": [], "done": 0, "total": 0})
        entry["cases"].append({"number": case.number, "service": case.service.name, "status": case.status,
                               "status_text": STATUS_FOR_CITIZENS[case.status], "due_date": case.due_date.isoformat(),
                               "due_state": due_state(case, today),
                               "missing": [m.name for m in case.materials if m.status == "missing" and m.required]})
        entry["total"] += 1
        entry["done"] += case.status in CLOSED_STATUSES
    done = sum(1 for c in filing.cases if c.status in CLOSED_STATUSES)
    missing: List[str] = []
    for case in filing.cases:
        if case.status not in CLOSED_STATUSES:
            missing.extend(m.name for m in case.materials if m.status == "missing" and m.required and m.name not in missing)
    return {
        "number": filing.number,
        "kind": "bundle",
        "bundle": {"code": filing.bundle.code, "name": filing.bundle.name},
        "status": filing.status,
        "status_text": "已全部办结" if filing.status == "completed" else "办理中",
        "filed_at": _iso(filing.filed_at),
        "completed_at": _iso(filing.completed_at),
        "due_date": filing.due_date.isoformat() if filing.due_date else None,
        "owner": {**(_dept(filing.owner_department) or {}), "label": filing.owner_label},
        "progress": {"done": done, "total": len(filing.cases)},
        "departments": list(departments.values()),
        "missing": missing,
        "cases": [case_view(c, today) for c in filing.cases],
    }


def _iso(value: Optional[datetime]) -> Optional[str]:
    return value.isoformat() + "Z" if value else None


def track(session: Session, number: str, phone_last4: str, today: Optional[date] = None,
          settings: Optional[FilingSettings] = None, now: Optional[datetime] = None) -> Optional[dict]:
    """Progress of a case, bundle or work order (kind "case" / "bundle" / "order") for a citizen
    who gives its number and the last four digits of the applicant's phone. None when the number is unknown, the digits are wrong, or the
    number was tried with wrong digits too often in the last hour (the same answer each time, so
    nothing can be learned by guessing). The caller commits (failures are recorded)."""
    settings, now = settings or FilingSettings.from_env(), _now(now)
    canonical = normalize_number(number)
    digits = re.sub(r"\D", "", unicodedata.normalize("NFKC", phone_last4 or ""))
    if canonical is None or len(digits) != 4:
        return None
    since = now - timedelta(hours=1)
    failures = session.execute(
        select(func.count()).select_from(TrackingFailure)
        .where(TrackingFailure.number == canonical, TrackingFailure.at >= since)
    ).scalar_one()
    if failures >= settings.tracking_max_failures:
        return None
    kind = kind_of(canonical)
    if kind == "case":
        record = find_case(session, canonical)
    elif kind == "bundle":
        record = find_bundle_filing(session, canonical)
    else:
        from filings.lookup import find_order

        record = find_order(session, canonical)
    if record is None or record.profile is None:
        return None
    if not hmac.compare_digest(record.profile.phone_last4.encode(), digits.encode()):
        session.add(TrackingFailure(number=canonical, at=now))
        session.flush()
        return None
    if isinstance(record, Case):
        view = case_view(record, today)
        view["kind"] = "case"
        return view
    if isinstance(record, BundleFiling):
        return bundle_view(record, today)
    from filings.workorders import order_view

    view = order_view(record, today)
    view["order_kind"], view["kind"] = view["kind"], "order"
    return view


def recent_filings(session: Session, channel: str, recipient: str, limit: int = 5,
                   today: Optional[date] = None) -> List[dict]:
    """The latest filings made from this conversation (no phone digits needed: it is the filer's
    own channel identity): [{"kind", "number", "name", "status_text", "due_date"}]."""
    if not channel or not recipient:
        return []
    out: List[dict] = []
    bundles = session.execute(
        select(BundleFiling).where(BundleFiling.channel == channel, BundleFiling.recipient == recipient)
        .order_by(BundleFiling.id.desc()).limit(limit)
    ).scalars()
    for filing in bundles:
        out.append({"kind": "bundle", "number": filing.number, "name": filing.bundle.name, "filed_at": _iso(filing.filed_at),
                    "status_text": "已全部办结" if filing.status == "completed" else "办理中",
                    "due_date": filing.due_date.isoformat() if filing.due_date else None})
    cases = session.execute(
        select(Case).where(Case.channel == channel, Case.recipient == recipient, Case.bundle_filing_id.is_(None))
        .order_by(Case.id.desc()).limit(limit)
    ).scalars()
    for case in cases:
        out.append({"kind": "case", "number": case.number, "name": case.service.name, "filed_at": _iso(case.filed_at),
                    "status_text": STATUS_FOR_CITIZENS[case.status], "due_date": case.due_date.isoformat()})
    out.sort(key=lambda item: item["filed_at"], reverse=True)
    return out[:limit]


def due_condition(due: str, today: Optional[date] = None):
    """A SQL condition on Case for a due state (normal, warning, overdue, paused) as of today,
    the same rules as `due_state()`."""
    today = today or local_today()
    open_running = Case.status.notin_(list(CLOSED_STATUSES | PAUSED_STATUSES))
    if due == "overdue":
        return open_running & (Case.due_date < today)
    if due == "warning":
        return open_running & (Case.due_date >= today) & (Case.warn_date <= today)
    if due == "normal":
        return open_running & (Case.warn_date > today)
    if due == "paused":
        return Case.status.in_(list(PAUSED_STATUSES))
    raise InvalidInput("到期状态只能是 normal、warning、overdue 或 paused。", f"unknown due state {due!r}")


def count_if(condition):
    """A SQL aggregate: how many rows meet the condition (0 when none)."""
    return func.coalesce(func.sum(sql_case((condition, 1), else_=0)), 0)


def department_queue(
    session: Session,
    department: Optional[Department],
    status: Optional[Sequence[int]] = None,
    due: Optional[str] = None,
    include_closed: bool = False,
    escalated: bool = False,
    limit: int = 50,
    offset: int = 0,
    today: Optional[date] = None,
) -> List[Case]:
    """The department's cases (every department's with None), most urgent first (due date).
    `due` filters on the due state (normal, warning, overdue, paused); `escalated` gives instead
    the cases escalated to this department (the coordinating office)."""
    today = today or local_today()
    query = select(Case)
    if escalated:
        query = query.where(Case.escalated_to_id == department.id) if department else query.where(Case.escalated_to_id.isnot(None))
    elif department is not None:
        query = query.where(Case.department_id == department.id)
    if status:
        query = query.where(Case.status.in_(list(status)))
    elif not include_closed:
        query = query.where(Case.status.notin_(list(CLOSED_STATUSES)))
    if due is not None:
        query = query.where(due_condition(due, today))
    query = query.order_by(Case.due_date, Case.id).limit(limit).offset(offset)
    return list(session.execute(query).scalars())
