"""Staff accounts: hashed passwords, sign-in with lockout, expiring sessions, the CSRF header,
role checks, and the `onewindow staff` commands."""
from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from bot.cli import main
from database import make_session
from desk.app import create_app
from staffdesk import accounts, passwords
from staffdesk.accounts import AccountError, SessionPolicy
from staffdesk.models import StaffAccount, StaffSession
from staff_helpers import PASSWORD, make_staff, sign_in, staff_client


@pytest.fixture
def app(filings_url, monkeypatch):
    monkeypatch.setenv("ONEWINDOW_SWEEP_INTERVAL", "0")
    return create_app(filings_url)


def test_passwords_are_salted_scrypt_hashes():
    first, second = passwords.hash_password(PASSWORD), passwords.hash_password(PASSWORD)
    assert first.startswith("scrypt$") and PASSWORD not in first and first != second
    assert passwords.verify_password(PASSWORD, first) and not passwords.verify_password(PASSWORD + "x", first)
    assert not passwords.verify_password(PASSWORD, "garbage") and not passwords.verify_password(PASSWORD, "")


@pytest.mark.parametrize("weak", ["short1!", "aaaaaaaaaaaa", "1234567890", "clerk-secret-99"])
def test_weak_passwords_are_refused(weak):
    with pytest.raises(passwords.WeakPassword):
        passwords.check_policy(weak, "clerk")


def test_accounts_need_a_valid_name_role_and_department(fsession):
    for kwargs in ({"username": "Bad Name!", "role": "clerk"}, {"username": "ok.name", "role": "boss"},
                   {"username": "officer.x", "role": "officer"},
                   {"username": "officer.y", "role": "officer", "department_code": "NOPE"}):
        with pytest.raises(AccountError):
            accounts.create_account(fsession, display_name="x", password=PASSWORD, **kwargs)
    accounts.create_account(fsession, "Zhang.San", "张三", "officer", PASSWORD, "LG-GA")
    with pytest.raises(AccountError) as exc:
        accounts.create_account(fsession, "zhang.san", "张三", "clerk", PASSWORD)
    assert exc.value.status == 409


def test_repeated_wrong_passwords_lock_the_account(fsession):
    account = accounts.create_account(fsession, "lockme", "锁定测试", "clerk", PASSWORD)
    for _ in range(accounts.MAX_FAILURES):
        with pytest.raises(AccountError) as exc:
            accounts.sign_in(fsession, "lockme", "wrong-password-1")
        assert exc.value.status == 401
    with pytest.raises(AccountError) as exc:
        accounts.sign_in(fsession, "lockme", PASSWORD)  # the right password, but locked
    assert exc.value.status == 423
    account.locked_until = datetime.utcnow() - timedelta(seconds=1)
    assert accounts.sign_in(fsession, "lockme", PASSWORD)[0] is account


def test_sessions_expire_when_idle_and_at_their_limit(fsession):
    accounts.create_account(fsession, "expiry", "过期测试", "clerk", PASSWORD)
    policy = SessionPolicy(idle=timedelta(minutes=30), absolute=timedelta(hours=2))
    start = datetime(2026, 11, 26, 9, 0)
    _, token = accounts.sign_in(fsession, "expiry", PASSWORD, policy, now=start)
    stored = fsession.query(StaffSession).filter_by(account=accounts.find_account(fsession, "expiry")).one()
    assert token not in stored.token_hash
    for minutes in (20, 45, 70, 95, 115):  # active every 25 minutes: stays signed in ...
        assert accounts.resolve_session(fsession, token, policy, now=start + timedelta(minutes=minutes))
    assert accounts.resolve_session(fsession, token, policy, now=start + timedelta(minutes=121)) is None  # ... until 2 h
    _, token = accounts.sign_in(fsession, "expiry", PASSWORD, policy, now=start)
    assert accounts.resolve_session(fsession, token, policy, now=start + timedelta(minutes=31)) is None  # idle
    assert accounts.resolve_session(fsession, token, policy, now=start + timedelta(minutes=1)) is None  # ended stays ended


def test_the_last_admin_cannot_be_disabled_or_demoted(fsession):
    for account in fsession.query(StaffAccount).filter_by(role="admin"):
        account.active = False
    only = accounts.create_account(fsession, "onlyadmin", "管理员", "admin", PASSWORD)
    with pytest.raises(AccountError):
        accounts.update_account(fsession, only, active=False)
    with pytest.raises(AccountError):
        accounts.update_account(fsession, only, role="clerk")
    fsession.rollback()


