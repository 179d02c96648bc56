"""The staff dashboard (运行统计): role checks, the figures from seeded logs, cases and ratings, and
the learning loop: a phrase the bot could not place becomes an alias of a service and search
ranks that service first at once, in the same running app, without retraining; re-importing the
catalogue keeps the alias."""
from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from sqlalchemy import select

from analytics.log import log_answer, log_unanswered, rate_last_answer
from analytics.models import UnansweredQuestion
from catalogue_helpers import DEFAULT_CATALOGUE, catalogue_database
from database import make_session
from database.engine import get_engine
from desk.app import create_app
from filings import cases, ratings
from filings.calendar import local_today
from filings.cases import Actor
from filings_helpers import BIRTH_CERTIFICATE, BIRTH_REGISTRATION, make_profile
from handoff.models import HandoffRequest
from knowledge.importers import import_path
from knowledge.models import Service, ServiceAlias
from knowledge.revision import get_revision
from staff_helpers import make_staff, staff_client

PASSPORT = "11440307MB2C10074P4440307003002"  # 普通护照签发
RESIDENCE = "11440307MB2C10037W4440307002006"  # 居住证申领
MARRIAGE = "11440307MB2C10148N4440307005001"  # 结婚登记
CAR_REGISTRATION = "11440307MB2C10111X4440307004004"  # 机动车注册登记（上牌）
LOW_INCOME = "11440307MB2C10148N5440307005003"  # 最低生活保障申请 (alias 低保)
BIRTH_CERTIFICATE_CODE = "11440307MB2C10185H4440307006002"  # 出生医学证明签发
BASE = "/api/v1/staff/dashboard"


def _new_database(path) -> str:
    return catalogue_database(path, "dashboard.db")


@pytest.fixture
def dash_url(tmp_path):
    """A database of its own (the figures count everything in it), with the default catalogue."""
    url = _new_database(tmp_path)
    yield url
    get_engine(url).dispose()


@pytest.fixture
def app(dash_url, monkeypatch):
    monkeypatch.setenv("ONEWINDOW_SWEEP_INTERVAL", "0")
    return create_app(dash_url)


def _top_codes(response) -> list:
    assert response.status_code == 200, response.text
    return [hit["code"] for hit in response.json()["results"]]


# -- who may use it ---------------------------------------------------------------------------------
async def test_only_coordinators_and_admins_may_use_the_dashboard(app, dash_url):
    routes = [("GET", f"{BASE}/figures?days=7"), ("GET", f"{BASE}/unanswered"), ("GET", f"{BASE}/services?q=护照"),
              ("GET", f"{BASE}/aliases"), ("POST", f"{BASE}/aliases"), ("DELETE", f"{BASE}/aliases/1")]
    body = {"phrase": "护照本", "service_code": PASSPORT}
    async with staff_client(app) as anonymous:
        for method, path in routes:
            response = await anonymous.request(method, path, json=body if method == "POST" else None)
            assert response.status_code == 401, (method, path)
    for role, department in (("clerk", None), ("officer", "LG-GA")):
        async with staff_client(app, make_staff(dash_url, role, department)) as client:
            for method, path in routes:
                response = await client.request(method, path, json=body if method == "POST" else None)
                assert response.status_code == 403, (role, method, path)
                assert response.json()["error"]["message"] == "您的角色无权使用“运行统计”。"
            assert "dashboard" not in (await client.get("/api/v1/staff/me")).json()["sections"]
    with make_session(dash_url) as session:
        assert session.execute(select(ServiceAlias).where(ServiceAlias.alias == "护照本")).first() is None
    for role in ("coordinator", "admin"):
        async with staff_client(app, make_staff(dash_url, role)) as client:
            for path in (f"{BASE}/figures?days=7", f"{BASE}/unanswered", f"{BASE}/services?q=护照", f"{BASE}/aliases"):
                assert (await client.get(path)).status_code == 200, (role, path)
            # changes need the CSRF header like every other staff route
            bare = await client.post(f"{BASE}/aliases", json=body, headers={"X-Requested-With": ""})
            assert bare.status_code == 403 and bare.json()["error"]["code"] == "csrf"
            assert (await client.get(f"{BASE}/figures?days=0")).status_code == 422


