"""Filing cases and bundles: numbers, owners, due dates, materials, parallel dispatch of a bundle,
notifications to the citizen, progress lookup."""
from __future__ import annotations

import re
from datetime import date, datetime, timedelta

import pytest
from sqlalchemy import select

from filings import cases
from filings.calendar import WorkingCalendar, calendar_path
from filings.cases import Actor
from filings.config import FilingSettings
from filings.errors import InvalidInput, NotFound
from filings.models import Case
from filings.numbers import find_numbers, normalize_number
from outbound.models import OutboundMessage
from filings_helpers import BIRTH_CERTIFICATE, BIRTH_REGISTRATION, local_noon, make_profile

CAL = WorkingCalendar.load(calendar_path())


def _messages(session, recipient):
    return list(session.execute(
        select(OutboundMessage).where(OutboundMessage.recipient == recipient).order_by(OutboundMessage.id)
    ).scalars())


def test_a_case_gets_a_number_an_owner_a_due_date_and_a_checklist(fsession):
    profile, _, _ = make_profile(fsession)
    now = local_noon(date(2026, 9, 30))
    case = cases.create_case(fsession, BIRTH_REGISTRATION, profile, channel="webchat", recipient="c1", now=now,
                             submitted=["出生医学证明"])
    fsession.commit()
    assert re.fullmatch(r"LG20260930-\d{6}", case.number)
    assert case.status == 1 and case.department.code == "LG-GA"
    assert case.owner_department.coordinating  # 首问负责: the one-window desk received it
    assert case.limit_value == 5 and case.limit_unit == "工作日"
    assert case.due_date == date(2026, 10, 13)  # 5 working days across National Day and the 调休 Saturday
    assert case.warn_date == date(2026, 10, 12)
    checklist = {m.name: m.status for m in case.materials}
    assert checklist["出生医学证明"] == "submitted" and "missing" in checklist.values()
    assert [e.action for e in case.events] == ["file", "dispatch"]
    assert case.events[1].data["department"] == "LG-GA"


def test_numbers_are_sequential_per_day_and_unique(fsession):
    profile, _, _ = make_profile(fsession)
    now = local_noon(date(2026, 3, 2))
    numbers = [cases.create_case(fsession, BIRTH_CERTIFICATE, profile, now=now).number for _ in range(5)]
    fsession.commit()
    values = [int(n.split("-")[1]) for n in numbers]
    assert values == list(range(values[0], values[0] + 5)) and len(set(numbers)) == 5
    assert normalize_number(" lg20260302-" + numbers[0].split("-")[1]) == numbers[0]
    assert find_numbers(f"帮我查一下{numbers[0].lower()}办好没有") == [numbers[0]]


def test_filing_needs_a_known_service_and_a_complete_profile(fsession):
    profile, _, _ = make_profile(fsession)
    before = fsession.execute(select(Case.id)).all()
    with pytest.raises(NotFound):
        cases.create_case(fsession, "NO-SUCH-SERVICE", profile)
    with pytest.raises(InvalidInput):
        cases.create_case(fsession, BIRTH_REGISTRATION, None)
    profile.consent = False
    with pytest.raises(InvalidInput):
        cases.create_case(fsession, BIRTH_REGISTRATION, profile)
    assert fsession.execute(select(Case.id)).all() == before


def test_prepare_filing_for_a_service_and_a_bundle(fsession):
    info = cases.prepare_filing(fsession, BIRTH_REGISTRATION, "webchat", "nobody-yet", today=date(2026, 9, 30))
    assert info["kind"] == "service" and info["department"]["code"] == "LG-GA"
    assert info["materials"] and info["time_limit"] == "5个工作日" and info["due_date"] == "2026-10-13"
    assert info["missing_fields"] == ["name", "id_number", "phone", "address"] and info["profile"] is None
    profile, _, _ = make_profile(fsession, channel="webchat", sender_id="returning")
    info = cases.prepare_filing(fsession, "newborn", "webchat", "returning")
    assert info["kind"] == "bundle" and info["missing_fields"] == []
    assert info["profile"]["id_number"].count("*") == 10
    names = [m["name"] for m in info["materials"]]
    assert len(names) == len(set(names))  # one set of materials
    assert {m["department"]["code"] for m in info["members"]} >= {"LG-WJ", "LG-GA", "LG-YB", "LG-SB"}
    with pytest.raises(NotFound):
        cases.prepare_filing(fsession, "no-such-thing")


def test_preparing_a_filing_reads_only_what_filing_needs_of_the_guide(fsession):
    """The service is read with its department and materials, not its whole guide (eleven
    queries, ten milliseconds, on every 我要办)."""
    from sqlalchemy import event

    statements = []
    bind = fsession.get_bind()
    listener = lambda conn, cursor, statement, *a: statements.append(statement)  # noqa: E731
    event.listen(bind, "before_cursor_execute", listener)
    try:
        fsession.expunge_all()
        info = cases.prepare_filing(fsession, BIRTH_REGISTRATION, "webchat", "nobody-yet", today=date(2026, 9, 30))
    finally:
        event.remove(bind, "before_cursor_execute", listener)
    assert info["materials"] and info["department"]["code"] == "LG-GA"
    assert len(statements) <= 6, statements
    guide_only = ("process_steps", "service_aliases", "service_places", "service_prerequisites", "parent_items")
    assert not any(table in s for s in statements for table in guide_only), statements


