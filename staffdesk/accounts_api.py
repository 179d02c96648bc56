"""/api/v1/staff/accounts: the admin's page of staff accounts (admin only).

Everything goes through staffdesk.accounts (its AccountError carries the Chinese message and the
status); this module adds only what concerns the admin as the caller: an admin cannot disable
their own account or take away their own admin role (that is how a desk locks itself out).
"""
from __future__ import annotations

import logging
from typing import Optional

from fastapi import APIRouter, Depends
from pydantic import BaseModel, Field
from sqlalchemy import select
from sqlalchemy.orm import Session

from desk.dependencies import get_session
from desk.errors import ApiError
from knowledge.models import Department
from staffdesk import accounts
from staffdesk.accounts import AccountError, Staff
from staffdesk.auth import require
from staffdesk.models import StaffAccount
from staffdesk.passwords import MIN_LENGTH
from staffdesk.roles import ADMIN, OFFICER, ROLE_NAMES, ROLES

log = logging.getLogger(__name__)

router = APIRouter(prefix="/api/v1/staff/accounts", tags=["staff: accounts"])
staff_dependency = require("accounts")


class NewAccount(BaseModel):
    username: str = Field(..., min_length=1, max_length=64)
    display_name: str = Field("", max_length=100)
    role: str = Field(..., max_length=20)
    department: Optional[str] = Field(None, max_length=64, description="department code; officers only")
    password: str = Field(..., min_length=1, max_length=256, description="the initial password")


class AccountChange(BaseModel):
    display_name: Optional[str] = Field(None, max_length=100)
    role: Optional[str] = Field(None, max_length=20)
    department: Optional[str] = Field(None, max_length=64)
    active: Optional[bool] = None


class NewPassword(BaseModel):
    password: str = Field(..., min_length=1, max_length=256)


def account_error(exc: AccountError) -> ApiError:
    return ApiError(exc.status, exc.code, exc.message, exc.detail)


def _account(session: Session, username: str) -> StaffAccount:
    account = accounts.find_account(session, username)
    if account is None:
        raise ApiError(404, "account_not_found", "没有这个账号。", f"no staff account {username!r}")
    return account


@router.get("", summary="Every account, with the roles and departments to choose from")
def list_accounts(staff: Staff = Depends(staff_dependency), session: Session = Depends(get_session)) -> dict:
    departments = session.execute(select(Department.code, Department.name).order_by(Department.code)).all()
    return {
        "accounts": [accounts.account_view(a) for a in accounts.list_accounts(session)],
        "roles": [{"code": role, "name": ROLE_NAMES[role], "needs_department": role == OFFICER} for role in ROLES],
        "departments": [{"code": code, "name": name} for code, name in departments],
        "password_min_length": MIN_LENGTH,
        "me": staff.username,
    }


@router.post("", status_code=201, summary="Create an account with an initial password")
def create_account(body: NewAccount, staff: Staff = Depends(staff_dependency),
                   session: Session = Depends(get_session)) -> dict:
    try:
        account = accounts.create_account(session, body.username, body.display_name, body.role, body.password,
                                          body.department or None)
    except AccountError as exc:
        raise account_error(exc) from None
    session.commit()
    log.info("staff %s created account %s (%s)", staff.username, account.username, account.role)
    return accounts.account_view(account)


@router.patch("/{username}", summary="Change name, role, department, or enable / disable an account")
def update_account(username: str, body: AccountChange, staff: Staff = Depends(staff_dependency),
                   session: Session = Depends(get_session)) -> dict:
    account = _account(session, username)
    try:
        accounts.update_account(session, account, display_name=body.display_name, role=body.role,
                                department_code=body.department or None, active=body.active)
    except AccountError as exc:  # the last admin, a missing department ...: nothing is kept
        session.rollback()
        raise account_error(exc) from None
    if account.id == staff.id and (body.active is False or (body.role is not None and body.role != ADMIN)):
        session.rollback()
        if body.active is False:
            raise ApiError(409, "conflict", "不能停用自己的账号。", "an admin cannot disable their own account")
        raise ApiError(409, "conflict", "不能取消自己的管理员角色，请让另一位管理员操作。",
                       "an admin cannot take away their own admin role")
    session.commit()
    log.info("staff %s changed account %s: %s", staff.username, account.username,
             ", ".join(k for k, v in body.dict().items() if v is not None) or "nothing")
    return accounts.account_view(account)


@router.post("/{username}/password", summary="Set a new password (the account's sessions end; a lock is lifted)")
def reset_password(username: str, body: NewPassword, staff: Staff = Depends(staff_dependency),
                   session: Session = Depends(get_session)) -> dict:
    account = _account(session, username)
    keep = staff.session_id if account.id == staff.id else None
    try:
        accounts.set_password(session, account, body.password, end_other_sessions=True, keep_session_id=keep)
    except AccountError as exc:
        raise account_error(exc) from None
    session.commit()
    log.info("staff %s reset the password of account %s", staff.username, account.username)
    return {"username": account.username, "changed": True}
