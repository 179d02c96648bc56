"""/api/v1/staff: signing in and out, the current account, changing one's password."""
from __future__ import annotations

from fastapi import APIRouter, Depends, Request, Response
from pydantic import BaseModel, Field
from sqlalchemy.orm import Session

from desk.dependencies import get_session
from desk.errors import ApiError
from staffdesk import accounts
from staffdesk.accounts import AccountError, SessionPolicy, Staff
from staffdesk.auth import COOKIE, check_csrf, current_staff, secure_cookies
from staffdesk.models import StaffAccount

router = APIRouter(prefix="/api/v1/staff", tags=["staff"])


class LoginBody(BaseModel):
    username: str = Field(..., min_length=1, max_length=64)
    password: str = Field(..., min_length=1, max_length=256)


class PasswordBody(BaseModel):
    current_password: str = Field(..., min_length=1, max_length=256)
    new_password: str = Field(..., min_length=1, max_length=256)


def account_error(exc: AccountError) -> ApiError:
    return ApiError(exc.status, exc.code, exc.message, exc.detail)


@router.post("/login", summary="Sign in: sets the session cookie")
def login(body: LoginBody, request: Request, response: Response, session: Session = Depends(get_session)) -> dict:
    check_csrf(request)
    policy = SessionPolicy.from_env()
    try:
        account, token = accounts.sign_in(session, body.username, body.password, policy,
                                          user_agent=request.headers.get("user-agent"))
    except AccountError as exc:
        session.commit()  # the failure count and any lock
        raise account_error(exc) from None
    session.commit()
    response.set_cookie(COOKIE, token, httponly=True, samesite="strict", secure=secure_cookies(),
                        max_age=int(policy.absolute.total_seconds()), path="/")
    staff = accounts.resolve_session(session, token, policy)
    assert staff is not None
    return staff.view()


@router.post("/logout", summary="Sign out: ends the session")
def logout(request: Request, response: Response, session: Session = Depends(get_session)) -> dict:
    check_csrf(request)
    accounts.sign_out(session, request.cookies.get(COOKIE))
    session.commit()
    response.delete_cookie(COOKIE, path="/")
    return {"signed_out": True}


@router.get("/me", summary="The signed-in account and the sections it may use")
def me(staff: Staff = Depends(current_staff)) -> dict:
    return staff.view()


@router.post("/me/password", summary="Change my password (other sessions end)")
def change_password(body: PasswordBody, staff: Staff = Depends(current_staff),
                    session: Session = Depends(get_session)) -> dict:
    from staffdesk.passwords import verify_password

    account = session.get(StaffAccount, staff.id)
    if not verify_password(body.current_password, account.password_hash):
        raise ApiError(403, "wrong_password", "当前密码不正确。", "current password does not match")
    try:
        accounts.set_password(session, account, body.new_password, keep_session_id=staff.session_id)
    except AccountError as exc:
        raise account_error(exc) from None
    session.commit()
    return {"changed": True}
