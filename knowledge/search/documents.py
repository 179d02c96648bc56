"""What search knows of each service, read from the database in a few bulk queries."""
from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from typing import Dict, List, Optional, Tuple

from sqlalchemy import select
from sqlalchemy.orm import Session

from knowledge.models import Bundle, Department, Material, ParentItem, Service, ServiceAlias


@dataclass
class SearchDocument:
    code: str
    name: str
    department: str
    department_short: Optional[str] = None
    department_aliases: Tuple[str, ...] = ()
    parent_code: Optional[str] = None
    parent_name: Optional[str] = None
    variant: Optional[str] = None
    short_name: Optional[str] = None
    aliases: Tuple[str, ...] = ()
    themes: Tuple[str, ...] = ()
    result_name: Optional[str] = None
    kind: str = "service"  # "service" or "bundle"
    members: Tuple[str, ...] = ()  # a bundle's member services (names and aliases)
    body: Tuple[str, ...] = ()  # what the guide says besides names: conditions, materials, service objects, FAQ questions


@dataclass
class Snapshot:
    documents: List[SearchDocument]
    revision: int = 0
    parent_sizes: Dict[str, int] = field(default_factory=dict)


def load_documents(session: Session, include_bundles: bool = True) -> List[SearchDocument]:
    aliases: Dict[int, List[str]] = defaultdict(list)
    for service_id, alias in session.execute(select(ServiceAlias.service_id, ServiceAlias.alias)):
        aliases[service_id].append(alias)
    materials: Dict[int, List[str]] = defaultdict(list)
    for service_id, material in session.execute(
        select(Material.service_id, Material.name).order_by(Material.service_id, Material.position)
    ):
        materials[service_id].append(material)
    rows = session.execute(
        select(
            Service.id,
            Service.code,
            Service.name,
            Service.short_name,
            Service.variant_name,
            Service.themes,
            Service.result_name,
            Department.name,
            Department.short_name,
            Department.aliases,
            ParentItem.code,
            ParentItem.name,
            Service.conditions,
            Service.service_objects,
            Service.faqs,
        )
        .join(Department, Service.department_id == Department.id)
        .outerjoin(ParentItem, Service.parent_id == ParentItem.id)
        .order_by(Service.id)
    )
    documents = [
        SearchDocument(
            code=code,
            name=name,
            department=dept_name,
            department_short=dept_short,
            department_aliases=tuple(dept_aliases or ()),
            parent_code=parent_code,
            parent_name=parent_name,
            variant=variant,
            short_name=short_name,
            aliases=tuple(aliases.get(sid, ())),
            themes=tuple(themes or ()),
            result_name=result_name,
            body=_body(conditions, materials.get(sid, ()), objects, faqs),
        )
        for (
            sid,
            code,
            name,
            short_name,
            variant,
            themes,
            result_name,
            dept_name,
            dept_short,
            dept_aliases,
            parent_code,
            parent_name,
            conditions,
            objects,
            faqs,
        ) in rows
    ]
    if include_bundles:
        by_name: Dict[str, Tuple[str, ...]] = {d.name: d.aliases for d in documents}
        for bundle in session.execute(select(Bundle).order_by(Bundle.id)).scalars():
            members = []
            for member in bundle.members:
                name = member.service.name
                members.append(name)
                members.extend(by_name.get(name, ())[:3])
            documents.append(
                SearchDocument(
                    code=bundle.code,
                    name=bundle.name,
                    department=bundle.lead_department.name,
                    department_short=bundle.lead_department.short_name,
                    aliases=tuple(bundle.aliases or ()),
                    kind="bundle",
                    members=tuple(members),
                )
            )
    return documents


# Texts that say nothing about a service (无受理条件, 无条件受理): left out of its body.
_EMPTY = {"无", "无受理条件", "无条件受理", "无条件办理", "直接申请", "无要求", "不限", "-", "/"}


def _body(conditions, materials, objects, faqs) -> Tuple[str, ...]:
    """Short, telling texts first (search indexes the first few hundred characters): materials,
    FAQ questions, service objects, then the conditions, which can run to pages."""
    parts: List[str] = [m for m in materials if m and m.strip() not in _EMPTY]
    for faq in faqs or ():
        question = faq.get("question") if isinstance(faq, dict) else None
        if question:
            parts.append(question)
    parts.extend(o for o in (objects or ()) if isinstance(o, str) and o.strip())
    if conditions and conditions.strip() not in _EMPTY:
        parts.append(conditions.strip())
    return tuple(parts)