# -- the figures ------------------------------------------------------------------------------------
def _seed_conversations(session, now):
    def answer(conv, code, name, aspect, rating=None, at=now):
        entry = log_answer(session, conv, "webchat", f"{name}?", code, name, aspect)
        entry.answered_at = at
        session.flush()
        if rating:
            rate_last_answer(session, conv, rating, code)

    answer("c1", PASSPORT, "普通护照签发", "materials", "good")
    answer("c2", PASSPORT, "普通护照签发", "materials", "bad")
    answer("c3", PASSPORT, "普通护照签发", "fee")
    answer("c4", RESIDENCE, "居住证申领", "overview", "bad")
    answer("c5", RESIDENCE, "居住证申领", "materials")
    answer("c6", MARRIAGE, "结婚登记", "location", "good", at=now - timedelta(days=20))  # only in the 30 days

    def unanswered(conv, text, reason, at, resolved=None):
        entry = log_unanswered(session, conv, "webchat", text, reason)
        entry.asked_at, entry.resolved_service_code = at, resolved

    unanswered("u1", "绿本怎么办", "no_service", now - timedelta(hours=5))
    unanswered("u2", "绿本怎么办？", "no_service", now - timedelta(hours=1))  # the same question
    unanswered("u3", " 绿本  怎么办 ", "nlu_fallback", now - timedelta(hours=3))
    unanswered("u4", "娃娃证", "nlu_fallback", now - timedelta(minutes=30))
    unanswered("u5", "出世纸", "no_service", now - timedelta(hours=2), resolved=BIRTH_CERTIFICATE_CODE)
    unanswered("u6", "老黄历", "out_of_scope", now - timedelta(days=12))  # only in the 30 days
    session.add(HandoffRequest(conversation_id="h1", channel="webchat", reason="requested", status="waiting",
                               requested_at=now - timedelta(minutes=12), transcript=[]))
    session.add(HandoffRequest(conversation_id="h2", channel="wechat", reason="repeated_failure", status="taken",
                               requested_at=now - timedelta(hours=1), transcript=[]))


def _seed_cases(session, now):
    today = local_today()

    def new(code, **kwargs):
        profile, _, _ = make_profile(session)
        return cases.create_case(session, code, profile, channel="webchat", recipient=f"r-{profile.id}", **kwargs)

    new(BIRTH_REGISTRATION)  # 公安: normal
    new(BIRTH_REGISTRATION, now=now - timedelta(days=60))  # 公安: overdue, filed before the period
    warning = new(BIRTH_REGISTRATION)  # 公安: in the warning window
    warning.warn_date, warning.due_date = today - timedelta(days=1), today + timedelta(days=2)
    paused = new(BIRTH_REGISTRATION)  # 公安: supplements asked, the clock stopped
    police = Actor.of_department(paused.department)
    cases.sign(session, paused, police)
    cases.request_supplements(session, paused, police, ["出生医学证明"])
    done = new(BIRTH_REGISTRATION)  # 公安: completed, then rated badly
    cases.sign(session, done, police)
    cases.accept(session, done, police)
    cases.complete(session, done, police, "居民户口簿")
    other = new(BIRTH_CERTIFICATE)  # 卫健: completed, rated well
    health = Actor.of_department(other.department)
    cases.sign(session, other, health)
    cases.accept(session, other, health)
    cases.complete(session, other, health, "出生医学证明")
    new(BIRTH_CERTIFICATE)  # 卫健: normal
    session.flush()
    bad = ratings.rate(session, done.number, "非常不满意", comment="跑了两趟才办好")
    ratings.rate(session, other.number, "满意")
    return done, bad


