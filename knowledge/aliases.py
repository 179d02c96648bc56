"""Aliases that staff add to services: the learning loop's one action.

A phrase citizens used that the bot could not place (a colloquial name such as 绿本) becomes a
name of the service it meant (`ServiceAlias`, origin "staff"). Adding or removing one bumps the
catalogue revision, so every search service rebuilds its index from the database: at once in the
process that calls `SearchService.refresh(wait=True)` (the desk), within its check interval
elsewhere (the action server). No retraining: the bot finds services by search, not by NLU.
Importers keep aliases with origin "staff" (knowledge.importers.writer). The caller commits.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime
from typing import List, Optional

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, selectinload

from knowledge.models import Service, ServiceAlias
from knowledge.revision import bump_revision
from knowledge.search.text import normalize

STAFF_ORIGIN = "staff"
MAX_ALIAS_LENGTH = 50
# Punctuation that ends a question but is no part of a name (办绿本？ -> 办绿本).
_EDGE_PUNCTUATION = " \t\r\n?？!！。.,，、;；:：~～…\"'“”‘’"


class AliasError(ValueError):
    """An alias that cannot be added or removed; `message` is Chinese (for staff), `detail` English."""

    def __init__(self, message: str, detail: str, status: int = 422, code: str = "invalid_alias"):
        super().__init__(detail)
        self.message, self.detail, self.status, self.code = message, detail, status, code


@dataclass
class AddedAlias:
    id: int
    alias: str
    service_code: str
    service_name: str
    department: str
    revision: int
    also_alias_of: List[dict] = field(default_factory=list)  # other services with the same alias

    def view(self) -> dict:
        return {
            "id": self.id,
            "alias": self.alias,
            "service": {"code": self.service_code, "name": self.service_name, "department": self.department},
            "revision": self.revision,
            "also_alias_of": self.also_alias_of,
        }


def clean_phrase(text: Optional[str]) -> str:
    """The phrase as it will be stored: white space collapsed, edge punctuation removed."""
    return re.sub(r"\s+", " ", text or "").strip(_EDGE_PUNCTUATION).strip()


def _service(session: Session, code: str) -> Service:
    service = session.execute(
        select(Service).where(Service.code == (code or "").strip())
        .options(selectinload(Service.aliases), selectinload(Service.department))
    ).scalar_one_or_none()
    if service is None:
        raise AliasError(f"未找到编码为 {code} 的事项。", f"no service with code {code!r}", status=404,
                         code="service_not_found")
    return service


def add_staff_alias(session: Session, service_code: str, phrase: str) -> AddedAlias:
    """Add `phrase` as an alias of the service and bump the catalogue revision.

    Refused (AliasError): an empty phrase or one longer than MAX_ALIAS_LENGTH (422), an unknown
    service (404), a phrase that already is this service's name or one of its aliases (409). A
    phrase that is an alias of another service is allowed; `also_alias_of` lists those services.
    """
    text = clean_phrase(phrase)
    if not text:
        raise AliasError("别名不能为空。", "the alias is empty")
    if len(text) > MAX_ALIAS_LENGTH:
        raise AliasError(f"别名不能超过{MAX_ALIAS_LENGTH}个字。", f"alias longer than {MAX_ALIAS_LENGTH} characters")
    service = _service(session, service_code)
    key = normalize(text)
    if key in (normalize(service.name), normalize(service.short_name or "")):
        raise AliasError(f"“{text}”就是事项“{service.name}”的名称，无需添加为别名。",
                         f"{text!r} is the name of service {service.code}", status=409, code="alias_exists")
    if any(normalize(a.alias) == key for a in service.aliases):
        raise AliasError(f"“{text}”已经是事项“{service.name}”的别名。",
                         f"{text!r} is already an alias of service {service.code}", status=409, code="alias_exists")
    others = session.execute(
        select(Service.code, Service.name).join(ServiceAlias, ServiceAlias.service_id == Service.id)
        .where(func.lower(ServiceAlias.alias) == text.lower(), Service.id != service.id)
        .order_by(Service.name)
    ).all()
    alias = ServiceAlias(service_id=service.id, alias=text, origin=STAFF_ORIGIN, created_at=datetime.utcnow())
    session.add(alias)
    try:
        session.flush()
    except IntegrityError:  # the same alias added by someone else a moment ago
        session.rollback()
        raise AliasError(f"“{text}”已经是事项“{service.name}”的别名。",
                         f"{text!r} was just added to service {service.code}", status=409,
                         code="alias_exists") from None
    revision = bump_revision(session)
    return AddedAlias(
        id=alias.id, alias=text, service_code=service.code, service_name=service.name,
        department=service.department.name if service.department else "", revision=revision,
        also_alias_of=[{"code": code, "name": name} for code, name in others],
    )


def remove_staff_alias(session: Session, alias_id: int) -> dict:
    """Remove an alias staff added (catalogue aliases belong to the catalogue) and bump the revision."""
    alias = session.get(ServiceAlias, alias_id)
    if alias is None or alias.origin != STAFF_ORIGIN:
        raise AliasError("未找到这个由工作人员添加的别名。", f"no staff alias with id {alias_id}", status=404,
                         code="alias_not_found")
    view = {"id": alias.id, "alias": alias.alias, "service": {"code": alias.service.code, "name": alias.service.name}}
    session.delete(alias)
    session.flush()
    view["revision"] = bump_revision(session)
    return view


def staff_aliases(session: Session, limit: int = 50) -> List[dict]:
    """The aliases staff added, newest first."""
    rows = session.execute(
        select(ServiceAlias, Service.code, Service.name)
        .join(Service, Service.id == ServiceAlias.service_id)
        .where(ServiceAlias.origin == STAFF_ORIGIN)
        .order_by(ServiceAlias.created_at.desc(), ServiceAlias.id.desc())
        .limit(limit)
    ).all()
    return [
        {"id": alias.id, "alias": alias.alias, "service": {"code": code, "name": name},
         "created_at": alias.created_at.isoformat() + "Z" if alias.created_at else None}
        for alias, code, name in rows
    ]
