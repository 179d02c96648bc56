"""The staff desk's case desk (/api/v1/staff/cases): who sees what, the actions through the state
machine with the officer's name in the history, the coordinator's attention view, work orders,
and the action table shared with the departments' API."""
from __future__ import annotations

from datetime import datetime, timedelta

import httpx
import pytest

from database import make_session
from database.engine import get_engine
from desk.app import create_app
from desk.filing_actions import CASE_ACTIONS, ORDER_ACTIONS, available
from filings import cases, sweep, workorders
from filings.calendar import default_calendar, local_today
from filings.cases import Actor
from filings.lookup import department_by_code, find_case, find_order
from filings.states import CASE_TRANSITIONS, DEPARTMENT, ORDER_TRANSITIONS
from catalogue_helpers import catalogue_database
from filings_helpers import BIRTH_CERTIFICATE, BIRTH_REGISTRATION, make_profile
from staff_helpers import CSRF, make_staff, staff_client
from staffdesk.cases_api import sign_cutoff

API = "/api/v1/staff/cases"


@pytest.fixture(scope="module")
def cases_url(tmp_path_factory):
    """A database of its own: these tests sweep and count across all departments."""
    url = catalogue_database(tmp_path_factory.mktemp("staff-cases"), "cases.db")
    yield url
    get_engine(url).dispose()


@pytest.fixture
def app(cases_url, monkeypatch):
    monkeypatch.setenv("ONEWINDOW_SWEEP_INTERVAL", "0")
    return create_app(cases_url)


def _new_case(url, service=BIRTH_REGISTRATION):
    """A case filed through the assistant; returns (number, the applicant's clear ID number)."""
    with make_session(url) as session:
        profile, id_number, _ = make_profile(session)
        case = cases.create_case(session, service, profile, channel="webchat", recipient=f"staff-{id_number[-6:]}")
        session.commit()
        return case.number, id_number


def _state(url, number):
    with make_session(url) as session:
        case = find_case(session, number)
        return case.status, case.signed_at is not None, len(case.events), case.version


def _make_overdue(url, number, days_late):
    """Move the case's dates into the past, as if its time limit had run out `days_late` days ago."""
    with make_session(url) as session:
        case = find_case(session, number)
        case.due_date = local_today() - timedelta(days=days_late)
        case.warn_date = case.due_date - timedelta(days=2)
        session.commit()


async def test_role_checks(app, cases_url):
    number, _ = _new_case(cases_url)
    async with staff_client(app) as anonymous:
        for method, path in (("GET", API), ("GET", f"{API}/attention"), ("GET", f"{API}/{number}"),
                             ("POST", f"{API}/{number}/sign"), ("GET", f"{API}/workorders")):
            response = await anonymous.request(method, path)
            assert response.status_code == 401, path
            assert response.json()["error"]["message"]
    async with staff_client(app, make_staff(cases_url, "clerk")) as clerk:
        for method, path in (("GET", API), ("GET", f"{API}/{number}"), ("POST", f"{API}/{number}/sign"),
                             ("GET", f"{API}/attention")):
            response = await clerk.request(method, path)
            assert response.status_code == 403 and response.json()["error"]["code"] == "forbidden", path
    async with staff_client(app, make_staff(cases_url, "officer", "LG-GA")) as officer:
        without_header = await officer.post(f"{API}/{number}/sign", headers={"X-Requested-With": ""})
        assert without_header.status_code == 403 and without_header.json()["error"]["code"] == "csrf"
        attention = await officer.get(f"{API}/attention")
        assert attention.status_code == 403
    assert _state(cases_url, number)[:2] == (1, False)


async def test_an_officer_sees_only_their_department(app, cases_url):
    ga_case, id_number = _new_case(cases_url)
    wj_case, _ = _new_case(cases_url, BIRTH_CERTIFICATE)  # 卫健局
    before = _state(cases_url, wj_case)
    async with staff_client(app, make_staff(cases_url, "officer", "LG-GA")) as officer:
        queue = (await officer.get(API, params={"limit": 500})).json()
        numbers = {c["number"] for c in queue["cases"]}
        assert ga_case in numbers and wj_case not in numbers
        assert queue["department"]["code"] == "LG-GA" and {c["department"]["code"] for c in queue["cases"]} == {"LG-GA"}
        detail = await officer.get(f"{API}/{ga_case}")
        assert detail.status_code == 200 and detail.json()["applicant"]["id_number"] == id_number  # handling: clear
        for method, path in (("GET", f"{API}/{wj_case}"), ("POST", f"{API}/{wj_case}/sign")):
            response = await officer.request(method, path)
            assert response.status_code == 404 and response.json()["error"]["code"] == "case_not_found", path
        assert (await officer.get(API, params={"department": "LG-WJ"})).status_code == 403
        picker = (await officer.get(f"{API}/departments")).json()["departments"]
        assert [d["code"] for d in picker] == ["LG-GA"]
    assert _state(cases_url, wj_case) == before