async def test_the_figures_count_what_was_asked_answered_rated_and_filed(app, dash_url):
    now = datetime.utcnow()
    with make_session(dash_url) as session:
        _seed_conversations(session, now)
        done, bad = _seed_cases(session, now)
        session.commit()
        followup = bad.followup.number
    async with staff_client(app, make_staff(dash_url, "coordinator")) as client:
        week = (await client.get(f"{BASE}/figures?days=7")).json()
        month = (await client.get(f"{BASE}/figures?days=30")).json()
        questions = (await client.get(f"{BASE}/unanswered?days=7")).json()["questions"]
        month_questions = (await client.get(f"{BASE}/unanswered?days=30")).json()["questions"]

    assert week["period"]["days"] == 7
    assert week["questions"] == {"answered": 5, "unanswered": 5, "unresolved": 4, "answer_rate": 0.5}
    assert month["questions"]["answered"] == 6 and month["questions"]["unanswered"] == 6

    # most asked services, with their most asked aspects
    asked = week["most_asked"]
    assert [(s["code"], s["count"]) for s in asked] == [(PASSPORT, 3), (RESIDENCE, 2)]
    assert asked[0]["share"] == 0.6 and asked[0]["aspects"][0] == {"aspect": "materials", "name": "材料", "count": 2}
    assert [s["code"] for s in month["most_asked"]] == [PASSPORT, RESIDENCE, MARRIAGE]

    # the answers' ratings: overall and per service, worst first
    rated = week["answer_ratings"]
    assert (rated["answered"], rated["rated"], rated["good"], rated["bad"], rated["bad_share"]) == (5, 3, 1, 2, 0.6667)
    assert [(s["code"], s["good"], s["bad"]) for s in rated["services"]] == [(RESIDENCE, 0, 1), (PASSPORT, 1, 1)]
    assert [s["code"] for s in month["answer_ratings"]["services"]][-1] == MARRIAGE  # all good: last

    # 好差评 of the cases: the five levels, the bad one listed with its follow-up work order
    case_ratings = week["case_ratings"]
    assert case_ratings["total"] == 2 and case_ratings["bad_count"] == 1 and case_ratings["satisfied_share"] == 0.5
    assert {level["label"]: level["count"] for level in case_ratings["levels"]} == {
        "非常满意": 0, "满意": 1, "基本满意": 0, "不满意": 0, "非常不满意": 1}
    [listed] = case_ratings["bad"]
    assert listed["number"] == done.number and listed["label"] == "非常不满意" and listed["comment"] == "跑了两趟才办好"
    assert listed["followup"] == {"number": followup, "status": "dispatched"} and "公安" in listed["department"]

    # open and overdue cases per department, the department with overdue cases first
    departments = {d["code"]: d for d in week["cases"]["departments"]}
    police, health = departments["LG-GA"], departments["LG-WJ"]
    assert week["cases"]["departments"][0]["code"] == "LG-GA"
    assert {k: police[k] for k in ("open", "normal", "warning", "overdue", "paused", "filed", "closed", "state")} == {
        "open": 4, "normal": 1, "warning": 1, "overdue": 1, "paused": 1, "filed": 4, "closed": 1, "state": "overdue"}
    assert (health["open"], health["overdue"], health["closed"], health["state"]) == (1, 0, 1, "normal")
    assert week["cases"]["totals"]["open"] == 5 and week["cases"]["totals"]["overdue"] == 1

    # handoffs waiting now
    handoffs = week["handoffs"]
    assert handoffs["waiting"] == 1 and handoffs["taken"] == 1 and 11 <= handoffs["oldest_waiting_minutes"] <= 13
    assert handoffs["requested_by_reason"] == {"requested": 1, "repeated_failure": 1}

    # unanswered questions: the same words grouped, unresolved first, most asked first, resolved last
    assert [(q["text"], q["count"], q["unresolved"], q["resolved"]) for q in questions] == [
        ("绿本怎么办", 3, 3, False), ("娃娃证", 1, 1, False), ("出世纸", 1, 0, True)]
    first = questions[0]
    assert first["reason"] == "no_service" and first["reason_name"] == "未找到对应事项"
    assert first["reasons"] == {"no_service": 2, "nlu_fallback": 1} and first["example"] == "绿本怎么办？"
    assert first["last_asked_at"] == (now - timedelta(hours=1)).isoformat() + "Z"
    assert all({"code", "name", "department", "score"} <= set(s) for s in first["suggestions"])
    assert CAR_REGISTRATION not in [s["code"] for s in first["suggestions"]]  # nothing in the catalogue says 绿本
    assert questions[-1]["resolved_services"] == [{"code": BIRTH_CERTIFICATE_CODE, "name": "出生医学证明签发"}]
    assert "老黄历" not in [q["text"] for q in questions]
    assert [q["text"] for q in month_questions] == ["绿本怎么办", "娃娃证", "老黄历", "出世纸"]


