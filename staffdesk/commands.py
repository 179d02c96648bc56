"""Command-line handlers for staff accounts (wired in bot/cli.py):

    onewindow staff create-admin USERNAME [--name NAME]     the first administrator
    onewindow staff add USERNAME --role ROLE [--department CODE] [--name NAME]
    onewindow staff passwd USERNAME                         set a new password (ends its sessions)
    onewindow staff disable|enable USERNAME
    onewindow staff list

The password comes from ONEWINDOW_STAFF_PASSWORD, or from standard input with --password-stdin,
or is asked twice on the terminal; it is never a command-line argument (that would leave it in
the shell history and the process list).
"""
from __future__ import annotations

import getpass
import os
import sys
from typing import Optional

from database.engine import make_session
from staffdesk import accounts
from staffdesk.accounts import AccountError
from staffdesk.roles import ADMIN, ROLE_NAMES


class CommandError(Exception):
    """A user error: bot/cli.py prints it as one line."""


def read_password(from_stdin: bool = False) -> str:
    if from_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    elif os.environ.get("ONEWINDOW_STAFF_PASSWORD"):
        password = os.environ["ONEWINDOW_STAFF_PASSWORD"]
    elif sys.stdin.isatty():
        password = getpass.getpass("Password: ")
        if getpass.getpass("Repeat password: ") != password:
            raise CommandError("the two passwords differ")
    else:
        raise CommandError("no password: set ONEWINDOW_STAFF_PASSWORD, pass --password-stdin, or run on a terminal")
    if not password:
        raise CommandError("the password is empty")
    return password


def _fail(exc: AccountError) -> CommandError:
    return CommandError(exc.detail + (f" ({exc.message})" if exc.status == 422 else ""))


def add(username: str, role: str, department: Optional[str], name: Optional[str], password: str) -> int:
    with make_session() as session:
        try:
            account = accounts.create_account(session, username, name or username, role, password, department)
        except AccountError as exc:
            raise _fail(exc) from None
        session.commit()
        where = f" of {account.department.code}" if account.department else ""
        port = os.environ.get("ONEWINDOW_DESK_PORT", "").strip() or "8000"
        print(f"Created {account.role} ({ROLE_NAMES[account.role]}) {account.username}{where}. "
              f"Sign in at http://localhost:{port}/staff/")
    return 0


def create_admin(username: str, name: Optional[str], password: str) -> int:
    return add(username, ADMIN, None, name, password)


def _account(session, username: str):
    account = accounts.find_account(session, username)
    if account is None:
        raise CommandError(f"no staff account {username!r} (see `onewindow staff list`)")
    return account


def passwd(username: str, password: str) -> int:
    with make_session() as session:
        account = _account(session, username)
        try:
            accounts.set_password(session, account, password)
        except AccountError as exc:
            raise _fail(exc) from None
        session.commit()
    print(f"Password of {username} changed; its sessions have ended.")
    return 0


def set_active(username: str, active: bool) -> int:
    with make_session() as session:
        account = _account(session, username)
        try:
            accounts.update_account(session, account, active=active)
        except AccountError as exc:
            raise _fail(exc) from None
        session.commit()
    print(f"{username} {'enabled' if active else 'disabled'}.")
    return 0


def list_accounts() -> int:
    with make_session() as session:
        rows = accounts.list_accounts(session)
        if not rows:
            print("No staff accounts yet: create the first with `onewindow staff create-admin USERNAME`.")
        for account in rows:
            view = accounts.account_view(account)
            dept = view["department"]["code"] if view["department"] else "-"
            state = "active" if view["active"] else "disabled"
            print(f"{view['username']}\t{view['role']}\t{dept}\t{state}\t{view['display_name']}")
    return 0
