"""The deadline sweep (预警, 逾期, escalation) and the filings commands."""
from __future__ import annotations

from datetime import date

from filings import cases, sweep, workorders
from filings.calendar import WorkingCalendar, calendar_path
from filings.cases import Actor
from filings.config import FilingSettings
from filings.lookup import department_by_code
from filings_helpers import BIRTH_REGISTRATION, local_noon, make_profile

CAL = WorkingCalendar.load(calendar_path())


def _case(session, day=date(2026, 9, 30)):
    profile, _, _ = make_profile(session)
    return cases.create_case(session, BIRTH_REGISTRATION, profile, now=local_noon(day))  # due 13 Oct, warn 12 Oct


def _actions(case):
    return [e.action for e in case.events if e.actor_kind == "system"]


def test_warning_overdue_and_escalation_once_each(fsession):
    case = _case(fsession)
    fsession.commit()
    settings = FilingSettings()
    sweep.sweep(fsession, today=date(2026, 10, 9), settings=settings, calendar=CAL)
    assert _actions(case) == [] and cases.due_state(case, date(2026, 10, 9)) == "normal"
    report = sweep.sweep(fsession, today=date(2026, 10, 12), settings=settings, calendar=CAL)
    assert case.number in report.warned and _actions(case) == ["warn"] and case.warned_at
    assert cases.due_state(case, date(2026, 10, 12)) == "warning"
    report = sweep.sweep(fsession, today=date(2026, 10, 14), settings=settings, calendar=CAL)
    assert case.number in report.overdue and case.number in report.escalated
    assert _actions(case) == ["warn", "overdue", "escalate"]
    assert case.escalated_to.coordinating and case.events[-1].data["department"] == case.escalated_to.code
    assert case.events[-1].from_status == case.events[-1].to_status == 1  # no status change
    again = sweep.sweep(fsession, today=date(2026, 10, 15), settings=settings, calendar=CAL)
    assert case.number not in again.warned + again.overdue + again.escalated
    fsession.commit()
    coordinating = department_by_code(fsession, "LG-ZSJ")
    assert case in cases.department_queue(fsession, coordinating, escalated=True, limit=500)


def test_escalation_can_wait_some_working_days(fsession):
    case = _case(fsession)
    settings = FilingSettings(escalate_after=2)
    sweep.sweep(fsession, today=date(2026, 10, 14), settings=settings, calendar=CAL)
    assert _actions(case) == ["overdue"]  # 14 Oct is 1 working day late
    sweep.sweep(fsession, today=date(2026, 10, 15), settings=settings, calendar=CAL)
    assert _actions(case) == ["overdue", "escalate"]


def test_paused_and_closed_cases_are_left_alone(fsession):
    paused, closed = _case(fsession), _case(fsession)
    for case in (paused, closed):
        cases.sign(fsession, case, Actor.of_department(case.department))
    cases.request_supplements(fsession, paused, Actor.of_department(paused.department), ["出生医学证明"])
    cases.reject(fsession, closed, Actor.of_department(closed.department), "不符合条件")
    sweep.sweep(fsession, today=date(2026, 12, 1), settings=FilingSettings(), calendar=CAL)
    assert _actions(paused) == [] and _actions(closed) == []


def test_work_orders_are_swept_too(fsession):
    department = department_by_code(fsession, "LG-MZ")
    order = workorders.create_order(fsession, "complaint", "办事太慢", department, "mention",
                                    actor=Actor.citizen(), now=local_noon(date(2026, 9, 1)), calendar=CAL)
    report = sweep.sweep(fsession, today=date(2026, 12, 1), settings=FilingSettings(), calendar=CAL)
    assert order.number in report.overdue and order.number in report.escalated
    assert workorders.order_due_state(order, date(2026, 12, 1)) == "overdue"


def test_settings_from_environment(monkeypatch):
    monkeypatch.setenv("ONEWINDOW_WARNING_SHARE", "0.5")
    monkeypatch.setenv("ONEWINDOW_SWEEP_INTERVAL", "0")
    settings = FilingSettings.from_env()
    assert settings.warning_share == 0.5 and settings.sweep_interval == 0
    monkeypatch.setenv("ONEWINDOW_WARNING_SHARE", "lots")
    try:
        FilingSettings.from_env()
    except Exception as exc:  # noqa: BLE001
        assert "ONEWINDOW_WARNING_SHARE" in str(exc)
    else:
        raise AssertionError("a bad setting must be refused")


def test_the_commands(filings_url, monkeypatch, capsys):
    from bot.cli import main

    monkeypatch.setenv("ONEWINDOW_DATABASE_URL", filings_url)
    assert main(["departments", "token", "LG-MZ", "--label", "民政局业务系统"]) == 0
    out, err = capsys.readouterr()
    token = out.strip()
    assert token.startswith("owd_") and len(token) > 40 and "only time" in err
    assert main(["departments", "tokens", "LG-MZ"]) == 0
    listing = capsys.readouterr().out
    assert token[:10] in listing and token not in listing and "active" in listing
    assert main(["departments", "token", "NO-SUCH"]) == 1
    assert "no department" in capsys.readouterr().err
    assert main(["departments", "revoke", "LG-MZ"]) == 0
    assert "Revoked" in capsys.readouterr().out
    assert main(["cases", "sweep", "--date", "2026-12-01"]) == 0
    assert "Deadline sweep:" in capsys.readouterr().out
    assert main(["cases", "sweep", "--date", "tomorrow"]) == 1
