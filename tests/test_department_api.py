"""The departments' API: per-department bearer tokens, the queue, every action through the state
machine (409 and nothing changed when illegal), other departments' cases invisible."""
from __future__ import annotations

from urllib.parse import quote

import httpx
import pytest

from database import make_session
from desk.app import create_app
from filings import cases, tokens, workorders
from filings.cases import Actor
from filings.lookup import department_by_code, find_case
from filings_helpers import BIRTH_REGISTRATION, make_profile


@pytest.fixture(scope="module")
def tokens_by_code(filings_url):
    with make_session(filings_url) as session:
        issued = {code: tokens.issue_token(session, code) for code in ("LG-GA", "LG-SB", "LG-ZSJ", "LG-MZ")}
        session.commit()
    return issued


@pytest.fixture
async def client(filings_url, monkeypatch):
    monkeypatch.setenv("ONEWINDOW_SWEEP_INTERVAL", "0")
    app = create_app(filings_url)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://desk") as client:
        yield client


def _auth(token, operator=None):
    headers = {"Authorization": f"Bearer {token}"}
    if operator:
        headers["X-Operator"] = quote(operator)
    return headers


def _new_case(filings_url, recipient="api-1") -> str:
    with make_session(filings_url) as session:
        profile, _, _ = make_profile(session)
        case = cases.create_case(session, BIRTH_REGISTRATION, profile, channel="webchat", recipient=recipient)
        session.commit()
        return case.number


def _status(filings_url, number):
    with make_session(filings_url) as session:
        case = find_case(session, number)
        return case.status, case.signed_at is not None, len(case.events), case.version


@pytest.mark.parametrize("headers", [{}, {"Authorization": "Bearer owd_forged"}, {"Authorization": "Basic abc"},
                                     {"Authorization": "Bearer "}])
async def test_missing_or_forged_tokens_are_401(client, tokens_by_code, headers):
    for path in ("/api/v1/department/me", "/api/v1/department/cases", "/api/v1/department/workorders"):
        response = await client.get(path, headers=headers)
        assert response.status_code == 401, path
        error = response.json()["error"]
        assert error["code"] in ("unauthorized", "invalid_token") and error["message"]
        assert response.headers["www-authenticate"].startswith("Bearer")


async def test_a_revoked_token_is_401(client, filings_url):
    with make_session(filings_url) as session:
        token = tokens.issue_token(session, "LG-YB")
        session.commit()
    assert (await client.get("/api/v1/department/me", headers=_auth(token))).json()["code"] == "LG-YB"
    with make_session(filings_url) as session:
        tokens.revoke_tokens(session, "LG-YB")
        session.commit()
    assert (await client.get("/api/v1/department/me", headers=_auth(token))).status_code == 401


async def test_tokens_are_stored_hashed(filings_url, tokens_by_code):
    with make_session(filings_url) as session:
        rows = tokens.list_tokens(session, "LG-GA")
        assert rows and all(tokens_by_code["LG-GA"] not in (r.token_hash, r.prefix) for r in rows)


async def test_another_departments_case_is_404(client, filings_url, tokens_by_code):
    number = _new_case(filings_url)
    before = _status(filings_url, number)
    other = _auth(tokens_by_code["LG-SB"])
    assert (await client.get(f"/api/v1/department/cases/{number}", headers=other)).status_code == 404
    response = await client.post(f"/api/v1/department/cases/{number}/sign", headers=other)
    assert response.status_code == 404 and response.json()["error"]["code"] == "case_not_found"
    assert _status(filings_url, number) == before
    listed = (await client.get("/api/v1/department/cases", params={"limit": 500}, headers=other)).json()["cases"]
    assert number not in {c["number"] for c in listed}


async def test_the_whole_flow_through_the_api(client, filings_url, tokens_by_code):
    number = _new_case(filings_url, "api-flow")
    ga = _auth(tokens_by_code["LG-GA"], "张警官")
    queue = (await client.get("/api/v1/department/cases", params={"status": 1, "limit": 500}, headers=ga)).json()
    assert number in {c["number"] for c in queue["cases"]} and queue["department"] == "LG-GA"
    detail = (await client.get(f"/api/v1/department/cases/{number}", headers=ga)).json()
    assert detail["actions"] == ["sign"] and len(detail["applicant"]["id_number"]) == 18
    assert detail["history"][0]["action"] == "file"

    signed = await client.post(f"/api/v1/department/cases/{number}/sign", headers=ga)
    assert signed.status_code == 200 and signed.json()["signed"]
    assert signed.json()["history"][-1]["actor"] == "LG-GA:张警官"
    supplements = await client.post(f"/api/v1/department/cases/{number}/supplements", headers=ga,
                                    json={"missing": ["出生医学证明", "父母户口簿"], "note": "请补交原件"})
    assert supplements.status_code == 200 and supplements.json()["status"] == 6
    assert set(supplements.json()["missing"]) >= {"出生医学证明", "父母户口簿"}
    done = await client.post(f"/api/v1/department/cases/{number}/supplements-done", headers=ga)
    assert done.status_code == 200 and done.json()["status"] == 7
    accepted = await client.post(f"/api/v1/department/cases/{number}/accept", headers=ga, json={"note": "材料齐全"})
    assert accepted.json()["status"] == 3
    assert (await client.post(f"/api/v1/department/cases/{number}/start", headers=ga)).json()["status"] == 8
    completed = await client.post(f"/api/v1/department/cases/{number}/complete", headers=ga,
                                  json={"result": "居民户口簿", "approved": True, "tolerated": ["父母户口簿"]})
    assert completed.status_code == 200
    body = completed.json()
    assert body["status"] == 12 and body["status_name"] == "办结（容缺通过）" and body["tolerated"] == ["父母户口簿"]
    assert [h["action"] for h in body["history"]] == [
        "file", "dispatch", "sign", "request_supplements", "supplements_done", "accept", "start", "complete_tolerated"]


