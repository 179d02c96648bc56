"""Departments' API tokens: random bearer tokens, shown once when issued, stored as SHA-256.

A token is 43 random URL-safe characters (256 bits) after the prefix `owd_`; at that entropy a
plain SHA-256 is the right storage (no salt or slow hash needed: it cannot be guessed, only
stolen, and the database then holds nothing usable).
"""
from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timedelta
from typing import List, Optional

from sqlalchemy import select
from sqlalchemy.orm import Session

from filings.lookup import department_by_code
from filings.models import DepartmentToken
from knowledge.models import Department

PREFIX = "owd_"
TOUCH_EVERY = timedelta(minutes=5)  # last_used_at is written at most this often


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def issue_token(session: Session, department_code: str, label: Optional[str] = None, replace: bool = False) -> str:
    """A new token for the department (returned in clear, once); with `replace`, the department's
    other tokens are revoked. The caller commits."""
    department = department_by_code(session, department_code)
    now = datetime.utcnow()
    if replace:
        revoke_tokens(session, department_code, now)
    token = PREFIX + secrets.token_urlsafe(32)
    session.add(DepartmentToken(department=department, token_hash=_digest(token), prefix=token[:10],
                                label=label, created_at=now))
    session.flush()
    return token


def revoke_tokens(session: Session, department_code: str, now: Optional[datetime] = None) -> int:
    department = department_by_code(session, department_code)
    rows = session.execute(
        select(DepartmentToken).where(DepartmentToken.department_id == department.id, DepartmentToken.revoked_at.is_(None))
    ).scalars().all()
    for row in rows:
        row.revoked_at = now or datetime.utcnow()
    session.flush()
    return len(rows)


def authenticate(session: Session, token: Optional[str]) -> Optional[Department]:
    """The department of a valid, unrevoked token, else None."""
    if not token or not token.startswith(PREFIX) or len(token) > 200:
        return None
    row = session.execute(
        select(DepartmentToken).where(DepartmentToken.token_hash == _digest(token), DepartmentToken.revoked_at.is_(None))
    ).scalar_one_or_none()
    if row is None:
        return None
    now = datetime.utcnow()
    if row.last_used_at is None or now - row.last_used_at > TOUCH_EVERY:
        row.last_used_at = now
        session.commit()
    return row.department


def list_tokens(session: Session, department_code: Optional[str] = None) -> List[DepartmentToken]:
    query = select(DepartmentToken).order_by(DepartmentToken.id)
    if department_code:
        query = query.where(DepartmentToken.department_id == department_by_code(session, department_code).id)
    return list(session.execute(query).scalars())
