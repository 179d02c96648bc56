"""Staff accounts and sessions: creating accounts, signing in and out, and session expiry.

Sign-in locks an account for LOCK_MINUTES after MAX_FAILURES wrong passwords in a row, and an
unknown username costs the same time as a wrong password. A session ends after
ONEWINDOW_STAFF_IDLE_MINUTES without a request (default 30) and at the latest
ONEWINDOW_STAFF_SESSION_HOURS after sign-in (default 12). The caller commits.
"""
from __future__ import annotations

import hashlib
import os
import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import List, Optional, Tuple

from sqlalchemy import select
from sqlalchemy.orm import Session

from knowledge.models import Department
from staffdesk import passwords
from staffdesk.models import StaffAccount, StaffSession
from staffdesk.roles import ADMIN, OFFICER, ROLE_NAMES, ROLES, sections_for

MAX_FAILURES = 5
LOCK_MINUTES = 15
TOUCH_EVERY = timedelta(seconds=60)  # last_seen_at is written at most this often
USERNAME = re.compile(r"[a-z0-9][a-z0-9._-]{1,63}")


class AccountError(ValueError):
    """A request about accounts that cannot be done; `message` is Chinese, `detail` English."""

    def __init__(self, message: str, detail: str, status: int = 422, code: str = "invalid_request"):
        super().__init__(detail)
        self.message, self.detail, self.status, self.code = message, detail, status, code


@dataclass(frozen=True)
class SessionPolicy:
    idle: timedelta
    absolute: timedelta

    @classmethod
    def from_env(cls) -> "SessionPolicy":
        def number(name: str, default: float) -> float:
            raw = os.environ.get(name, "").strip()
            try:
                value = float(raw) if raw else default
            except ValueError:
                raise ValueError(f"{name} must be a number, not {raw!r}") from None
            if value <= 0:
                raise ValueError(f"{name} must be positive, not {raw!r}")
            return value

        return cls(idle=timedelta(minutes=number("ONEWINDOW_STAFF_IDLE_MINUTES", 30)),
                   absolute=timedelta(hours=number("ONEWINDOW_STAFF_SESSION_HOURS", 12)))


@dataclass(frozen=True)
class Staff:
    """The signed-in member of staff, as the API sees them."""

    id: int
    username: str
    display_name: str
    role: str
    department_id: Optional[int]
    department_code: Optional[str]
    department_name: Optional[str]
    session_id: int

    @property
    def sections(self) -> Tuple[str, ...]:
        return sections_for(self.role)

    def view(self) -> dict:
        return {
            "username": self.username,
            "display_name": self.display_name,
            "role": self.role,
            "role_name": ROLE_NAMES[self.role],
            "department": {"code": self.department_code, "name": self.department_name} if self.department_code else None,
            "sections": list(self.sections),
        }


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def normalise_username(username: str) -> str:
    name = (username or "").strip().lower()
    if not USERNAME.fullmatch(name):
        raise AccountError("用户名应为2-64位小写字母、数字、点、下划线或连字符，以字母或数字开头。",
                           f"invalid username {username!r}")
    return name


def _department(session: Session, role: str, department_code: Optional[str]) -> Optional[Department]:
    if role not in ROLES:
        raise AccountError("角色不正确。", f"role must be one of {ROLES}, not {role!r}")
    if role != OFFICER:
        return None
    if not department_code:
        raise AccountError("部门审批人员必须指定所属部门。", "an officer needs a department")
    department = session.execute(select(Department).where(Department.code == department_code)).scalar_one_or_none()
    if department is None:
        raise AccountError("没有这个部门。", f"no department {department_code!r}", status=404, code="department_not_found")
    return department


def find_account(session: Session, username: str) -> Optional[StaffAccount]:
    name = (username or "").strip().lower()
    return session.execute(select(StaffAccount).where(StaffAccount.username == name)).scalar_one_or_none()


def create_account(session: Session, username: str, display_name: str, role: str, password: str,
                   department_code: Optional[str] = None) -> StaffAccount:
    name = normalise_username(username)
    display = (display_name or "").strip() or name
    if len(display) > 100:
        raise AccountError("姓名不能超过100个字符。", "display name longer than 100 characters")
    department = _department(session, role, department_code)
    if find_account(session, name) is not None:
        raise AccountError("该用户名已存在。", f"username {name!r} exists", status=409, code="conflict")
    try:
        passwords.check_policy(password, name)
    except passwords.WeakPassword as exc:
        raise AccountError(str(exc), "password does not meet the policy") from None
    account = StaffAccount(username=name, display_name=display, role=role, department=department,
                           password_hash=passwords.hash_password(password), active=True)
    session.add(account)
    session.flush()
    return account


def update_account(session: Session, account: StaffAccount, *, display_name: Optional[str] = None,
                   role: Optional[str] = None, department_code: Optional[str] = None,
                   active: Optional[bool] = None) -> StaffAccount:
    """Change an account; disabling it, or changing its role, ends its sessions."""
    if display_name is not None:
        if not display_name.strip() or len(display_name.strip()) > 100:
            raise AccountError("姓名应为1-100个字符。", "display name must be 1-100 characters")
        account.display_name = display_name.strip()
    new_role = role or account.role
    if role is not None or department_code is not None:
        department = _department(session, new_role, department_code if department_code is not None
                                 else (account.department.code if account.department else None))
        if new_role != ADMIN and account.role == ADMIN and _last_admin(session, account):
            raise AccountError("不能取消最后一个管理员的管理员角色。", "the last active admin keeps the role", status=409, code="conflict")
        if new_role != account.role:
            end_sessions(session, account)
        account.role, account.department = new_role, department
    if active is not None and active != account.active:
        if not active and account.role == ADMIN and _last_admin(session, account):
            raise AccountError("不能停用最后一个管理员。", "the last active admin cannot be disabled", status=409, code="conflict")
        account.active = active
        if not active:
            end_sessions(session, account)
    session.flush()
    return account


