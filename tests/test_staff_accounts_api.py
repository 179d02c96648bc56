"""账号管理 through the API (admin only): creating, changing, disabling accounts and resetting
passwords, with the Chinese errors of staffdesk.accounts; the last admin cannot lock the desk out."""
from __future__ import annotations

import pytest
from sqlalchemy import select

from catalogue_helpers import catalogue_database
from database import make_session
from database.engine import get_engine
from desk.app import create_app
from staffdesk import accounts
from staffdesk.models import StaffAccount
from staff_helpers import PASSWORD, make_staff, sign_in, staff_client

BASE = "/api/v1/staff/accounts"


@pytest.fixture(scope="module")
def accounts_url(tmp_path_factory):
    """A database of its own, so that which admins exist is known (departments from the default catalogue)."""
    url = catalogue_database(tmp_path_factory.mktemp("accounts"), "accounts.db")
    yield url
    get_engine(url).dispose()


@pytest.fixture
def app(accounts_url, monkeypatch):
    monkeypatch.setenv("ONEWINDOW_SWEEP_INTERVAL", "0")
    return create_app(accounts_url)


def _stored(url, username):
    with make_session(url) as session:
        account = accounts.find_account(session, username)
        return None if account is None else (account.role, account.department.code if account.department else None,
                                             account.active, account.display_name)


async def test_only_admins_may_manage_accounts(app, accounts_url):
    routes = [("GET", BASE, None), ("POST", BASE, {"username": "x.y", "role": "clerk", "password": PASSWORD}),
              ("PATCH", f"{BASE}/nobody", {"active": False}), ("POST", f"{BASE}/nobody/password", {"password": PASSWORD})]
    async with staff_client(app) as anonymous:
        for method, path, body in routes:
            assert (await anonymous.request(method, path, json=body)).status_code == 401, (method, path)
    for role, department in (("clerk", None), ("officer", "LG-MZ"), ("coordinator", None)):
        async with staff_client(app, make_staff(accounts_url, role, department)) as client:
            for method, path, body in routes:
                response = await client.request(method, path, json=body)
                assert response.status_code == 403, (role, method, path)
                assert response.json()["error"]["message"] == "您的角色无权使用“账号管理”。"
    assert _stored(accounts_url, "x.y") is None
    async with staff_client(app, make_staff(accounts_url, "admin")) as admin:
        listing = (await admin.get(BASE)).json()
        assert {"clerk", "officer", "coordinator", "admin"} == {r["code"] for r in listing["roles"]}
        assert [r["code"] for r in listing["roles"] if r["needs_department"]] == ["officer"]
        assert {"LG-GA", "LG-ZSJ"} <= {d["code"] for d in listing["departments"]}
        assert listing["password_min_length"] == 10
        assert all("password_hash" not in a for a in listing["accounts"])
        # A change without the CSRF header is refused like every staff change.
        bare = await admin.post(BASE, json={"username": "x.y", "role": "clerk", "password": PASSWORD},
                                headers={"X-Requested-With": ""})
        assert bare.status_code == 403 and bare.json()["error"]["code"] == "csrf"


async def test_an_admin_creates_changes_and_disables_accounts(app, accounts_url):
    async with staff_client(app, make_staff(accounts_url, "admin")) as admin:
        created = await admin.post(BASE, json={"username": "Wang.Wu", "display_name": "王五", "role": "officer",
                                               "department": "LG-GA", "password": "Initial-2026!"})
        assert created.status_code == 201, created.text
        view = created.json()
        assert (view["username"], view["role_name"], view["department"]["code"], view["active"]) == (
            "wang.wu", "部门审批人员", "LG-GA", True)
        assert "wang.wu" in [a["username"] for a in (await admin.get(BASE)).json()["accounts"]]

        # Chinese errors, nothing stored
        for body, status, message in (
            ({"username": "wang.wu", "role": "clerk", "password": "Another-2026!"}, 409, "该用户名已存在。"),
            ({"username": "no.dept", "role": "officer", "password": "Another-2026!"}, 422, "部门审批人员必须指定所属部门。"),
            ({"username": "bad.dept", "role": "officer", "department": "LG-XX", "password": "Another-2026!"}, 404, "没有这个部门。"),
            ({"username": "bad.role", "role": "boss", "password": "Another-2026!"}, 422, "角色不正确。"),
            ({"username": "坏 名字", "role": "clerk", "password": "Another-2026!"}, 422, None),
        ):
            refused = await admin.post(BASE, json=body)
            assert refused.status_code == status, (body, refused.text)
            if message:
                assert refused.json()["error"]["message"] == message
        for username in ("no.dept", "bad.dept", "bad.role"):
            assert _stored(accounts_url, username) is None

        # The new officer signs in with the initial password.
        async with staff_client(app, "wang.wu", "Initial-2026!") as officer:
            assert (await officer.get("/api/v1/staff/me")).json()["department"]["code"] == "LG-GA"

            # Another department, then another name: kept as given.
            moved = await admin.patch(f"{BASE}/wang.wu", json={"department": "LG-MZ", "display_name": "王五（民政）"})
            assert moved.status_code == 200 and moved.json()["department"]["code"] == "LG-MZ"
            assert _stored(accounts_url, "wang.wu") == ("officer", "LG-MZ", True, "王五（民政）")
            assert (await officer.get("/api/v1/staff/me")).status_code == 200  # same role: still signed in

            # A new role ends the sessions; a clerk has no department.
            promoted = await admin.patch(f"{BASE}/wang.wu", json={"role": "clerk"})
            assert promoted.status_code == 200 and promoted.json()["department"] is None
            assert (await officer.get("/api/v1/staff/me")).status_code == 401
        assert _stored(accounts_url, "wang.wu") == ("clerk", None, True, "王五（民政）")
        to_officer = await admin.patch(f"{BASE}/wang.wu", json={"role": "officer"})
        assert to_officer.status_code == 422 and to_officer.json()["error"]["message"] == "部门审批人员必须指定所属部门。"
        assert _stored(accounts_url, "wang.wu") == ("clerk", None, True, "王五（民政）")
        blank = await admin.patch(f"{BASE}/wang.wu", json={"display_name": "  "})
        assert blank.status_code == 422 and blank.json()["error"]["message"] == "姓名应为1-100个字符。"

        # Disabled: signed out at once and cannot sign in; enabled again: can.
        async with staff_client(app, "wang.wu", "Initial-2026!") as clerk:
            disabled = await admin.patch(f"{BASE}/wang.wu", json={"active": False})
            assert disabled.status_code == 200 and disabled.json()["active"] is False
            assert (await clerk.get("/api/v1/staff/me")).status_code == 401
        async with staff_client(app) as client:
            login = await client.post("/api/v1/staff/login", json={"username": "wang.wu", "password": "Initial-2026!"})
            assert login.status_code == 401
        assert (await admin.patch(f"{BASE}/wang.wu", json={"active": True})).json()["active"] is True
        async with staff_client(app, "wang.wu", "Initial-2026!"):
            pass
        missing = await admin.patch(f"{BASE}/nobody.here", json={"active": False})
        assert missing.status_code == 404 and missing.json()["error"]["message"] == "没有这个账号。"


