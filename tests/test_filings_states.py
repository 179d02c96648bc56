"""Every legal and every illegal transition of the case and work-order state machines, on the
pure tables and on real cases (an illegal action changes nothing)."""
from __future__ import annotations

import pytest

from filings import cases, workorders
from filings.cases import Actor
from filings.errors import Forbidden, IllegalTransition, InvalidInput
from filings.lookup import department_by_code
from filings.models import Case
from filings.states import (
    CASE_TRANSITIONS,
    CASES,
    CITIZEN,
    DEPARTMENT,
    ORDER_STATUS_NAMES,
    ORDER_TRANSITIONS,
    STATUS_NAMES,
    SYSTEM,
    WORK_ORDERS,
)
from filings_helpers import BIRTH_REGISTRATION, make_profile

# Every state a case can be in: (status, signed), and how to get there from a new case.
PATHS = {
    (1, False): [],
    (1, True): ["sign"],
    (2, False): ["withdraw"],
    (3, True): ["sign", "accept"],
    (4, True): ["sign", "not_required"],
    (5, True): ["sign", "reject"],
    (6, True): ["sign", "request_supplements"],
    (7, True): ["sign", "request_supplements", "supplements_done"],
    (8, True): ["sign", "accept", "start"],
    (9, True): ["sign", "accept", "special_start"],
    (10, True): ["sign", "accept", "special_start", "special_end"],
    (11, True): ["sign", "accept", "complete_approved"],
    (12, True): ["sign", "accept", "complete_tolerated"],
    (13, True): ["sign", "accept", "complete_denied"],
    (14, True): ["sign", "accept", "retract"],
    (15, True): ["sign", "accept", "complete_approved", "revoke"],
}
STATES = list(PATHS)


def test_every_status_code_is_reachable_and_named():
    assert {status for status, _ in STATES} == set(range(1, 16)) == set(STATUS_NAMES)
    targets = {t.target for t in CASE_TRANSITIONS if t.target is not None}
    assert targets == set(range(2, 16))


@pytest.mark.parametrize("action", CASES.actions)
@pytest.mark.parametrize("state", STATES, ids=lambda s: f"{s[0]}{'s' if s[1] else ''}")
def test_the_pure_table(action, state):
    status, signed = state
    t = CASES.transition(action)
    legal = status in t.sources and (t.signed is None or t.signed == signed)
    assert CASES.is_legal(action, status, signed) == legal
    actor = sorted(t.actors)[0]
    if legal:
        assert CASES.check(action, status, actor, signed) is t
    else:
        with pytest.raises(IllegalTransition) as raised:
            CASES.check(action, status, actor, signed)
        assert raised.value.status == 409 and raised.value.message and raised.value.detail


def test_the_wrong_actor_is_refused():
    with pytest.raises(Forbidden):
        CASES.check("accept", 1, CITIZEN, signed=True)
    with pytest.raises(Forbidden):
        CASES.check("withdraw", 1, DEPARTMENT)
    with pytest.raises(Forbidden):
        WORK_ORDERS.check("reassign", "returned", DEPARTMENT)
    with pytest.raises(InvalidInput):
        CASES.check("teleport", 1, SYSTEM)


def test_allowed_actions_for_the_department_screen():
    assert CASES.allowed(1, DEPARTMENT, signed=False) == ["sign"]
    assert set(CASES.allowed(1, DEPARTMENT, signed=True)) == {"accept", "not_required", "reject", "request_supplements"}
    assert CASES.allowed(13, DEPARTMENT, signed=True) == []


# -- on real cases ----------------------------------------------------------------------------------
def _do(session, case, action):
    dept = Actor.of_department(case.department, "测试员")
    applicant = Actor.desk("test")
    if action == "sign":
        return cases.sign(session, case, dept)
    if action == "accept":
        return cases.accept(session, case, dept)
    if action == "not_required":
        return cases.reject(session, case, dept, "申请事项依法不需要办理", not_required=True)
    if action == "reject":
        return cases.reject(session, case, dept, "不符合受理条件")
    if action == "request_supplements":
        return cases.request_supplements(session, case, dept, ["出生医学证明"])
    if action == "supplements_done":
        return cases.supplements_done(session, case, dept)
    if action == "start":
        return cases.start(session, case, dept)
    if action == "special_start":
        return cases.special_start(session, case, dept, "专家评审")
    if action == "special_end":
        return cases.special_end(session, case, dept)
    if action == "complete_approved":
        return cases.complete(session, case, dept, "户口簿")
    if action == "complete_tolerated":
        return cases.complete(session, case, dept, "户口簿", tolerated=["出生医学证明"])
    if action == "complete_denied":
        return cases.complete(session, case, dept, "材料不真实", approved=False)
    if action == "withdraw":
        return cases.apply_action(session, case, "withdraw", applicant)
    if action == "retract":
        return cases.apply_action(session, case, "retract", applicant)
    if action == "revoke":
        return cases.revoke(session, case, dept, "以欺骗手段取得")
    raise AssertionError(action)