def _last_admin(session: Session, account: StaffAccount) -> bool:
    others = session.execute(
        select(StaffAccount.id).where(StaffAccount.role == ADMIN, StaffAccount.active.is_(True),
                                      StaffAccount.id != account.id)
    ).first()
    return others is None


def set_password(session: Session, account: StaffAccount, password: str, end_other_sessions: bool = True,
                 keep_session_id: Optional[int] = None) -> None:
    try:
        passwords.check_policy(password, account.username)
    except passwords.WeakPassword as exc:
        raise AccountError(str(exc), "password does not meet the policy") from None
    account.password_hash = passwords.hash_password(password)
    account.password_changed_at = datetime.utcnow()
    account.failed_logins, account.locked_until = 0, None
    if end_other_sessions:
        end_sessions(session, account, keep=keep_session_id)
    session.flush()


def list_accounts(session: Session) -> List[StaffAccount]:
    return list(session.execute(select(StaffAccount).order_by(StaffAccount.username)).scalars())


def account_view(account: StaffAccount) -> dict:
    return {
        "username": account.username,
        "display_name": account.display_name,
        "role": account.role,
        "role_name": ROLE_NAMES.get(account.role, account.role),
        "department": {"code": account.department.code, "name": account.department.name} if account.department else None,
        "active": account.active,
        "locked": bool(account.locked_until and account.locked_until > datetime.utcnow()),
        "created_at": account.created_at.isoformat() + "Z" if account.created_at else None,
        "last_login_at": account.last_login_at.isoformat() + "Z" if account.last_login_at else None,
    }


# -- signing in and out -----------------------------------------------------------------------------
def sign_in(session: Session, username: str, password: str, policy: Optional[SessionPolicy] = None,
            user_agent: Optional[str] = None, now: Optional[datetime] = None) -> Tuple[StaffAccount, str]:
    """The account and a new session token (in clear, for the cookie), or AccountError 401/423."""
    now = now or datetime.utcnow()
    policy = policy or SessionPolicy.from_env()
    account = find_account(session, username)
    if account is None or not account.active:
        passwords.verify_password(password or "", passwords.DUMMY_HASH)  # same cost as a real check
        raise AccountError("用户名或密码不正确。", "unknown or disabled account", status=401, code="invalid_credentials")
    if account.locked_until and account.locked_until > now:
        raise AccountError(f"密码错误次数过多，账号已锁定，请{LOCK_MINUTES}分钟后再试或联系管理员。",
                           "account locked after repeated failures", status=423, code="locked")
    if not passwords.verify_password(password or "", account.password_hash):
        account.failed_logins = (account.failed_logins or 0) + 1
        if account.failed_logins >= MAX_FAILURES:
            account.locked_until = now + timedelta(minutes=LOCK_MINUTES)
            account.failed_logins = 0
        session.flush()
        raise AccountError("用户名或密码不正确。", "wrong password", status=401, code="invalid_credentials")
    if passwords.needs_rehash(account.password_hash):
        account.password_hash = passwords.hash_password(password)
    account.failed_logins, account.locked_until, account.last_login_at = 0, None, now
    token = secrets.token_urlsafe(32)
    session.add(StaffSession(account=account, token_hash=_digest(token), created_at=now, last_seen_at=now,
                             expires_at=now + policy.absolute, user_agent=(user_agent or "")[:200] or None))
    session.flush()
    return account, token


def resolve_session(session: Session, token: Optional[str], policy: Optional[SessionPolicy] = None,
                    now: Optional[datetime] = None) -> Optional[Staff]:
    """The member of staff behind a session token, or None when it is unknown, ended or expired."""
    if not token or len(token) > 200:
        return None
    now = now or datetime.utcnow()
    policy = policy or SessionPolicy.from_env()
    row = session.execute(
        select(StaffSession).where(StaffSession.token_hash == _digest(token), StaffSession.ended_at.is_(None))
    ).scalar_one_or_none()
    if row is None:
        return None
    account = row.account
    if not account.active or now >= row.expires_at or now - row.last_seen_at >= policy.idle:
        row.ended_at = row.ended_at or now
        session.flush()
        return None
    if now - row.last_seen_at >= TOUCH_EVERY:
        row.last_seen_at = now
        session.flush()
    department = account.department
    return Staff(id=account.id, username=account.username, display_name=account.display_name, role=account.role,
                 department_id=account.department_id, department_code=department.code if department else None,
                 department_name=department.name if department else None, session_id=row.id)


def sign_out(session: Session, token: Optional[str]) -> None:
    if not token:
        return
    row = session.execute(select(StaffSession).where(StaffSession.token_hash == _digest(token))).scalar_one_or_none()
    if row is not None and row.ended_at is None:
        row.ended_at = datetime.utcnow()
        session.flush()


def end_sessions(session: Session, account: StaffAccount, keep: Optional[int] = None) -> int:
    rows = [s for s in account.sessions if s.ended_at is None and s.id != keep]
    for row in rows:
        row.ended_at = datetime.utcnow()
    session.flush()
    return len(rows)
