"""Read access to the catalogue, shared by the command line and the web API.

Every function takes a Session and returns ORM objects loaded eagerly enough to be used after
the session is closed (sessions from database.make_session do not expire on commit).
"""
from __future__ import annotations

from typing import List, NamedTuple, Optional, Union

from sqlalchemy import func, select
from sqlalchemy.orm import Session, selectinload

from knowledge.models import Bundle, BundleMember, Department, Prerequisite, Service, ServicePlace


class DepartmentWithCount(NamedTuple):
    department: Department
    services: int  # how many services it implements


def catalogue_stats(session: Session) -> dict:
    """{"services": N, "departments": N, "bundles": N}"""
    count = lambda model: session.execute(select(func.count()).select_from(model)).scalar_one()  # noqa: E731
    return {"services": count(Service), "departments": count(Department), "bundles": count(Bundle)}


def _service_options():
    return (
        selectinload(Service.department),
        selectinload(Service.co_departments),
        selectinload(Service.parent),
        selectinload(Service.materials),
        selectinload(Service.steps),
        selectinload(Service.place_links).selectinload(ServicePlace.place),
        selectinload(Service.aliases),
        selectinload(Service.prerequisite_links).selectinload(Prerequisite.prerequisite),
    )


def _filing_options():
    return (selectinload(Service.department), selectinload(Service.materials))


def get_service(session: Session, code: str, whole: bool = True) -> Optional[Service]:
    """The service with this implementation code (or, failing that, the only service with this
    basic code), its whole guide loaded; None when there is none. With whole=False only what
    filing needs is loaded (its department and materials; the rest loads on access within the
    session): three queries instead of eleven."""
    options = _service_options() if whole else _filing_options()
    service = session.execute(select(Service).where(Service.code == code).options(*options)).scalar_one_or_none()
    if service is None:
        matches = (
            session.execute(select(Service).where(Service.basic_code == code).options(*options).limit(2))
            .scalars()
            .all()
        )
        service = matches[0] if len(matches) == 1 else None
    return service


def list_departments(session: Session) -> List[DepartmentWithCount]:
    """Every department with the number of services it implements, by name."""
    counts = (
        select(Service.department_id, func.count(Service.id).label("n"))
        .group_by(Service.department_id)
        .subquery()
    )
    rows = session.execute(
        select(Department, func.coalesce(counts.c.n, 0))
        .outerjoin(counts, counts.c.department_id == Department.id)
        .order_by(Department.name)
    ).all()
    return [DepartmentWithCount(department, int(n)) for department, n in rows]


def _bundle_options():
    return (
        selectinload(Bundle.lead_department),
        selectinload(Bundle.partner_departments),
        selectinload(Bundle.members).selectinload(BundleMember.service),
    )


def list_bundles(session: Session) -> List[Bundle]:
    """Every one-thing bundle with its lead department, partners and member services, by name."""
    return list(session.execute(select(Bundle).options(*_bundle_options()).order_by(Bundle.name)).scalars())


def get_bundle(session: Session, code_or_id: Union[str, int]) -> Optional[Bundle]:
    """A bundle by code, or by id (an int or a string of digits); None when there is none."""
    query = select(Bundle).options(*_bundle_options())
    if isinstance(code_or_id, int) or (isinstance(code_or_id, str) and code_or_id.isdigit()):
        bundle = session.execute(query.where(Bundle.id == int(code_or_id))).scalar_one_or_none()
        if bundle is not None or isinstance(code_or_id, int):
            return bundle
    return session.execute(query.where(Bundle.code == str(code_or_id))).scalar_one_or_none()