# -- the learning loop ------------------------------------------------------------------------------
async def test_adding_an_alias_makes_search_find_the_service_at_once(app, dash_url):
    with make_session(dash_url) as session:
        for conv, text in (("a1", "办绿本"), ("a2", "办绿本？"), ("a3", "办 绿本")):
            log_unanswered(session, conv, "webchat", text, "no_service")
        log_unanswered(session, "a4", "webchat", "绿本", "nlu_fallback")
        log_unanswered(session, "a5", "webchat", "娃娃证", "nlu_fallback")
        session.commit()
        revision = get_revision(session)
    async with staff_client(app, make_staff(dash_url, "coordinator")) as client:
        # Before: the running app's search (the bot's search) does not know the phrase.
        assert CAR_REGISTRATION not in _top_codes(await client.get("/api/v1/services/search?q=办绿本"))[:1]
        picker = (await client.get(f"{BASE}/services?q=上牌")).json()["results"]
        assert picker[0]["code"] == CAR_REGISTRATION and picker[0]["name"] == "机动车注册登记（上牌）"
        assert all(not hit["code"].startswith("B") for hit in (await client.get(f"{BASE}/services?q=出生")).json()["results"])

        added = await client.post(f"{BASE}/aliases", json={"phrase": " 绿本？", "service_code": CAR_REGISTRATION,
                                                             "question": "办绿本"})
        assert added.status_code == 201, added.text
        result = added.json()
        assert result["alias"] == "绿本" and result["service"]["code"] == CAR_REGISTRATION
        assert result["revision"] == revision + 1 and result["rank"] == 1 and result["search_refreshed"]
        assert result["resolved_questions"] == 4  # 办绿本 three times (the group) and 绿本 once
        assert result["also_alias_of"] == [] and "排在第一位" in result["message"]

        # After: the same app, no restart, no retraining.
        assert _top_codes(await client.get("/api/v1/services/search?q=办绿本"))[0] == CAR_REGISTRATION
        assert _top_codes(await client.get("/api/v1/services/search?q=绿本怎么办"))[0] == CAR_REGISTRATION
        questions = {q["text"]: q for q in (await client.get(f"{BASE}/unanswered")).json()["questions"]}
        assert questions["办绿本"]["resolved"] and questions["绿本"]["resolved"] and not questions["娃娃证"]["resolved"]
        assert questions["办绿本"]["resolved_services"] == [{"code": CAR_REGISTRATION, "name": "机动车注册登记（上牌）"}]
        assert list(questions)[0] == "娃娃证"  # unresolved first
        listed = (await client.get(f"{BASE}/aliases")).json()["aliases"]
        assert listed[0]["alias"] == "绿本" and listed[0]["service"]["code"] == CAR_REGISTRATION

        # The same phrase again, for the same service: refused, whatever the punctuation.
        for phrase in ("绿本", "绿本。", " 绿本 "):
            again = await client.post(f"{BASE}/aliases", json={"phrase": phrase, "service_code": CAR_REGISTRATION})
            assert again.status_code == 409 and again.json()["error"]["message"] == "“绿本”已经是事项“机动车注册登记（上牌）”的别名。"
        # The service's own name is no alias; an empty or too long phrase is refused.
        named = await client.post(f"{BASE}/aliases", json={"phrase": "结婚登记", "service_code": MARRIAGE})
        assert named.status_code == 409 and "名称" in named.json()["error"]["message"]
        for phrase, message in (("  ？ ", "别名不能为空。"), ("绿" * 51, "别名不能超过50个字。")):
            refused = await client.post(f"{BASE}/aliases", json={"phrase": phrase, "service_code": CAR_REGISTRATION})
            assert refused.status_code == 422 and refused.json()["error"]["message"] == message
        unknown = await client.post(f"{BASE}/aliases", json={"phrase": "黄本", "service_code": "NO-SUCH-SERVICE"})
        assert unknown.status_code == 404 and unknown.json()["error"]["code"] == "service_not_found"
        # An alias of another service is allowed, with a warning.
        shared = await client.post(f"{BASE}/aliases", json={"phrase": "低保", "service_code": RESIDENCE})
        assert shared.status_code == 201
        assert shared.json()["also_alias_of"] == [{"code": LOW_INCOME, "name": "最低生活保障申请"}]
        assert "也是“最低生活保障申请”的别名" in shared.json()["message"]

    with make_session(dash_url) as session:
        stored = session.execute(select(ServiceAlias).where(ServiceAlias.alias == "绿本")).scalar_one()
        assert stored.origin == "staff" and stored.service.code == CAR_REGISTRATION
        assert get_revision(session) == revision + 2  # one bump per alias added, none for refusals
        assert session.execute(select(UnansweredQuestion).where(UnansweredQuestion.question == "娃娃证")
                               ).scalar_one().resolved_service_code is None


