"""好差评: five levels, once per outcome; a bad rating opens a follow-up work order."""
from __future__ import annotations

import pytest
from sqlalchemy import select

from filings import cases, ratings, workorders
from filings.cases import Actor
from filings.errors import InvalidInput, NotFound
from filings.models import WorkOrder
from filings_helpers import BIRTH_REGISTRATION, make_profile


@pytest.mark.parametrize(
    "text, level",
    [("非常满意", 5), ("满意", 4), ("基本满意", 3), ("不满意", 2), ("非常不满意", 1), ("我觉得非常不满意！", 1),
     ("5", 5), ("五星", 5), ("1分", 1), (3, 3), ("还行吧", None), ("6", None), ("", None)],
)
def test_parse_rating(text, level):
    assert ratings.parse_rating(text) == level


def _completed_case(session, recipient):
    profile, _, _ = make_profile(session)
    case = cases.create_case(session, BIRTH_REGISTRATION, profile, channel="webchat", recipient=recipient)
    dept = Actor.of_department(case.department)
    cases.sign(session, case, dept)
    cases.accept(session, case, dept)
    cases.complete(session, case, dept, "居民户口簿")
    session.commit()
    return case


def test_a_good_rating_opens_nothing(fsession):
    case = _completed_case(fsession, "rate-good")
    assert ratings.pending_rating(fsession, "webchat", "rate-good") == {
        "kind": "case", "number": case.number, "name": case.service.name}
    rating = ratings.rate(fsession, case.number, "满意", channel="webchat", recipient="rate-good")
    fsession.commit()
    assert (rating.level, rating.label, rating.followup) == (4, "满意", None)
    assert ratings.pending_rating(fsession, "webchat", "rate-good") is None
    with pytest.raises(InvalidInput) as raised:
        ratings.rate(fsession, case.number, 5)
    assert raised.value.code == "already_rated"


@pytest.mark.parametrize("level", ["不满意", "非常不满意"])
def test_a_bad_rating_opens_a_follow_up_for_the_department(fsession, level):
    case = _completed_case(fsession, f"rate-bad-{level}")
    rating = ratings.rate(fsession, case.number, level, comment="等了很久，窗口态度差",
                          channel="webchat", recipient=f"rate-bad-{level}")
    fsession.commit()
    order = rating.followup
    assert order is not None and order.kind == "rating_followup" and order.status == "dispatched"
    assert order.department_id == case.department_id and order.case_id == case.id and order.routed_by == "case"
    assert level in order.text and "态度差" in order.text and case.number in order.text
    assert order.due_date > case.filed_at.date() and order.channel == "webchat"
    assert [e.action for e in order.events] == ["file", "dispatch"]
    # Tracked like a case: the department answers, the citizen is asked whether it is settled.
    dept = Actor.of_department(case.department)
    workorders.sign_order(fsession, order, dept)
    workorders.reply_order(fsession, order, dept, "已致电申请人说明情况，并对窗口人员进行了培训。")
    fsession.commit()
    assert workorders.awaiting_response(fsession, "webchat", f"rate-bad-{level}") is order
    workorders.respond_to_reply(fsession, order, True, Actor.citizen("webchat"))
    assert order.status == "closed"


def test_only_outcomes_can_be_rated_and_only_from_the_filing_conversation(fsession):
    profile, _, _ = make_profile(fsession)
    open_case = cases.create_case(fsession, BIRTH_REGISTRATION, profile, channel="webchat", recipient="r-open")
    with pytest.raises(InvalidInput) as raised:
        ratings.rate(fsession, open_case.number, 5)
    assert raised.value.code == "not_rateable"
    case = _completed_case(fsession, "r-own")
    with pytest.raises(NotFound):
        ratings.rate(fsession, case.number, 1, channel="webchat", recipient="someone-else")
    with pytest.raises(NotFound):
        ratings.rate(fsession, "LG20990101-000001", 5)
    with pytest.raises(InvalidInput):
        ratings.rate(fsession, case.number, "还行")
    assert fsession.execute(select(WorkOrder).where(WorkOrder.case_id == case.id)).first() is None


def test_a_bundle_is_rated_as_a_whole_and_a_bad_rating_goes_to_the_lead(fsession):
    profile, _, _ = make_profile(fsession)
    filing = cases.create_bundle_filing(fsession, "retirement", profile, channel="webchat", recipient="r-bundle")
    with pytest.raises(InvalidInput):
        ratings.rate(fsession, filing.number, 5)
    for case in filing.cases:
        dept = Actor.of_department(case.department)
        cases.sign(fsession, case, dept)
        cases.accept(fsession, case, dept)
        cases.complete(fsession, case, dept, "已办结")
    fsession.commit()
    assert ratings.pending_rating(fsession, "webchat", "r-bundle")["number"] == filing.number
    rating = ratings.rate(fsession, filing.number, "非常不满意", channel="webchat", recipient="r-bundle")
    fsession.commit()
    assert rating.bundle_filing_id == filing.id
    assert rating.followup.department_id == filing.bundle.lead_department_id
    assert rating.followup.bundle_filing_id == filing.id
