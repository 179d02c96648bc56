"""Who is calling the staff API, and may they: FastAPI dependencies.

The session token travels in an HttpOnly, SameSite=Strict cookie. Requests that change anything
must also carry `X-Requested-With: onewindow`: a cross-site form cannot set that header, and a
cross-site script cannot send it without a CORS preflight the desk never grants.
"""
from __future__ import annotations

import os
from typing import Callable

from fastapi import Depends, Request
from sqlalchemy.orm import Session

from desk.dependencies import get_session
from desk.errors import ApiError
from staffdesk.accounts import Staff, resolve_session
from staffdesk.roles import SECTION_NAMES, SECTIONS

COOKIE = "ow_staff"
CSRF_HEADER = "x-requested-with"
CSRF_VALUE = "onewindow"
SAFE_METHODS = {"GET", "HEAD", "OPTIONS"}


def secure_cookies() -> bool:
    """Mark the cookie Secure (HTTPS only): set ONEWINDOW_STAFF_SECURE_COOKIE=1 behind TLS."""
    return os.environ.get("ONEWINDOW_STAFF_SECURE_COOKIE", "").strip().lower() in ("1", "true", "yes")


def check_csrf(request: Request) -> None:
    if request.method not in SAFE_METHODS and request.headers.get(CSRF_HEADER, "").lower() != CSRF_VALUE:
        raise ApiError(403, "csrf", "请求来源不正确，请刷新页面后重试。",
                       f"state-changing requests need the header X-Requested-With: {CSRF_VALUE}")


def current_staff(request: Request, session: Session = Depends(get_session)) -> Staff:
    check_csrf(request)
    staff = resolve_session(session, request.cookies.get(COOKIE))
    session.commit()  # the touch of last_seen_at, or the end of an expired session
    if staff is None:
        raise ApiError(401, "unauthorized", "请先登录，或登录已过期，请重新登录。", "no valid staff session")
    request.state.staff = staff
    return staff


def require(section: str) -> Callable[..., Staff]:
    """A dependency admitting the roles of one section of the desk (staffdesk.roles.SECTIONS)."""
    roles = SECTIONS[section]

    def dependency(staff: Staff = Depends(current_staff)) -> Staff:
        if staff.role not in roles:
            raise ApiError(403, "forbidden", f"您的角色无权使用“{SECTION_NAMES[section]}”。",
                           f"role {staff.role} may not use section {section}")
        return staff

    dependency.__name__ = f"require_{section}"
    return dependency
