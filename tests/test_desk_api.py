"""The desk web service, through httpx's AsyncClient against the ASGI app."""
from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from database import make_session
from database.migrate import upgrade
from desk.app import create_app
from knowledge.importers import import_path

REPO_ROOT = Path(__file__).resolve().parents[1]
FIXTURE_CATALOGUE = REPO_ROOT / "tests" / "fixtures" / "catalogue"
DEFAULT_CATALOGUE = REPO_ROOT / "data" / "catalogue"


def _database(tmp_path_factory, catalogue: Path) -> str:
    url = f"sqlite:///{tmp_path_factory.mktemp('desk') / 'desk.db'}"
    upgrade(url)
    with make_session(url) as session:
        report = import_path(session, catalogue)
        assert not report.aborted and report.failed == 0, report.summary() + "\n" + "\n".join(map(str, report.problems[:20]))
    return url


@pytest.fixture(scope="module")
def fixture_url(tmp_path_factory) -> str:
    return _database(tmp_path_factory, FIXTURE_CATALOGUE)


@pytest.fixture
async def client(fixture_url):
    app = create_app(fixture_url)
    app.state.search.refresh(wait=True)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://desk") as client:
        yield client


async def test_healthz(client):
    response = await client.get("/healthz")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ok"
    assert body["components"]["database"]["status"] == "ok"
    assert body["components"]["search"]["documents"] >= 3


async def test_search_finds_colloquial_query(client):
    response = await client.get("/api/v1/services/search", params={"q": "宝宝出生了怎么上户口", "limit": 3})
    assert response.status_code == 200
    body = response.json()
    assert body["query"] == "宝宝出生了怎么上户口"
    names = [r["name"] for r in body["results"]]
    assert names and len(names) <= 3
    assert "出生登记" in names[0] or "新生儿" in names[0], names
    assert {"code", "name", "department", "score"} <= set(body["results"][0])


@pytest.mark.parametrize(
    "params, code",
    [({"q": "   "}, "empty_query"), ({"q": "证" * 201}, "query_too_long"), ({}, "invalid_request"),
     ({"q": "护照", "limit": 0}, "invalid_request"), ({"q": "护照", "limit": "many"}, "invalid_request")],
)
async def test_search_rejects_bad_input_with_clear_json(client, params, code):
    response = await client.get("/api/v1/services/search", params=params)
    assert response.status_code == 422
    error = response.json()["error"]
    assert error["code"] == code
    assert error["message"] and error["detail"]


async def test_search_with_nothing_matching_is_empty_not_an_error(client):
    response = await client.get("/api/v1/services/search", params={"q": "火星移民签证"})
    assert response.status_code == 200
    assert response.json()["results"] == []


async def test_full_guide_of_a_service(client):
    found = (await client.get("/api/v1/services/search", params={"q": "出生登记 新生儿入户"})).json()["results"]
    code = found[0]["code"]
    response = await client.get(f"/api/v1/services/{code}")
    assert response.status_code == 200
    guide = response.json()
    assert guide["code"] == code and guide["name"]
    for element in ("department", "conditions", "legal_basis", "materials", "process", "time_limit", "fee",
                    "places", "online", "result", "consult_phone", "complaint_phone", "prerequisites", "faqs"):
        assert element in guide, element
    assert guide["materials"] and {"name", "required", "form", "copies", "source"} <= set(guide["materials"][0])
    assert guide["places"] and guide["places"][0]["opening_hours"]
    assert guide["time_limit"]["promised"] or guide["time_limit"]["immediate"]


async def test_unknown_service_is_a_json_404(client):
    response = await client.get("/api/v1/services/NO-SUCH-CODE")
    assert response.status_code == 404
    error = response.json()["error"]
    assert error["code"] == "service_not_found" and "NO-SUCH-CODE" in error["message"]


async def test_unknown_route_is_a_json_404(client):
    response = await client.get("/api/v1/nothing-here")
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"


async def test_departments_and_bundles(client):
    departments = (await client.get("/api/v1/departments")).json()
    assert departments and {"code", "name", "services"} <= set(departments[0])
    assert any(d["coordinating"] for d in departments)
    bundles = (await client.get("/api/v1/bundles")).json()
    assert bundles and bundles[0]["members"]
    bundle = bundles[0]
    by_code = await client.get(f"/api/v1/bundles/{bundle['code']}")
    by_id = await client.get(f"/api/v1/bundles/{bundle['id']}")
    assert by_code.status_code == by_id.status_code == 200
    assert by_code.json() == by_id.json()
    assert by_code.json()["lead_department"]["name"]
    missing = await client.get("/api/v1/bundles/no-such-bundle")
    assert missing.status_code == 404 and missing.json()["error"]["code"] == "bundle_not_found"


async def test_openapi_docs_are_served(client):
    assert (await client.get("/docs")).status_code == 200
    schema = (await client.get("/openapi.json")).json()
    assert "/api/v1/services/search" in schema["paths"]


async def test_default_catalogue_through_the_api(tmp_path_factory):
    url = _database(tmp_path_factory, DEFAULT_CATALOGUE)
    app = create_app(url)
    app.state.search.refresh(wait=True)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://desk") as client:
        stats = (await client.get("/api/v1/stats")).json()
        assert stats["services"] >= 80 and stats["departments"] >= 15 and stats["bundles"] >= 4
        bundles = {b["name"] for b in (await client.get("/api/v1/bundles")).json()}
        assert {"新生儿出生一件事", "开办企业一件事", "退休一件事", "身后一件事"} <= bundles


async def test_the_demo_page_points_its_widget_at_the_rasa_port(client, monkeypatch):
    monkeypatch.delenv("ONEWINDOW_RASA_PORT", raising=False)
    page = (await client.get("/")).text
    assert '<script src="/static/widget/onewindow-widget.js" defer>' in page  # the widget's default, 5005
    monkeypatch.setenv("ONEWINDOW_RASA_PORT", "25999")
    page = (await client.get("/")).text
    assert '<script src="/static/widget/onewindow-widget.js" data-port="25999" defer>' in page