async def test_coordinators_and_admins_read_everything_masked_and_act_only_where_the_state_machine_lets_them(app, cases_url):
    ga_case, id_number = _new_case(cases_url)
    wj_case, _ = _new_case(cases_url, BIRTH_CERTIFICATE)
    before = _state(cases_url, ga_case)
    for role in ("coordinator", "admin"):
        async with staff_client(app, make_staff(cases_url, role)) as client:
            every = {c["number"] for c in (await client.get(API, params={"limit": 500})).json()["cases"]}
            assert {ga_case, wj_case} <= every
            ga_only = (await client.get(API, params={"department": "LG-GA", "limit": 500})).json()
            assert ga_case in {c["number"] for c in ga_only["cases"]} and wj_case not in {c["number"] for c in ga_only["cases"]}
            assert (await client.get(API, params={"department": "NO-SUCH"})).status_code == 404
            detail = (await client.get(f"{API}/{ga_case}")).json()
            assert detail["applicant"]["id_number"] != id_number and "*" in detail["applicant"]["id_number"]
            assert "*" in detail["applicant"]["phone"]
            assert detail["actions"] == [] and not detail["viewer"]["handling"] and detail["viewer"]["note"]
            assert [h["action"] for h in detail["history"]] == ["file", "dispatch"]
            refused = await client.post(f"{API}/{ga_case}/sign")
            assert refused.status_code == 403 and refused.json()["error"]["message"]
            assert len((await client.get(f"{API}/departments")).json()["departments"]) >= 20
    assert _state(cases_url, ga_case) == before


async def test_an_officer_signs_accepts_and_completes_with_their_name_in_the_history(app, cases_url):
    number, _ = _new_case(cases_url)
    async with staff_client(app, make_staff(cases_url, "officer", "LG-GA", name="张警官")) as officer:
        detail = (await officer.get(f"{API}/{number}")).json()
        assert [a["name"] for a in detail["actions"]] == ["sign"] and detail["actions"][0]["label"] == "签收"
        assert detail["colour"] == "green" and detail["due_state_name"] == "正常"
        signed = await officer.post(f"{API}/{number}/sign")
        assert signed.status_code == 200, signed.text
        body = signed.json()
        assert body["signed"] and body["signed_by"] == "LG-GA:张警官"
        assert [a["name"] for a in body["actions"]] == ["accept", "reject", "supplements"]
        last = body["history"][-1]
        assert last["actor"] == "LG-GA:张警官" and last["actor_label"] == "公安分局 · 张警官" and last["action_label"] == "签收"
        accepted = (await officer.post(f"{API}/{number}/accept", json={"note": "材料齐全"})).json()
        assert accepted["status"] == 3 and accepted["status_name"] == "已受理"
        assert accepted["history"][-1]["status_change"] == "已接件 → 已受理"
        completed = await officer.post(f"{API}/{number}/complete", json={"result": "居民户口簿", "approved": True})
        assert completed.status_code == 200, completed.text
        body = completed.json()
        assert body["status"] == 11 and body["actions"] == [{"name": "revoke", "label": "撤销"}]
        assert [(h["action"], h["actor"]) for h in body["history"][2:]] == [
            ("sign", "LG-GA:张警官"), ("accept", "LG-GA:张警官"), ("complete_approved", "LG-GA:张警官")]
        queue = (await officer.get(API, params={"limit": 500})).json()
        assert number not in {c["number"] for c in queue["cases"]}  # closed: out of the open queue
        closed = (await officer.get(API, params={"include_closed": True, "limit": 500})).json()
        assert number in {c["number"] for c in closed["cases"]}
    assert _state(cases_url, number)[0] == 11


async def test_supplements_and_a_refusal_through_the_desk(app, cases_url):
    number, _ = _new_case(cases_url)
    other, _ = _new_case(cases_url)
    async with staff_client(app, make_staff(cases_url, "officer", "LG-GA", name="王科员")) as officer:
        for n in (number, other):
            await officer.post(f"{API}/{n}/sign")
        asked = (await officer.post(f"{API}/{number}/supplements",
                                    json={"missing": ["出生医学证明"], "note": "请补交原件"})).json()
        assert asked["status"] == 6 and asked["due_state"] == "paused" and asked["colour"] == "grey"
        assert "出生医学证明" in asked["missing"]
        assert [a["name"] for a in asked["actions"]] == ["supplements-done"]
        paused = (await officer.get(API, params={"due": "grey", "limit": 500})).json()
        assert number in {c["number"] for c in paused["cases"]} and paused["counts"]["paused"] >= 1
        done = (await officer.post(f"{API}/{number}/supplements-done", json={"submitted": ["出生医学证明"]})).json()
        assert done["status"] == 7
        refused = (await officer.post(f"{API}/{other}/reject",
                                      json={"reason": "申请事项依法不需要办理", "not_required": True})).json()
        assert refused["status"] == 4 and refused["reason"] == "申请事项依法不需要办理"


