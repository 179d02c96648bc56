"""Filings as relational models: applicant profiles, cases (办件) and bundle filings (一件事),
their materials checklists and append-only histories, ratings (好差评), work orders (工单), the
departments' API tokens, and the counters behind readable tracking numbers.

Times are naive UTC (`datetime.utcnow()`), like the rest of the schema; due dates are local
(China) calendar dates. ID and phone numbers are never stored in clear: a keyed hash for
matching, a sealed (encrypted) copy for the handling department, a masked copy for display.
"""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    JSON,
    Boolean,
    Column,
    Date,
    DateTime,
    ForeignKey,
    Integer,
    String,
    Text,
    UniqueConstraint,
    event,
)
from sqlalchemy.orm import relationship

from database.base import Base


def _now() -> datetime:
    return datetime.utcnow()


class ApplicantProfile(Base):
    """A citizen's details, collected once with consent and reused for every later filing
    (源头一次获取、多部门共享)."""

    __tablename__ = "applicant_profiles"

    id = Column(Integer, primary_key=True)
    name = Column(String(100), nullable=False)
    id_hash = Column(String(64), nullable=False, unique=True)  # keyed hash of the ID number
    id_sealed = Column(Text, nullable=False)  # the ID number, encrypted
    id_masked = Column(String(24), nullable=False)  # 4403**********1234
    phone_hash = Column(String(64), nullable=False, index=True)
    phone_sealed = Column(Text, nullable=False)
    phone_masked = Column(String(20), nullable=False)  # 138****5678
    phone_last4 = Column(String(4), nullable=False)  # asked back when tracking a case
    phone_verified = Column(Boolean, nullable=False, default=False)
    address = Column(String(300))
    consent = Column(Boolean, nullable=False, default=False)
    consent_at = Column(DateTime)
    consent_text = Column(String(300))  # what the citizen agreed to
    created_at = Column(DateTime, nullable=False, default=_now)
    updated_at = Column(DateTime, nullable=False, default=_now, onupdate=_now)

    links = relationship("ProfileLink", back_populates="profile", cascade="all, delete-orphan")


class ProfileLink(Base):
    """A channel identity (a WeChat user, a web chat session) known to belong to a profile."""

    __tablename__ = "profile_links"
    __table_args__ = (UniqueConstraint("channel", "sender_id", name="uq_profile_links_channel_sender"),)

    id = Column(Integer, primary_key=True)
    profile_id = Column(ForeignKey("applicant_profiles.id", ondelete="CASCADE"), nullable=False, index=True)
    channel = Column(String(40), nullable=False)
    sender_id = Column(String(128), nullable=False)
    created_at = Column(DateTime, nullable=False, default=_now)
    last_used_at = Column(DateTime, nullable=False, default=_now)

    profile = relationship("ApplicantProfile", back_populates="links")


class NumberSequence(Base):
    """Per-day counters of tracking numbers (key like "case:20261126")."""

    __tablename__ = "number_sequences"

    key = Column(String(40), primary_key=True)
    value = Column(Integer, nullable=False, default=0)


class BundleFiling(Base):
    """One filing of a one-thing bundle: its member cases run in parallel under one number."""

    __tablename__ = "bundle_filings"

    id = Column(Integer, primary_key=True)
    number = Column(String(32), nullable=False, unique=True)  # LGB20261126-0007
    bundle_id = Column(ForeignKey("bundles.id"), nullable=False, index=True)
    profile_id = Column(ForeignKey("applicant_profiles.id"), nullable=False, index=True)
    owner_department_id = Column(ForeignKey("departments.id"), nullable=False)  # 牵头部门, accountable
    owner_label = Column(String(200))
    channel = Column(String(40))
    recipient = Column(String(128))
    status = Column(String(20), nullable=False, default="in_progress", index=True)  # in_progress / completed
    filed_at = Column(DateTime, nullable=False, default=_now)
    due_date = Column(Date)
    completed_at = Column(DateTime)

    bundle = relationship("Bundle")
    profile = relationship("ApplicantProfile")
    owner_department = relationship("Department")
    cases = relationship("Case", back_populates="bundle_filing", order_by="Case.id")


