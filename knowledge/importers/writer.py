"""The upsert machinery the importers share.

An importer turns its input into `ServiceRecord`s (plain data, keyed by codes) after making sure
the departments and places they name exist; `ServiceWriter.write` then creates, updates or skips
each service. A record whose content hash equals `Service.content_hash` is skipped without
touching its row, so importing the same input twice writes nothing.
"""
from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass, field
from typing import Any, Dict, Iterable, List, Optional, Tuple

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from knowledge.importers.report import ImportReport
from knowledge.models import (
    Department,
    Material,
    ParentItem,
    Place,
    Prerequisite,
    ProcessStep,
    Service,
    ServiceAlias,
    ServicePlace,
)

# Bump when the mapping of an importer changes, so that every record is rewritten once.
RECORD_FORMAT_VERSION = 1
STAFF_ORIGIN = "staff"
CHUNK = 500
SERVICES = "services"


def assign(obj: Any, values: Dict[str, Any]) -> bool:
    """Set the attributes that differ; return True when anything changed."""
    changed = False
    for key, value in values.items():
        if getattr(obj, key) != value:
            setattr(obj, key, value)
            changed = True
    return changed


@dataclass
class ServiceRecord:
    """One service as an importer read it, with references by code."""

    where: str  # "line 12" or "<file>: service <code> (<name>)", for problems
    code: str  # implementation code (Service.code)
    department: str  # department code; the department must exist in the writer
    fields: Dict[str, Any]  # scalar Service columns
    co_departments: List[str] = field(default_factory=list)  # department codes
    parent: Optional[Tuple[str, str]] = None  # (code, name)
    materials: List[Dict[str, Any]] = field(default_factory=list)  # Material columns
    steps: List[Dict[str, Any]] = field(default_factory=list)  # ProcessStep columns
    places: List[Tuple[str, Optional[str]]] = field(default_factory=list)  # (place code, window)
    aliases: List[str] = field(default_factory=list)
    alias_origin: str = "catalogue"
    prerequisites: List[Tuple[str, Optional[str]]] = field(default_factory=list)  # (code, note)

    def content_hash(self) -> str:
        data = asdict(self)
        data.pop("where")
        data["_format"] = RECORD_FORMAT_VERSION
        text = json.dumps(data, sort_keys=True, ensure_ascii=False, default=str)
        return hashlib.sha256(text.encode("utf-8")).hexdigest()