async def test_an_illegal_action_is_409_and_a_bad_body_422_and_nothing_changes(app, cases_url):
    number, _ = _new_case(cases_url)
    before = _state(cases_url, number)
    async with staff_client(app, make_staff(cases_url, "officer", "LG-GA")) as officer:
        for action, body in (("accept", None), ("start", None), ("complete", {"result": "x"}),
                             ("revoke", {"reason": "x"}), ("special-end", None)):
            response = await officer.post(f"{API}/{number}/{action}", json=body)
            assert response.status_code == 409, action
            error = response.json()["error"]
            assert error["code"] == "illegal_transition" and error["message"], action
        assert _state(cases_url, number) == before
        await officer.post(f"{API}/{number}/sign")
        signed = _state(cases_url, number)
        again = await officer.post(f"{API}/{number}/sign")
        assert again.status_code == 409 and "已签收" in again.json()["error"]["message"]
        for action, body in (("reject", {}), ("reject", {"reason": "   "}), ("supplements", {"missing": []}),
                             ("complete", {"approved": True}), ("special-start", {})):
            response = await officer.post(f"{API}/{number}/{action}", json=body)
            assert response.status_code == 422, (action, body)
            assert response.json()["error"]["message"]
        assert _state(cases_url, number) == signed
        for params in ({"due": "blue"}, {"status": 99}):
            assert (await officer.get(API, params=params)).status_code == 422


async def test_the_coordinators_attention_view(app, cases_url):
    late, _ = _new_case(cases_url, BIRTH_CERTIFICATE)  # 卫健局
    later, _ = _new_case(cases_url)  # 公安分局, even later
    unsigned, _ = _new_case(cases_url)
    fresh, _ = _new_case(cases_url)
    _make_overdue(cases_url, late, 3)
    _make_overdue(cases_url, later, 9)
    with make_session(cases_url) as session:
        sweep.sweep(session, today=local_today())  # filings' own sweep: 逾期 and escalation
        find_case(session, unsigned).filed_at = datetime.utcnow() - timedelta(days=10)
        session.commit()
    async with staff_client(app, make_staff(cases_url, "coordinator")) as coordinator:
        view = (await coordinator.get(f"{API}/attention")).json()
        listed = [c["number"] for c in view["cases"]]
        assert {late, later, unsigned} <= set(listed) and fresh not in listed
        assert listed.index(later) < listed.index(late)  # most overdue first
        by_number = {c["number"]: c for c in view["cases"]}
        assert {r["code"] for r in by_number[late]["reasons"]} == {"overdue", "escalated"}
        assert by_number[late]["colour"] == "red" and by_number[late]["days_overdue"] == 3
        assert by_number[late]["department"]["code"] == "LG-WJ"
        assert [r["label"] for r in by_number[unsigned]["reasons"]] == ["超时未签收"]
        departments = {d["code"]: d for d in view["departments"]}
        assert departments["LG-WJ"]["overdue"] >= 1 and departments["LG-GA"]["overdue"] >= 1
        assert departments["LG-GA"]["open"] >= 3 and departments["LG-GA"]["unsigned"] >= 1
        assert view["totals"]["overdue"] >= 2 and view["totals"]["escalated"] >= 2
        overdue_queue = (await coordinator.get(API, params={"due": "red", "limit": 500})).json()
        assert {late, later} <= {c["number"] for c in overdue_queue["cases"]}
        assert overdue_queue["counts"]["overdue"] >= 2 and overdue_queue["total"] == overdue_queue["counts"]["overdue"]
        escalated = (await coordinator.get(f"{API}/{late}")).json()
        assert escalated["escalated_to"]["code"] == "LG-ZSJ"
        assert [h["action_label"] for h in escalated["history"]][-2:] == ["逾期", "逾期督办"]
        assert escalated["history"][-1]["actor_label"] == "系统（到期检查）"
    # The coordinating office's officers read the cases escalated to it, but do not work them.
    async with staff_client(app, make_staff(cases_url, "officer", "LG-ZSJ")) as office:
        mine = (await office.get(API, params={"escalated": True, "limit": 500})).json()
        assert late in {c["number"] for c in mine["cases"]}
        detail = (await office.get(f"{API}/{late}")).json()
        assert detail["actions"] == [] and "*" in detail["applicant"]["id_number"]
        assert (await office.post(f"{API}/{late}/sign")).status_code == 404