def _case_in(session, state) -> Case:
    profile, _, _ = make_profile(session)
    case = cases.create_case(session, BIRTH_REGISTRATION, profile, channel="webchat", recipient="r1")
    for action in PATHS[state]:
        _do(session, case, action)
    assert (case.status, case.signed_at is not None) == state
    return case


@pytest.mark.parametrize("action", CASES.actions)
@pytest.mark.parametrize("state", STATES, ids=lambda s: f"{s[0]}{'s' if s[1] else ''}")
def test_every_transition_on_a_real_case(fsession, action, state):
    case = _case_in(fsession, state)
    fsession.commit()
    t = CASES.transition(action)
    legal = CASES.is_legal(action, *state)
    before = (case.status, case.signed_at, case.version, len(case.events), case.due_date,
              [(m.name, m.status) for m in case.materials])
    if legal:
        _do(fsession, case, action)
        fsession.commit()
        expected = t.target if t.target is not None else state[0]
        assert case.status == expected
        last = case.events[-1]
        assert (last.action, last.from_status, last.to_status) == (action, state[0], expected)
        assert last.actor and last.actor_kind in t.actors and last.at is not None
    else:
        with pytest.raises(IllegalTransition):
            _do(fsession, case, action)
        fsession.rollback()
        fsession.refresh(case)
        after = (case.status, case.signed_at, case.version, len(case.events), case.due_date,
                 [(m.name, m.status) for m in case.materials])
        assert after == before


def test_history_rows_cannot_be_changed_or_deleted(fsession):
    case = _case_in(fsession, (3, True))
    fsession.commit()
    event = case.events[0]
    event.note = "rewritten"
    with pytest.raises(RuntimeError, match="append-only"):
        fsession.flush()
    fsession.rollback()
    fsession.delete(case.events[0])
    with pytest.raises(RuntimeError, match="append-only"):
        fsession.flush()
    fsession.rollback()


def test_a_reason_is_required_where_the_table_says_so(fsession):
    case = _case_in(fsession, (1, True))
    with pytest.raises(InvalidInput) as raised:
        cases.reject(fsession, case, Actor.of_department(case.department), "   ")
    assert raised.value.code == "reason_required" and case.status == 1


def test_another_departments_case_is_not_found(fsession):
    from filings.errors import NotFound

    case = _case_in(fsession, (1, False))
    other = department_by_code(fsession, "LG-SB")
    with pytest.raises(NotFound):
        cases.sign(fsession, case, Actor.of_department(other))
    assert case.signed_at is None


# -- work orders ------------------------------------------------------------------------------------
ORDER_PATHS = {
    "dispatched": [],
    "signed": ["sign"],
    "replied": ["sign", "reply"],
    "returned": ["return"],
    "closed": ["sign", "reply", "close"],
}


def _order_do(session, order, action):
    dept = Actor.of_department(order.department)
    coordinating = Actor("coordinating", "LG-ZSJ", department_by_code(session, "LG-ZSJ").id)
    if action == "sign":
        return workorders.sign_order(session, order, dept)
    if action == "reply":
        return workorders.reply_order(session, order, dept, "已核实并整改。")
    if action == "return":
        return workorders.return_order(session, order, dept, "不属于本部门职责")
    if action == "reassign":
        return workorders.reassign_order(session, order, coordinating, "LG-SB")
    if action == "close":
        return workorders.close_order(session, order, dept)
    if action == "reopen":
        return workorders.respond_to_reply(session, order, False, Actor.citizen("webchat"))
    raise AssertionError(action)


def test_every_order_status_is_covered():
    assert set(ORDER_PATHS) == set(ORDER_STATUS_NAMES)
    assert {t.action for t in ORDER_TRANSITIONS} == set(WORK_ORDERS.actions)


@pytest.mark.parametrize("action", WORK_ORDERS.actions)
@pytest.mark.parametrize("status", list(ORDER_PATHS))
def test_every_order_transition(fsession, action, status):
    department = department_by_code(fsession, "LG-MZ")
    order = workorders.create_order(fsession, "complaint", "窗口办事太慢", department, "mention",
                                    actor=Actor.citizen("webchat"), channel="webchat", recipient="o1")
    for step in ORDER_PATHS[status]:
        _order_do(fsession, order, step)
    fsession.commit()
    t = WORK_ORDERS.transition(action)
    events = len(order.events)
    if status in t.sources:
        _order_do(fsession, order, action)
        fsession.commit()
        assert order.status == t.target and order.events[-1].action == action
    else:
        with pytest.raises(IllegalTransition):
            _order_do(fsession, order, action)
        fsession.rollback()
        fsession.refresh(order)
        assert order.status == status and len(order.events) == events