async def test_reimporting_the_catalogue_keeps_staff_aliases(app, dash_url):
    async with staff_client(app, make_staff(dash_url, "admin")) as client:
        added = await client.post(f"{BASE}/aliases", json={"phrase": "绿本", "service_code": CAR_REGISTRATION})
        assert added.status_code == 201
        with make_session(dash_url) as session:
            # Make the importer rewrite this service (as when its YAML changes), then re-import.
            service = session.execute(select(Service).where(Service.code == CAR_REGISTRATION)).scalar_one()
            catalogue_aliases = sorted(a.alias for a in service.aliases if a.origin != "staff")
            service.content_hash = None
            session.commit()
            report = import_path(session, DEFAULT_CATALOGUE)
            assert not report.aborted and report.counts["services"]["updated"] == 1, report.summary()
        with make_session(dash_url) as session:
            service = session.execute(select(Service).where(Service.code == CAR_REGISTRATION)).scalar_one()
            assert [(a.alias, a.origin) for a in service.aliases if a.origin == "staff"] == [("绿本", "staff")]
            assert sorted(a.alias for a in service.aliases if a.origin != "staff") == catalogue_aliases
        # The search rebuilt on the import's revision still ranks the service first.
        app.state.search.refresh(wait=True)
        assert _top_codes(await client.get("/api/v1/services/search?q=办绿本"))[0] == CAR_REGISTRATION

        # Removing the alias takes it out of search at once.
        alias_id = added.json()["id"]
        removed = await client.delete(f"{BASE}/aliases/{alias_id}")
        assert removed.status_code == 200 and removed.json()["alias"] == "绿本"
        assert CAR_REGISTRATION not in _top_codes(await client.get("/api/v1/services/search?q=办绿本"))[:1]
        assert (await client.delete(f"{BASE}/aliases/{alias_id}")).status_code == 404
        with make_session(dash_url) as session:  # catalogue aliases cannot be removed here
            catalogue_alias = session.execute(select(ServiceAlias.id).where(ServiceAlias.origin != "staff")).first()[0]
        assert (await client.delete(f"{BASE}/aliases/{catalogue_alias}")).status_code == 404