class ServiceWriter:
    """Caches departments, places and parent items by code and upserts services in batches."""

    def __init__(self, session: Session, report: ImportReport):
        self.session = session
        self.report = report
        self.departments: Dict[str, Department] = {
            d.code: d for d in session.execute(select(Department).execution_options(populate_existing=True)).scalars()
        }
        self.departments_by_name: Dict[str, Department] = {d.name: d for d in self.departments.values()}
        self.places: Dict[str, Place] = {}
        self.places_by_key: Dict[Tuple[str, str], Place] = {}
        for place in session.execute(select(Place).execution_options(populate_existing=True)).scalars():
            if place.code:
                self.places[place.code] = place
            self.places_by_key[(place.name, place.address)] = place
        self.parents: Dict[str, ParentItem] = {
            p.code: p for p in session.execute(select(ParentItem).execution_options(populate_existing=True)).scalars()
        }
        self.existing: Dict[str, Tuple[int, Optional[str]]] = {
            code: (id_, hash_)
            for id_, code, hash_ in session.execute(
                select(Service.id, Service.code, Service.content_hash)
            )
        }

    # -- referenced entities -----------------------------------------------------------
    def touch(self) -> None:
        """Something other than a counted record changed (a department, place, parent)."""
        self.report.changed = True

    def add_department(self, department: Department) -> None:
        self.session.add(department)
        self.departments[department.code] = department
        self.departments_by_name[department.name] = department
        self.touch()

    def ensure_department(self, code: str, name: str, **values: Any) -> Department:
        """Find a department by name, then by code, or create it; keep its fields up to date
        when it is ours (same code). Used by importers that name departments but do not own
        a department list."""
        department = self.departments_by_name.get(name)
        if department is None:
            department = self.departments.get(code)
            if department is not None and department.name != name:
                del self.departments_by_name[department.name]
                department.name = name
                self.departments_by_name[name] = department
                self.touch()
        if department is None:
            department = Department(code=code, name=name, coordinating=False, aliases=[], **values)
            self.add_department(department)
        elif department.code == code and assign(department, values):
            self.touch()
        return department

    def ensure_place(self, code: str, name: str, address: str, **values: Any) -> Place:
        place = self.places.get(code) or self.places_by_key.get((name, address))
        if place is None:
            place = Place(code=code, name=name, address=address, **values)
            self.session.add(place)
            self.places[code] = place
            self.places_by_key[(name, address)] = place
            self.touch()
        return place

    def _parent(self, code: str, name: str) -> ParentItem:
        parent = self.parents.get(code)
        if parent is None:
            parent = ParentItem(code=code, name=name)
            self.session.add(parent)
            self.parents[code] = parent
            self.touch()
        elif parent.name != name:
            parent.name = name
            self.touch()
        return parent

    # -- services ----------------------------------------------------------------------
    def write(self, records: Iterable[ServiceRecord]) -> Dict[str, Service]:
        """Create, update or skip every record; return the services written, by code."""
        pending: List[Tuple[ServiceRecord, str]] = []
        seen: Dict[str, str] = {}
        for record in records:
            if record.code in seen:
                self.report.error(record.where, f"code {record.code} already used at {seen[record.code]}")
                self.report.count(SERVICES, "failed")
                continue
            seen[record.code] = record.where
            digest = record.content_hash()
            existing = self.existing.get(record.code)
            if existing is not None and existing[1] == digest:
                self.report.count(SERVICES, "unchanged")
                continue
            pending.append((record, digest))
        if not pending:
            return {}

        for record, _ in pending:
            if record.parent:
                self._parent(*record.parent)
        self.session.flush()  # ids for new departments, places and parents

        written: Dict[str, Service] = {}
        created: set = set()
        for start in range(0, len(pending), CHUNK):
            chunk = pending[start : start + CHUNK]
            update_ids = [self.existing[r.code][0] for r, _ in chunk if r.code in self.existing]
            loaded: Dict[str, Service] = {}
            if update_ids:
                query = (
                    select(Service)
                    .where(Service.id.in_(update_ids))
                    .options(
                        selectinload(Service.materials),
                        selectinload(Service.steps),
                        selectinload(Service.place_links),
                        selectinload(Service.aliases),
                        selectinload(Service.co_departments),
                        selectinload(Service.prerequisite_links),
                    )
                    # Refresh objects the session already holds (sessions do not expire on
                    # commit here, so their collections may predate rows added elsewhere).
                    .execution_options(populate_existing=True)
                )
                loaded = {s.code: s for s in self.session.execute(query).scalars()}
            for record, digest in chunk:
                service = loaded.get(record.code)
                if service is None:
                    service = Service(code=record.code)
                    self.session.add(service)
                    created.add(record.code)
                    self.report.count(SERVICES, "created")
                else:
                    self.report.count(SERVICES, "updated")
                self._apply(service, record, digest)
                written[record.code] = service
            self.session.flush()
            for service in loaded.values():
                # department_id / parent_id were set directly: reload the objects on next access.
                self.session.expire(service, ["department", "parent"])

        self._link_prerequisites([r for r, _ in pending], written, created)
        return written

    def _apply(self, service: Service, record: ServiceRecord, digest: str) -> None:
        assign(service, record.fields)
        service.content_hash = digest
        service.department_id = self.departments[record.department].id
        service.parent_id = self.parents[record.parent[0]].id if record.parent else None
        co_departments = [self.departments[code] for code in dict.fromkeys(record.co_departments)]
        if {id(d) for d in service.co_departments} != {id(d) for d in co_departments}:  # unordered
            service.co_departments = co_departments
        service.materials = [Material(position=i, **m) for i, m in enumerate(record.materials)]
        service.steps = [ProcessStep(position=i, **s) for i, s in enumerate(record.steps)]

        # Place links, keyed by place so that a kept link is updated, not deleted and re-added.
        links = {link.place_id: link for link in service.place_links} if service.id else {}
        wanted: Dict[int, Optional[str]] = {}
        for code, window in record.places:
            wanted.setdefault(self.places[code].id, window)
        for place_id, link in list(links.items()):
            if place_id not in wanted:
                service.place_links.remove(link)
        for place_id, window in wanted.items():
            link = links.get(place_id)
            if link is None:
                service.place_links.append(ServicePlace(place_id=place_id, window=window))
            elif link.window != window:
                link.window = window

        # Aliases: staff-made ones stay; the importer's own are replaced by the record's.
        current = {a.alias: a for a in service.aliases} if service.id else {}
        wanted_aliases = list(dict.fromkeys(a for a in record.aliases if a))
        for text, alias in list(current.items()):
            if alias.origin != STAFF_ORIGIN and text not in wanted_aliases:
                service.aliases.remove(alias)
        for text in wanted_aliases:
            alias = current.get(text)
            if alias is None:
                service.aliases.append(ServiceAlias(alias=text, origin=record.alias_origin))
            elif alias.origin != STAFF_ORIGIN and alias.origin != record.alias_origin:
                alias.origin = record.alias_origin

    def _link_prerequisites(
        self, records: List[ServiceRecord], written: Dict[str, Service], created: set
    ) -> None:
        needed = {code for r in records for code, _ in r.prerequisites}
        ids: Dict[str, int] = {}
        if needed:
            ids = dict(
                self.session.execute(select(Service.code, Service.id).where(Service.code.in_(needed))).all()
            )
        for record in records:
            if not record.prerequisites and record.code in created:
                continue  # a new service without prerequisites has no links to sync
            service = written[record.code]
            current = {link.prerequisite_id: link for link in service.prerequisite_links}
            wanted: Dict[int, Optional[str]] = {}
            for code, note in record.prerequisites:
                if code not in ids:
                    self.report.warning(record.where, f"prerequisite service {code} not found; link skipped")
                    continue
                wanted.setdefault(ids[code], note)
            for prerequisite_id, link in current.items():
                if prerequisite_id not in wanted:
                    service.prerequisite_links.remove(link)
            for prerequisite_id, note in wanted.items():
                link = current.get(prerequisite_id)
                if link is None:
                    service.prerequisite_links.append(Prerequisite(prerequisite_id=prerequisite_id, note=note))
                elif link.note != note:
                    link.note = note
        self.session.flush()