class Case(Base):
    """A case (办件): one application for one service, handled by one department."""

    __tablename__ = "cases"

    id = Column(Integer, primary_key=True)
    number = Column(String(32), nullable=False, unique=True)  # LG20261126-000123
    bundle_filing_id = Column(ForeignKey("bundle_filings.id"), index=True)
    service_id = Column(ForeignKey("services.id"), nullable=False, index=True)
    department_id = Column(ForeignKey("departments.id"), nullable=False, index=True)
    profile_id = Column(ForeignKey("applicant_profiles.id"), nullable=False, index=True)
    # 首问负责: the desk or department that received the case answers for it to the end.
    owner_department_id = Column(ForeignKey("departments.id"), nullable=False)
    owner_label = Column(String(200))
    status = Column(Integer, nullable=False, default=1, index=True)  # national code 1-15
    signed_at = Column(DateTime)
    signed_by = Column(String(100))
    channel = Column(String(40))  # where the citizen filed it, for notifications
    recipient = Column(String(128))
    filed_at = Column(DateTime, nullable=False, default=_now)
    accepted_at = Column(DateTime)
    completed_at = Column(DateTime)
    closed_at = Column(DateTime)
    result = Column(Text)  # the result issued (证照名称, 结论)
    reason = Column(Text)  # the last reason given (不予受理, 不通过, 撤销 ...)
    # The time limit as it was when filed, and the dates derived from it.
    limit_value = Column(Integer)
    limit_unit = Column(String(10))
    immediate = Column(Boolean, nullable=False, default=False)
    due_date = Column(Date, nullable=False, index=True)
    warn_date = Column(Date, nullable=False)
    paused_since = Column(Date)  # the clock stopped (补正, 特别程序) on this local date
    warned_at = Column(DateTime)
    overdue_at = Column(DateTime)
    escalated_at = Column(DateTime)
    escalated_to_id = Column(ForeignKey("departments.id"))
    version = Column(Integer, nullable=False, default=1)
    updated_at = Column(DateTime, nullable=False, default=_now, onupdate=_now)

    __mapper_args__ = {"version_id_col": version}

    bundle_filing = relationship("BundleFiling", back_populates="cases")
    service = relationship("Service")
    department = relationship("Department", foreign_keys=[department_id])
    owner_department = relationship("Department", foreign_keys=[owner_department_id])
    escalated_to = relationship("Department", foreign_keys=[escalated_to_id])
    profile = relationship("ApplicantProfile")
    materials = relationship(
        "CaseMaterial", order_by="CaseMaterial.position", cascade="all, delete-orphan", back_populates="case"
    )
    events = relationship("CaseEvent", order_by="CaseEvent.id", back_populates="case")


class CaseMaterial(Base):
    """One line of a case's materials checklist."""

    __tablename__ = "case_materials"
    __table_args__ = (UniqueConstraint("case_id", "name", name="uq_case_materials_case_name"),)

    id = Column(Integer, primary_key=True)
    case_id = Column(ForeignKey("cases.id", ondelete="CASCADE"), nullable=False, index=True)
    position = Column(Integer, nullable=False, default=0)
    name = Column(String(500), nullable=False)
    required = Column(Boolean, nullable=False, default=True)
    status = Column(String(12), nullable=False, default="missing")  # submitted / missing / tolerated (容缺)
    note = Column(Text)
    updated_at = Column(DateTime, nullable=False, default=_now, onupdate=_now)

    case = relationship("Case", back_populates="materials")


class CaseEvent(Base):
    """One entry of a case's history: append-only (updates and deletes are refused)."""

    __tablename__ = "case_events"

    id = Column(Integer, primary_key=True)
    case_id = Column(ForeignKey("cases.id"), nullable=False, index=True)
    action = Column(String(30), nullable=False)  # file, sign, accept ... or warn, overdue, escalate
    from_status = Column(Integer)
    to_status = Column(Integer)
    actor_kind = Column(String(20), nullable=False)  # department / coordinating / citizen / desk / system
    actor = Column(String(100), nullable=False)  # department code, clerk, channel
    note = Column(Text)
    data = Column(JSON)
    at = Column(DateTime, nullable=False, default=_now)

    case = relationship("Case", back_populates="events")