async def test_an_illegal_transition_is_409_and_changes_nothing(client, filings_url, tokens_by_code):
    number = _new_case(filings_url)
    ga = _auth(tokens_by_code["LG-GA"])
    before = _status(filings_url, number)
    for action, body in (("accept", None), ("complete", {"result": "x"}), ("supplements-done", None),
                         ("special-end", None), ("revoke", {"reason": "x"})):
        response = await client.post(f"/api/v1/department/cases/{number}/{action}", headers=ga, json=body)
        assert response.status_code == 409, action
        error = response.json()["error"]
        assert error["code"] == "illegal_transition" and error["message"] and error["detail"]
    assert _status(filings_url, number) == before
    await client.post(f"/api/v1/department/cases/{number}/sign", headers=ga)
    again = await client.post(f"/api/v1/department/cases/{number}/sign", headers=ga)
    assert again.status_code == 409 and "已签收" in again.json()["error"]["message"]


async def test_bad_bodies_are_422_and_change_nothing(client, filings_url, tokens_by_code):
    number = _new_case(filings_url)
    ga = _auth(tokens_by_code["LG-GA"])
    await client.post(f"/api/v1/department/cases/{number}/sign", headers=ga)
    before = _status(filings_url, number)
    for action, body in (("reject", {}), ("reject", {"reason": "   "}), ("supplements", {"missing": []}),
                         ("complete", {"approved": True}), ("special-start", {})):
        response = await client.post(f"/api/v1/department/cases/{number}/{action}", headers=ga, json=body)
        assert response.status_code == 422, (action, body)
        assert response.json()["error"]["message"]
    assert _status(filings_url, number) == before
    rejected = await client.post(f"/api/v1/department/cases/{number}/reject", headers=ga,
                                 json={"reason": "申请事项依法不需要办理", "not_required": True})
    assert rejected.json()["status"] == 4


async def test_queue_filters(client, filings_url, tokens_by_code):
    ga = _auth(tokens_by_code["LG-GA"])
    for due in ("green", "yellow", "red", "paused", "overdue"):
        assert (await client.get("/api/v1/department/cases", params={"due": due}, headers=ga)).status_code == 200
    assert (await client.get("/api/v1/department/cases", params={"due": "blue"}, headers=ga)).status_code == 422
    assert (await client.get("/api/v1/department/cases", params={"status": 99}, headers=ga)).status_code == 422


async def test_work_orders_through_the_api(client, filings_url, tokens_by_code):
    with make_session(filings_url) as session:
        order = workorders.create_order(session, "complaint", "民政窗口办事太慢", department_by_code(session, "LG-MZ"),
                                        "mention", actor=Actor.citizen("webchat"), channel="webchat", recipient="api-wo")
        session.commit()
        number = order.number
    mz, sb, zsj = (_auth(tokens_by_code[c]) for c in ("LG-MZ", "LG-SB", "LG-ZSJ"))
    listed = (await client.get("/api/v1/department/workorders", params={"limit": 500}, headers=mz)).json()
    assert number in {o["number"] for o in listed["workorders"]}
    assert (await client.get(f"/api/v1/department/workorders/{number}", headers=sb)).status_code == 404
    assert (await client.post(f"/api/v1/department/workorders/{number}/reply", headers=mz,
                              json={"reply": "已处理"})).status_code == 409  # sign first
    assert (await client.post(f"/api/v1/department/workorders/{number}/sign", headers=mz)).json()["status"] == "signed"
    returned = await client.post(f"/api/v1/department/workorders/{number}/return", headers=mz, json={"reason": "不归我们管"})
    assert returned.json()["status"] == "returned"
    forbidden = await client.post(f"/api/v1/department/workorders/{number}/reassign", headers=mz, json={"department": "LG-SB"})
    assert forbidden.status_code == 403
    detail = (await client.get(f"/api/v1/department/workorders/{number}", headers=zsj)).json()
    assert "reassign" in detail["actions"]
    reassigned = await client.post(f"/api/v1/department/workorders/{number}/reassign", headers=zsj,
                                   json={"department": "LG-SB", "note": "属社保职责"})
    assert reassigned.status_code == 200 and reassigned.json()["department"]["code"] == "LG-SB"
    await client.post(f"/api/v1/department/workorders/{number}/sign", headers=sb)
    replied = await client.post(f"/api/v1/department/workorders/{number}/reply", headers=sb, json={"reply": "已优化流程"})
    assert replied.json()["status"] == "replied"
    closed = await client.post(f"/api/v1/department/workorders/{number}/close", headers=sb, json={"note": "回访满意"})
    assert closed.json()["status"] == "closed"


async def test_the_api_is_documented(client):
    schema = (await client.get("/openapi.json")).json()
    for path in ("/api/v1/department/cases", "/api/v1/department/cases/{number}/complete",
                 "/api/v1/department/workorders/{number}/reply"):
        assert path in schema["paths"], path