async def test_sign_in_sets_an_http_only_cookie_and_sign_out_ends_the_session(app, filings_url):
    username = make_staff(filings_url, "clerk", name="前台小李")
    async with staff_client(app) as client:
        assert (await client.get("/api/v1/staff/me")).status_code == 401
        wrong = await client.post("/api/v1/staff/login", json={"username": username, "password": "nope-nope-1"})
        assert wrong.status_code == 401 and wrong.json()["error"]["message"] == "用户名或密码不正确。"
        response = await client.post("/api/v1/staff/login", json={"username": username.upper(), "password": PASSWORD})
        assert response.status_code == 200
        cookie = response.headers["set-cookie"].lower()
        assert "httponly" in cookie and "samesite=strict" in cookie
        me = (await client.get("/api/v1/staff/me")).json()
        assert me["display_name"] == "前台小李" and me["role"] == "clerk" and "accounts" not in me["sections"]
        assert (await client.post("/api/v1/staff/logout")).status_code == 200
        client.cookies.clear()
        assert (await client.get("/api/v1/staff/me")).status_code == 401


async def test_a_signed_out_cookie_is_dead_even_if_kept(app, filings_url):
    username = make_staff(filings_url, "clerk")
    async with staff_client(app, username) as client:
        kept = dict(client.cookies)
        await client.post("/api/v1/staff/logout")
        client.cookies.update(kept)
        assert (await client.get("/api/v1/staff/me")).status_code == 401


async def test_state_changing_requests_need_the_csrf_header(app, filings_url):
    username = make_staff(filings_url, "clerk")
    async with staff_client(app, username) as client:
        response = await client.post("/api/v1/staff/logout", headers={"X-Requested-With": ""})
        assert response.status_code == 403 and response.json()["error"]["code"] == "csrf"
        assert (await client.get("/api/v1/staff/me")).status_code == 200  # still signed in


async def test_changing_the_password_ends_other_sessions(app, filings_url):
    username = make_staff(filings_url, "clerk")
    async with staff_client(app, username) as first, staff_client(app, username) as second:
        bad = await first.post("/api/v1/staff/me/password", json={"current_password": "wrong-one-1", "new_password": "New-pass-2026"})
        assert bad.status_code == 403
        weak = await first.post("/api/v1/staff/me/password", json={"current_password": PASSWORD, "new_password": "short"})
        assert weak.status_code == 422 and "10" in weak.json()["error"]["message"]
        ok = await first.post("/api/v1/staff/me/password", json={"current_password": PASSWORD, "new_password": "New-pass-2026"})
        assert ok.status_code == 200
        assert (await first.get("/api/v1/staff/me")).status_code == 200
        assert (await second.get("/api/v1/staff/me")).status_code == 401
    async with staff_client(app) as client:
        await sign_in(client, username, "New-pass-2026")


async def test_the_staff_page_is_served_without_caching(app):
    async with staff_client(app) as client:
        page = await client.get("/staff/")
        assert page.status_code == 200 and "工作人员" in (await client.get("/staff/static/js/app.js")).text
        assert page.headers["cache-control"] == "no-store" and "/staff/static/js/app.js" in page.text
        assert (await client.get("/staff")).status_code == 307


def test_staff_commands(filings_url, monkeypatch, capsys):
    monkeypatch.setenv("ONEWINDOW_DATABASE_URL", filings_url)
    monkeypatch.setenv("ONEWINDOW_STAFF_PASSWORD", "Admin-cli-2026")
    assert main(["staff", "create-admin", "cli.admin", "--name", "命令行管理员"]) == 0
    assert main(["staff", "add", "cli.officer", "--role", "officer", "--department", "LG-MZ"]) == 0
    assert main(["staff", "add", "cli.nodept", "--role", "officer"]) == 1
    assert main(["staff", "create-admin", "cli.admin"]) == 1
    monkeypatch.setenv("ONEWINDOW_STAFF_PASSWORD", "short")
    assert main(["staff", "passwd", "cli.officer"]) == 1
    assert main(["staff", "disable", "cli.nobody"]) == 1
    assert main(["staff", "disable", "cli.officer"]) == 0
    assert main(["staff", "list"]) == 0
    out, err = capsys.readouterr()
    assert "cli.officer\tofficer\tLG-MZ\tdisabled" in out
    assert "an officer needs a department" in err and "no staff account 'cli.nobody'" in err
    with make_session(filings_url) as session:
        stored = accounts.find_account(session, "cli.admin")
        assert stored.role == "admin" and "Admin-cli-2026" not in stored.password_hash