def test_a_bundle_dispatches_every_member_at_once_and_completes_when_all_do(fsession):
    profile, _, phone = make_profile(fsession)
    now = local_noon(date(2026, 11, 2))
    filing = cases.create_bundle_filing(fsession, "newborn", profile, channel="webchat", recipient="b1", now=now)
    fsession.commit()
    assert re.fullmatch(r"LGB20261102-\d{4}", filing.number)
    members = [m.service for m in filing.bundle.members if not m.optional]
    assert [c.service.code for c in filing.cases] == [s.code for s in members]
    # Parallel: every case is received and dispatched to its own department at the same moment.
    assert {c.filed_at for c in filing.cases} == {now}
    for case in filing.cases:
        assert case.department_id == case.service.department_id and case.status == 1
        assert [e.action for e in case.events] == ["file", "dispatch"]
        assert case.owner_department.code == filing.bundle.lead_department.code  # the lead answers for it
        assert case.due_date <= CAL.due_date(date(2026, 11, 2), 5, "工作日")  # the bundle's promise
    assert filing.due_date == max(c.due_date for c in filing.cases)
    departments = {c.department.code for c in filing.cases}
    assert departments == {s.department.code for s in members} and len(departments) >= 4

    progress = cases.track(fsession, filing.number, phone[-4:])
    assert progress["kind"] == "bundle" and progress["progress"] == {"done": 0, "total": len(filing.cases)}
    assert {d["code"] for d in progress["departments"]} == departments
    assert progress["missing"]

    for i, case in enumerate(filing.cases):
        dept = Actor.of_department(case.department)
        cases.sign(fsession, case, dept)
        cases.accept(fsession, case, dept)
        cases.complete(fsession, case, dept, "已办结")
        fsession.commit()
        last = i == len(filing.cases) - 1
        assert filing.status == ("completed" if last else "in_progress")
    messages = _messages(fsession, "b1")
    assert len(messages) == len(filing.cases) + 1
    assert all(m.custom["type"] == "case_update" for m in messages)
    assert all("rating" not in m.custom for m in messages[:-1])  # members are not rated one by one
    assert messages[-1].custom["event"] == "bundle_completed" and messages[-1].custom["rating"]["number"] == filing.number
    assert "非常满意" in messages[-1].text and filing.bundle.name in messages[-1].text
    assert cases.track(fsession, filing.number, phone[-4:])["status_text"] == "已全部办结"


def test_optional_members_are_filed_only_when_asked(fsession):
    profile, _, _ = make_profile(fsession)
    without = cases.create_bundle_filing(fsession, "company-opening", profile)
    with_all = cases.create_bundle_filing(fsession, "company-opening", profile, optional=True)
    assert len(with_all.cases) == len(without.cases) + 1


def test_supplements_pause_the_clock_and_tell_the_citizen(fsession):
    profile, _, _ = make_profile(fsession)
    case = cases.create_case(fsession, BIRTH_REGISTRATION, profile, channel="webchat", recipient="s1",
                             now=local_noon(date(2026, 9, 29)))
    dept = Actor.of_department(case.department, "王五")
    cases.sign(fsession, case, dept, now=local_noon(date(2026, 9, 29)))
    cases.request_supplements(fsession, case, dept, ["出生医学证明", "父母结婚证"], "请补交原件",
                              now=local_noon(date(2026, 9, 29)))
    fsession.commit()
    assert case.status == 6 and case.paused_since == date(2026, 9, 29)
    assert cases.due_state(case, date(2026, 12, 31)) == "paused"
    lines = {m.name: m.status for m in case.materials}
    assert lines["出生医学证明"] == lines["父母结婚证"] == "missing"
    message = _messages(fsession, "s1")[-1]
    assert message.custom["event"] == "supplements" and message.custom["missing"] == ["出生医学证明", "父母结婚证"]
    assert "父母结婚证" in message.text and case.number in message.text and message.kind == "case_update"
    due_before = case.due_date  # 2026-10-12
    cases.supplements_done(fsession, case, dept, now=local_noon(date(2026, 10, 9)), calendar=CAL)
    fsession.commit()
    # Paused 29 Sep -> 9 Oct: 30 Sep, 8 Oct, 9 Oct are 3 working days more.
    assert case.status == 7 and case.paused_since is None
    assert case.due_date == CAL.add_working_days(due_before, 3)
    assert all(m.status == "submitted" for m in case.materials if m.name in ("出生医学证明", "父母结婚证"))
    assert case.events[-1].data["due_date"] == case.due_date.isoformat()


