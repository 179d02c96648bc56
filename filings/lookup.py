"""Finding cases, bundle filings, work orders and departments (shared by the other modules)."""
from __future__ import annotations

from typing import Optional

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from filings.errors import NotFound
from filings.models import BundleFiling, Case, WorkOrder
from filings.numbers import normalize_number
from knowledge.models import Department

CASE_NOT_FOUND = "未找到该办件，请核对办件编号。"


def find_case(session: Session, number: str) -> Optional[Case]:
    canonical = normalize_number(number)
    if canonical is None:
        return None
    return session.execute(
        select(Case).where(Case.number == canonical).options(selectinload(Case.materials))
    ).scalar_one_or_none()


def get_case(session: Session, number: str) -> Case:
    case = find_case(session, number)
    if case is None:
        raise NotFound(CASE_NOT_FOUND, f"no case {number!r}", code="case_not_found")
    return case


def find_bundle_filing(session: Session, number: str) -> Optional[BundleFiling]:
    canonical = normalize_number(number)
    if canonical is None:
        return None
    return session.execute(
        select(BundleFiling).where(BundleFiling.number == canonical).options(selectinload(BundleFiling.cases))
    ).scalar_one_or_none()


def find_order(session: Session, number: str) -> Optional[WorkOrder]:
    canonical = normalize_number(number)
    if canonical is None:
        return None
    return session.execute(select(WorkOrder).where(WorkOrder.number == canonical)).scalar_one_or_none()


def get_order(session: Session, number: str) -> WorkOrder:
    order = find_order(session, number)
    if order is None:
        raise NotFound("未找到该工单，请核对工单编号。", f"no work order {number!r}", code="order_not_found")
    return order


def department_by_code(session: Session, code: str) -> Department:
    department = session.execute(select(Department).where(Department.code == code)).scalar_one_or_none()
    if department is None:
        raise NotFound("未找到该部门。", f"no department with code {code!r}", code="department_not_found")
    return department


def coordinating_department(session: Session) -> Optional[Department]:
    """The coordinating office (统筹协调部门) marked in the catalogue, or None when none is."""
    return session.execute(
        select(Department).where(Department.coordinating.is_(True)).order_by(Department.id).limit(1)
    ).scalar_one_or_none()
