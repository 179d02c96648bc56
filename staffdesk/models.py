"""Staff accounts and their sign-in sessions."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, Column, DateTime, ForeignKey, Integer, String
from sqlalchemy.orm import relationship

from database.base import Base
from knowledge.models import Department  # noqa: F401 - the relationship's target must be mapped


class StaffAccount(Base):
    """A member of staff who signs in to the desk. Officers belong to a department."""

    __tablename__ = "staff_accounts"

    id = Column(Integer, primary_key=True)
    username = Column(String(64), nullable=False, unique=True)  # stored lower-case
    display_name = Column(String(100), nullable=False)
    role = Column(String(20), nullable=False)  # staffdesk.roles.ROLES
    department_id = Column(Integer, ForeignKey("departments.id"), index=True)
    password_hash = Column(String(255), nullable=False)
    active = Column(Boolean, nullable=False, default=True)
    failed_logins = Column(Integer, nullable=False, default=0)
    locked_until = Column(DateTime)
    created_at = Column(DateTime, nullable=False, default=datetime.utcnow)
    password_changed_at = Column(DateTime, nullable=False, default=datetime.utcnow)
    last_login_at = Column(DateTime)

    department = relationship("Department")
    sessions = relationship("StaffSession", back_populates="account", cascade="all, delete-orphan")


class StaffSession(Base):
    """A signed-in browser. Only a hash of the cookie's token is stored."""

    __tablename__ = "staff_sessions"

    id = Column(Integer, primary_key=True)
    account_id = Column(Integer, ForeignKey("staff_accounts.id"), nullable=False, index=True)
    token_hash = Column(String(64), nullable=False, unique=True)
    created_at = Column(DateTime, nullable=False, default=datetime.utcnow)
    last_seen_at = Column(DateTime, nullable=False, default=datetime.utcnow)
    expires_at = Column(DateTime, nullable=False)  # absolute limit; idle expiry uses last_seen_at
    ended_at = Column(DateTime)
    user_agent = Column(String(200))

    account = relationship("StaffAccount", back_populates="sessions")
