"""The deadline sweep: 预警 (warning) when a share of the time limit has passed, 逾期 (overdue)
after the due date, and escalation of overdue cases and work orders to the coordinating office.

Idempotent: each flag is set once (warned_at, overdue_at, escalated_at) and recorded in the
history. Paused cases (补正, 特别程序) and work orders waiting for the citizen are skipped.
Run it with `onewindow cases sweep`, or let the desk service run it every
ONEWINDOW_SWEEP_INTERVAL seconds (`SweepLoop`).
"""
from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import List, Optional

from sqlalchemy import select
from sqlalchemy.orm import Session

from background import Periodic
from database.engine import make_session
from filings.calendar import WorkingCalendar, default_calendar, local_today
from filings.cases import Actor, _flush
from filings.config import FilingSettings
from filings.lookup import coordinating_department
from filings.models import Case, CaseEvent, WorkOrder, WorkOrderEvent
from filings.states import CLOSED_STATUSES, PAUSED_STATUSES

log = logging.getLogger(__name__)

ORDER_RUNNING = ("dispatched", "signed", "returned")


@dataclass
class SweepReport:
    warned: List[str] = field(default_factory=list)
    overdue: List[str] = field(default_factory=list)
    escalated: List[str] = field(default_factory=list)

    def summary(self) -> str:
        return (f"{len(self.warned)} warned (预警), {len(self.overdue)} overdue (逾期), "
                f"{len(self.escalated)} escalated to the coordinating office")


def _flag(record, event, report: SweepReport, today: date, now: datetime, settings: FilingSettings,
          calendar: WorkingCalendar, coordinating, status) -> None:
    actor = Actor.system()
    new_event = (lambda action, note, data=None: record.events.append(
        event(action=action, from_status=status, to_status=status, actor_kind=actor.kind, actor=actor.name,
              note=note, data=data, at=now)))
    if record.warned_at is None and record.warn_date <= today <= record.due_date:
        record.warned_at = now
        new_event("warn", f"预警：将于{record.due_date.isoformat()}到期", {"due_date": record.due_date.isoformat()})
        report.warned.append(record.number)
    if today > record.due_date:
        if record.overdue_at is None:
            record.overdue_at = now
            new_event("overdue", f"逾期：已于{record.due_date.isoformat()}到期", {"due_date": record.due_date.isoformat()})
            report.overdue.append(record.number)
        late = calendar.working_days_between(record.due_date, today)
        if record.escalated_at is None and late >= settings.escalate_after:
            if coordinating is None:
                log.warning("%s is overdue but no department is marked coordinating: cannot escalate", record.number)
                return
            record.escalated_at, record.escalated_to = now, coordinating
            new_event("escalate", f"逾期督办：已提交{coordinating.name}", {"department": coordinating.code, "late_days": late})
            report.escalated.append(record.number)


def sweep(session: Session, today: Optional[date] = None, now: Optional[datetime] = None,
          settings: Optional[FilingSettings] = None, calendar: Optional[WorkingCalendar] = None) -> SweepReport:
    """Flag what is due; the caller commits."""
    settings, calendar = settings or FilingSettings.from_env(), calendar or default_calendar()
    today, now = today or local_today(), now or datetime.utcnow()
    coordinating = coordinating_department(session)
    report = SweepReport()
    cases = session.execute(
        select(Case).where(
            Case.status.notin_(list(CLOSED_STATUSES | PAUSED_STATUSES)),
            Case.warn_date <= today,
            (Case.warned_at.is_(None)) | (Case.overdue_at.is_(None)) | (Case.escalated_at.is_(None)),
        ).order_by(Case.id)
    ).scalars()
    for case in cases:
        _flag(case, CaseEvent, report, today, now, settings, calendar, coordinating, case.status)
    orders = session.execute(
        select(WorkOrder).where(
            WorkOrder.status.in_(ORDER_RUNNING),
            WorkOrder.warn_date <= today,
            (WorkOrder.warned_at.is_(None)) | (WorkOrder.overdue_at.is_(None)) | (WorkOrder.escalated_at.is_(None)),
        ).order_by(WorkOrder.id)
    ).scalars()
    for order in orders:
        _flag(order, WorkOrderEvent, report, today, now, settings, calendar, coordinating, order.status)
    _flush(session)
    if report.warned or report.overdue or report.escalated:
        log.info("deadline sweep: %s", report.summary())
    return report


def run_sweep(url: Optional[str] = None, today: Optional[date] = None) -> SweepReport:
    """One sweep in its own transaction on the database at `url`."""
    session = make_session(url)
    try:
        report = sweep(session, today=today)
        session.commit()
        return report
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()


class SweepLoop(Periodic):
    """Runs the sweep every `interval` seconds in a worker thread of the running event loop."""

    def __init__(self, url: Optional[str], interval: float):
        self.url = url
        super().__init__("deadline sweep", self._sweep_in_thread, interval)

    async def _sweep_in_thread(self) -> SweepReport:
        return await asyncio.get_running_loop().run_in_executor(None, run_sweep, self.url)
