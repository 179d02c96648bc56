"""Every staff API route checks the session and the role: walked over the app's own route table,
so a route added later without a check fails here."""
from __future__ import annotations

import re

import pytest

from desk.app import create_app
from staffdesk.roles import ROLES, SECTIONS
from staff_helpers import make_staff, staff_client

OPEN_ROUTES = {("POST", "/api/v1/staff/login"), ("POST", "/api/v1/staff/logout")}
ANY_SIGNED_IN = {"/api/v1/staff/me", "/api/v1/staff/me/password"}
# Finer checks inside a section the role may use (staffdesk/cases_api.py).
FINER = {("officer", "/api/v1/staff/cases/attention")}
SECTION_OF_PREFIX = {f"/api/v1/staff/{name}": name for name in SECTIONS}


@pytest.fixture(scope="module")
def app(filings_url):
    import os

    os.environ.setdefault("ONEWINDOW_SWEEP_INTERVAL", "0")
    return create_app(filings_url)


def staff_routes(app):
    for route in app.routes:
        path = getattr(route, "path", "")
        if not path.startswith("/api/v1/staff"):
            continue
        for method in sorted(route.methods or ()):
            if (method, path) not in OPEN_ROUTES:
                yield method, path


def section_of(path: str):
    for prefix, name in SECTION_OF_PREFIX.items():
        if path == prefix or path.startswith(prefix + "/"):
            return name
    assert path in ANY_SIGNED_IN, f"{path} belongs to no section of staffdesk.roles.SECTIONS"
    return None


def concrete(path: str) -> str:
    return re.sub(r"\{[^}]+\}", "1", path)


def test_every_route_belongs_to_a_section(app):
    routes = list(staff_routes(app))
    assert len(routes) > 30
    for _method, path in routes:
        section_of(path)


async def test_without_a_session_every_route_is_401(app):
    async with staff_client(app) as client:
        for method, path in staff_routes(app):
            response = await client.request(method, concrete(path), json={})
            assert response.status_code == 401, (method, path, response.status_code)
            assert response.json()["error"]["message"]


@pytest.mark.parametrize("role", ROLES)
async def test_each_role_is_refused_the_sections_it_may_not_use(app, filings_url, role):
    username = make_staff(filings_url, role, department="LG-GA" if role == "officer" else None)
    async with staff_client(app, username) as client:
        me = (await client.get("/api/v1/staff/me")).json()
        assert me["sections"] == [name for name, roles in SECTIONS.items() if role in roles]
        for method, path in staff_routes(app):
            section = section_of(path)
            response = await client.request(method, concrete(path), json={})
            if (role, path) in FINER:
                assert response.status_code == 403, (role, method, path)
            elif section is None or role in SECTIONS[section]:
                assert response.status_code != 403 or response.json()["error"]["code"] != "forbidden", (method, path)
            else:
                assert response.status_code == 403, (role, method, path, response.status_code)
                assert response.json()["error"]["code"] == "forbidden"