def test_completion_tells_the_citizen_and_asks_for_a_rating(fsession):
    profile, _, _ = make_profile(fsession)
    case = cases.create_case(fsession, BIRTH_REGISTRATION, profile, channel="wechat", recipient="openid-1")
    dept = Actor.of_department(case.department)
    cases.sign(fsession, case, dept)
    cases.accept(fsession, case, dept)
    cases.complete(fsession, case, dept, "居民户口簿", tolerated=["出生医学证明"])
    fsession.commit()
    assert case.status == 12 and case.completed_at and case.closed_at and case.result == "居民户口簿"
    message = _messages(fsession, "openid-1")[-1]
    assert message.channel == "wechat" and message.custom["event"] == "completed"
    assert message.custom["rating"]["levels"] == ["非常满意", "满意", "基本满意", "不满意", "非常不满意"]
    assert "出生医学证明" in message.text and "居民户口簿" in message.text


def test_a_case_filed_without_a_channel_queues_nothing(fsession):
    profile, _, _ = make_profile(fsession)
    case = cases.create_case(fsession, BIRTH_REGISTRATION, profile)
    dept = Actor.of_department(case.department)
    before = fsession.execute(select(OutboundMessage.id)).all()
    cases.sign(fsession, case, dept)
    cases.reject(fsession, case, dept, "不符合条件")
    assert fsession.execute(select(OutboundMessage.id)).all() == before


def test_bad_inputs_to_actions_change_nothing(fsession):
    profile, _, _ = make_profile(fsession)
    case = cases.create_case(fsession, BIRTH_REGISTRATION, profile)
    dept = Actor.of_department(case.department)
    cases.sign(fsession, case, dept)
    fsession.commit()
    with pytest.raises(InvalidInput):
        cases.request_supplements(fsession, case, dept, [])
    with pytest.raises(InvalidInput):
        cases.request_supplements(fsession, case, dept, ["  "])
    with pytest.raises(InvalidInput):
        cases.complete(fsession, case, dept, "不通过", approved=False, tolerated=["x"])
    assert case.status == 1 and [e.action for e in case.events] == ["file", "dispatch", "sign"]


def test_track_needs_the_right_number_and_digits_and_stops_guessing(fsession):
    profile, _, phone = make_profile(fsession)
    case = cases.create_case(fsession, BIRTH_REGISTRATION, profile)
    fsession.commit()
    view = cases.track(fsession, case.number, phone[-4:])
    assert view["number"] == case.number and view["status_text"] and view["due_date"] and "missing" in view
    assert "*" in view["applicant"]["id_number"]
    wrong = "0000" if phone[-4:] != "0000" else "1111"
    unknown = case.number[:-6] + "999999"
    assert cases.track(fsession, unknown, phone[-4:]) is None
    assert cases.track(fsession, "not a number", phone[-4:]) is None
    assert cases.track(fsession, case.number, "12") is None
    settings = FilingSettings(tracking_max_failures=3)
    for _ in range(3):
        assert cases.track(fsession, case.number, wrong, settings=settings) is None
    # Locked for the hour, even with the right digits; the same answer as a wrong number.
    assert cases.track(fsession, case.number, phone[-4:], settings=settings) is None
    later = datetime.utcnow() + timedelta(hours=2)
    assert cases.track(fsession, case.number, phone[-4:], settings=settings, now=later) is not None


def test_recent_filings_of_a_conversation(fsession):
    profile, _, _ = make_profile(fsession)
    case = cases.create_case(fsession, BIRTH_REGISTRATION, profile, channel="webchat", recipient="recent-1")
    filing = cases.create_bundle_filing(fsession, "retirement", profile, channel="webchat", recipient="recent-1")
    found = cases.recent_filings(fsession, "webchat", "recent-1")
    assert {f["number"] for f in found} == {case.number, filing.number}
    assert cases.recent_filings(fsession, "webchat", "someone-else") == []


def test_withdraw_picks_the_right_code(fsession):
    profile, _, _ = make_profile(fsession)
    early = cases.create_case(fsession, BIRTH_REGISTRATION, profile)
    cases.withdraw(fsession, early, Actor.citizen("webchat"))
    late = cases.create_case(fsession, BIRTH_REGISTRATION, profile)
    dept = Actor.of_department(late.department)
    cases.sign(fsession, late, dept)
    cases.accept(fsession, late, dept)
    cases.withdraw(fsession, late, Actor.citizen("webchat"), "不需要了")
    assert (early.status, late.status) == (2, 14)


def test_department_queue_filters(fsession):
    profile, _, _ = make_profile(fsession)
    case = cases.create_case(fsession, BIRTH_CERTIFICATE, profile, now=local_noon(date(2026, 1, 5)))
    fsession.commit()
    queue = cases.department_queue(fsession, case.department, due="overdue", limit=500)
    assert case in queue
    assert case not in cases.department_queue(fsession, case.department, due="normal", limit=500)
    assert case not in cases.department_queue(fsession, case.department, status=[3], limit=500)
    with pytest.raises(InvalidInput):
        cases.department_queue(fsession, case.department, due="purple")
    view = cases.case_view(case, for_department=True)
    assert view["colour"] == "red" and view["actions"] == ["sign"] and view["history"]