async def test_sign_cutoff_leaves_a_whole_working_day():
    calendar = default_calendar()
    # Friday 27 November 2026: cases received before Thursday have had all of Thursday to be signed.
    assert sign_cutoff(datetime(2026, 11, 27).date(), calendar) == datetime(2026, 11, 26) - timedelta(hours=8)
    # Monday 30 November: the previous working day is Friday.
    assert sign_cutoff(datetime(2026, 11, 30).date(), calendar) == datetime(2026, 11, 27) - timedelta(hours=8)


async def test_work_orders_on_the_desk(app, cases_url):
    with make_session(cases_url) as session:
        order = workorders.create_order(session, "complaint", "民政窗口办事太慢", department_by_code(session, "LG-MZ"),
                                        "mention", actor=Actor.citizen("webchat"), channel="webchat", recipient="desk-wo")
        session.commit()
        number = order.number
    mz, sb = make_staff(cases_url, "officer", "LG-MZ", name="赵科长"), make_staff(cases_url, "officer", "LG-SB")
    async with staff_client(app, mz) as officer, staff_client(app, sb) as other, \
            staff_client(app, make_staff(cases_url, "coordinator", name="钱主任")) as coordinator:
        listed = (await officer.get(f"{API}/workorders", params={"limit": 500})).json()["workorders"]
        assert number in {o["number"] for o in listed}
        assert (await other.get(f"{API}/workorders/{number}")).status_code == 404
        assert (await other.post(f"{API}/workorders/{number}/sign")).status_code == 404
        detail = (await officer.get(f"{API}/workorders/{number}")).json()
        assert [a["name"] for a in detail["actions"]] == ["sign", "return"]
        assert (await officer.post(f"{API}/workorders/{number}/reply", json={"reply": "已处理"})).status_code == 409
        signed = (await officer.post(f"{API}/workorders/{number}/sign")).json()
        assert signed["status"] == "signed" and signed["history"][-1]["actor"] == "LG-MZ:赵科长"
        assert (await officer.post(f"{API}/workorders/{number}/reassign", json={"department": "LG-SB"})).status_code == 403
        returned = (await officer.post(f"{API}/workorders/{number}/return", json={"reason": "不归我们管"})).json()
        assert returned["status"] == "returned"
        attention = (await coordinator.get(f"{API}/attention")).json()
        assert "returned" in {r["code"] for o in attention["workorders"] if o["number"] == number for r in o["reasons"]}
        seen = (await coordinator.get(f"{API}/workorders/{number}")).json()
        assert [a["name"] for a in seen["actions"]] == ["reassign"]
        reassigned = await coordinator.post(f"{API}/workorders/{number}/reassign",
                                            json={"department": "LG-SB", "note": "属社保职责"})
        assert reassigned.status_code == 200, reassigned.text
        assert reassigned.json()["department"]["code"] == "LG-SB"
        assert reassigned.json()["history"][-1]["actor"] == "LG-ZSJ:钱主任"
        # 签收 is possible now, but not the coordinating office's to do: refused, nothing changed.
        assert (await coordinator.post(f"{API}/workorders/{number}/sign")).status_code == 403
        assert (await other.post(f"{API}/workorders/{number}/sign")).json()["status"] == "signed"
    with make_session(cases_url) as session:
        assert find_order(session, number).department.code == "LG-SB"


def test_every_department_action_of_the_state_machines_has_a_button():
    for transitions, table in ((CASE_TRANSITIONS, CASE_ACTIONS), (ORDER_TRANSITIONS, ORDER_ACTIONS)):
        for t in transitions:
            if DEPARTMENT in t.actors or "coordinating" in t.actors:
                assert available(table, [t.action]), t.action
        covered = {name for action in table.values() for name in action.transitions}
        assert covered <= {t.action for t in transitions}


async def test_both_apis_offer_the_same_actions(app):
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://desk", headers=CSRF) as client:
        paths = (await client.get("/openapi.json")).json()["paths"]
    for action in CASE_ACTIONS.values():
        department = paths[f"/api/v1/department/cases/{{number}}/{action.name}"]["post"]
        staff = paths[f"{API}/{{number}}/{action.name}"]["post"]
        assert department.get("requestBody", {}).get("content") == staff.get("requestBody", {}).get("content"), action.name
    for action in ORDER_ACTIONS.values():
        assert f"/api/v1/department/workorders/{{number}}/{action.name}" in paths
        assert f"{API}/workorders/{{number}}/{action.name}" in paths