class WorkOrder(Base):
    """A work order (工单): a complaint, a suggestion, or the follow-up of a bad rating."""

    __tablename__ = "work_orders"

    id = Column(Integer, primary_key=True)
    number = Column(String(32), nullable=False, unique=True)  # LGW20261126-0001
    kind = Column(String(20), nullable=False, index=True)  # complaint / suggestion / rating_followup
    text = Column(Text, nullable=False)  # what the citizen said (ID and phone numbers masked)
    department_id = Column(ForeignKey("departments.id"), nullable=False, index=True)
    routed_by = Column(String(20), nullable=False)  # mention / search / coordinating / case / reassign
    status = Column(String(20), nullable=False, default="dispatched", index=True)
    case_id = Column(ForeignKey("cases.id"), index=True)  # the case it is about, if any
    bundle_filing_id = Column(ForeignKey("bundle_filings.id"), index=True)
    profile_id = Column(ForeignKey("applicant_profiles.id"))
    channel = Column(String(40))
    recipient = Column(String(128))
    filed_at = Column(DateTime, nullable=False, default=_now)
    signed_at = Column(DateTime)
    reply = Column(Text)
    replied_at = Column(DateTime)
    closed_at = Column(DateTime)
    reopen_count = Column(Integer, nullable=False, default=0)
    due_date = Column(Date, nullable=False, index=True)
    warn_date = Column(Date, nullable=False)
    warned_at = Column(DateTime)
    overdue_at = Column(DateTime)
    escalated_at = Column(DateTime)
    escalated_to_id = Column(ForeignKey("departments.id"))
    version = Column(Integer, nullable=False, default=1)
    updated_at = Column(DateTime, nullable=False, default=_now, onupdate=_now)

    __mapper_args__ = {"version_id_col": version}

    department = relationship("Department", foreign_keys=[department_id])
    escalated_to = relationship("Department", foreign_keys=[escalated_to_id])
    case = relationship("Case")
    bundle_filing = relationship("BundleFiling")
    profile = relationship("ApplicantProfile")
    events = relationship("WorkOrderEvent", order_by="WorkOrderEvent.id", back_populates="order")


class WorkOrderEvent(Base):
    """One entry of a work order's history: append-only."""

    __tablename__ = "work_order_events"

    id = Column(Integer, primary_key=True)
    order_id = Column(ForeignKey("work_orders.id"), nullable=False, index=True)
    action = Column(String(30), nullable=False)
    from_status = Column(String(20))
    to_status = Column(String(20))
    actor_kind = Column(String(20), nullable=False)
    actor = Column(String(100), nullable=False)
    note = Column(Text)
    data = Column(JSON)
    at = Column(DateTime, nullable=False, default=_now)

    order = relationship("WorkOrder", back_populates="events")


class Rating(Base):
    """A 好差评 rating of a case or of a whole bundle filing (5 levels)."""

    __tablename__ = "ratings"

    id = Column(Integer, primary_key=True)
    case_id = Column(ForeignKey("cases.id"), unique=True)
    bundle_filing_id = Column(ForeignKey("bundle_filings.id"), unique=True)
    level = Column(Integer, nullable=False)  # 5 非常满意 ... 1 非常不满意
    label = Column(String(10), nullable=False)
    comment = Column(Text)
    channel = Column(String(40))
    created_at = Column(DateTime, nullable=False, default=_now)
    followup_id = Column(ForeignKey("work_orders.id"))  # the work order a bad rating opened

    case = relationship("Case")
    bundle_filing = relationship("BundleFiling")
    followup = relationship("WorkOrder")


class DepartmentToken(Base):
    """A bearer token of a department's API access (only its SHA-256 is stored)."""

    __tablename__ = "department_tokens"

    id = Column(Integer, primary_key=True)
    department_id = Column(ForeignKey("departments.id", ondelete="CASCADE"), nullable=False, index=True)
    token_hash = Column(String(64), nullable=False, unique=True)
    prefix = Column(String(16), nullable=False)  # the token's first characters, to tell tokens apart
    label = Column(String(100))
    created_at = Column(DateTime, nullable=False, default=_now)
    last_used_at = Column(DateTime)
    revoked_at = Column(DateTime)

    department = relationship("Department")


class TrackingFailure(Base):
    """A progress lookup with the wrong phone digits (to stop guessing them)."""

    __tablename__ = "tracking_failures"

    id = Column(Integer, primary_key=True)
    number = Column(String(32), nullable=False, index=True)
    at = Column(DateTime, nullable=False, default=_now, index=True)


# -- histories are append-only ---------------------------------------------------------------------
def _refuse(_mapper, _connection, target) -> None:
    raise RuntimeError(f"{type(target).__name__} rows are append-only: history is never changed or deleted")


for _model in (CaseEvent, WorkOrderEvent):
    event.listen(_model, "before_update", _refuse)
    event.listen(_model, "before_delete", _refuse)