async def test_weak_passwords_are_refused_and_a_reset_ends_sessions(app, accounts_url):
    username = make_staff(accounts_url, "clerk")
    async with staff_client(app, make_staff(accounts_url, "admin")) as admin:
        weak = await admin.post(BASE, json={"username": "weak.one", "role": "clerk", "password": "short1!"})
        assert weak.status_code == 422 and weak.json()["error"]["message"] == "密码至少需要10个字符。"
        simple = await admin.post(BASE, json={"username": "weak.two", "role": "clerk", "password": "aaaaaaaaaaaa"})
        assert simple.status_code == 422 and "过于简单" in simple.json()["error"]["message"]
        assert _stored(accounts_url, "weak.one") is None and _stored(accounts_url, "weak.two") is None

        async with staff_client(app, username) as clerk:
            refused = await admin.post(f"{BASE}/{username}/password", json={"password": f"{username}-2026!"})
            assert refused.status_code == 422 and refused.json()["error"]["message"] == "密码不能包含用户名。"
            assert (await clerk.get("/api/v1/staff/me")).status_code == 200  # nothing changed
            reset = await admin.post(f"{BASE}/{username}/password", json={"password": "Reset-pass-2026"})
            assert reset.status_code == 200 and reset.json() == {"username": username, "changed": True}
            assert (await clerk.get("/api/v1/staff/me")).status_code == 401
        async with staff_client(app) as client:
            old = await client.post("/api/v1/staff/login", json={"username": username, "password": PASSWORD})
            assert old.status_code == 401
            await sign_in(client, username, "Reset-pass-2026")


async def test_the_last_admin_cannot_be_disabled_or_demoted(app, accounts_url):
    with make_session(accounts_url) as session:
        for account in session.execute(select(StaffAccount).where(StaffAccount.role == "admin")).scalars():
            account.active = False
        session.commit()
    only = make_staff(accounts_url, "admin", name="唯一的管理员")
    async with staff_client(app, only) as admin:
        for body, message in (({"active": False}, "不能停用最后一个管理员。"),
                              ({"role": "coordinator"}, "不能取消最后一个管理员的管理员角色。")):
            refused = await admin.patch(f"{BASE}/{only}", json=body)
            assert refused.status_code == 409 and refused.json()["error"]["message"] == message
        assert _stored(accounts_url, only)[:3] == ("admin", None, True)
        assert (await admin.get(BASE)).status_code == 200  # still an admin, still signed in

        # A second admin: each may disable the other, never the last one standing.
        second = make_staff(accounts_url, "admin")
        assert (await admin.patch(f"{BASE}/{second}", json={"role": "coordinator"})).status_code == 200
        assert (await admin.patch(f"{BASE}/{second}", json={"role": "admin"})).status_code == 200
        # Not the last one, but an admin still cannot disable or demote themselves.
        refused = await admin.patch(f"{BASE}/{only}", json={"active": False})
        assert refused.status_code == 409 and refused.json()["error"]["message"] == "不能停用自己的账号。"
        refused = await admin.patch(f"{BASE}/{only}", json={"role": "clerk"})
        assert refused.status_code == 409 and "自己的管理员角色" in refused.json()["error"]["message"]
        assert _stored(accounts_url, only)[:3] == ("admin", None, True)
        async with staff_client(app, second) as other:
            assert (await other.patch(f"{BASE}/{only}", json={"active": False})).status_code == 200
            assert (await admin.get(BASE)).status_code == 401  # disabled: signed out
            with make_session(accounts_url) as session:
                last = accounts.find_account(session, second)
                with pytest.raises(accounts.AccountError) as raised:  # the rule underneath the API
                    accounts.update_account(session, last, active=False)
                assert raised.value.status == 409 and raised.value.message == "不能停用最后一个管理员。"
            assert (await other.patch(f"{BASE}/{only}", json={"active": True})).status_code == 200
